//! The tutorial's pages (`src/tutorial/*.md`) are doctests, run by `cargo test --doc`. These
//! tests check what a doctest cannot see: the pages themselves.

use std::fs;
use std::path::{Path, PathBuf};

fn pages() -> Vec<(PathBuf, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/tutorial");
    let mut pages: Vec<(PathBuf, String)> = fs::read_dir(&dir)
        .expect("src/tutorial exists")
        .map(|entry| entry.expect("a readable entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "md"))
        .map(|path| {
            let text = fs::read_to_string(&path).expect("a readable page");
            (path, text)
        })
        .collect();
    pages.sort();
    pages
}

/// The lines of each ```rust block of `page`, fences excluded.
fn rust_blocks(page: &str) -> Vec<Vec<&str>> {
    let mut blocks = Vec::new();
    let mut current: Option<Vec<&str>> = None;
    for line in page.lines() {
        match (&mut current, line.trim_start()) {
            (None, fence) if fence.starts_with("```rust") => current = Some(Vec::new()),
            (Some(_), "```") => blocks.push(current.take().expect("inside a block")),
            (Some(block), _) => block.push(line),
            (None, _) => {}
        }
    }
    blocks
}

/// A hidden doctest line (`# code`, or `#` alone for a blank one) without its marker.
fn unhide(line: &str) -> Option<&str> {
    match line {
        "#" => Some(""),
        _ => line.strip_prefix("# "),
    }
}

#[test]
fn every_chapter_is_a_module_of_the_tutorial() {
    let index = include_str!("../src/tutorial/mod.rs");
    let pages = pages();
    assert_eq!(pages.len(), 10, "ten chapters");
    for (path, _) in &pages {
        let name = path.file_name().unwrap().to_str().unwrap();
        let module = name.trim_end_matches(".md");
        assert!(
            index.contains(&format!(
                "#[doc = include_str!(\"{name}\")]\npub mod {module} {{}}"
            )),
            "{name} is not included as `pub mod {module}` in src/tutorial/mod.rs"
        );
    }
}

#[test]
fn every_block_that_prints_also_asserts() {
    for (path, page) in pages() {
        for block in rust_blocks(&page) {
            let code = block.join("\n");
            if code.contains("println!") {
                assert!(
                    code.contains("assert"),
                    "{}: a block prints without checking what it prints:\n{code}",
                    path.display()
                );
            }
        }
    }
}

#[test]
fn chapter_3_hides_the_very_tape_it_lists() {
    let page = include_str!("../src/tutorial/ch03_tape_from_scratch.md");
    let blocks = rust_blocks(page);
    let end = "// That is the whole tape. Now use it.";
    let listed = blocks[0]
        .iter()
        .position(|line| *line == end)
        .expect("the first block lists the tape");
    let listing = &blocks[0][..=listed];
    assert!(listing.len() > 80, "the tape is {} lines", listing.len());
    let mut copies = 0;
    for block in &blocks[1..] {
        let hidden: Vec<&str> = block.iter().map_while(|line| unhide(line)).collect();
        if hidden.is_empty() {
            continue;
        }
        assert_eq!(
            &hidden[..listing.len().min(hidden.len())],
            listing,
            "a hidden copy of the tape differs from the listing"
        );
        copies += 1;
    }
    assert!(copies >= 1, "no later block uses the tape");
}

/// (title, time) of each row of a chapter table whose first cell is `N. Title` (in the
/// README) or `[N. Title](module)` (in the tutorial's index).
fn chapter_rows(table: &str) -> Vec<(String, String)> {
    table
        .lines()
        .map(|line| line.trim_start_matches("//!").trim())
        .filter(|line| line.starts_with('|'))
        .map(|line| line.split('|').map(str::trim).collect::<Vec<_>>())
        .filter(|cells| {
            cells.len() >= 4
                && cells[1]
                    .trim_start_matches('[')
                    .starts_with(|c: char| c.is_ascii_digit())
        })
        .map(|cells| {
            let title = cells[1].trim_start_matches('[');
            let title = title.split("](").next().unwrap_or(title);
            (title.to_string(), cells[cells.len() - 2].to_string())
        })
        .collect()
}

#[test]
fn the_readme_lists_the_chapters_and_times_of_the_tutorial() {
    let index = chapter_rows(include_str!("../src/tutorial/mod.rs"));
    let readme = include_str!("../README.md");
    let learn = &readme[readme.find("## Learn").expect("a Learn section")..];
    let learn = &learn[..learn[3..].find("\n## ").map_or(learn.len(), |end| end + 3)];
    assert_eq!(index.len(), 10, "{index:?}");
    assert_eq!(chapter_rows(learn), index);
}
