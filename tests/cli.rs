//! The `tapegrad` binary end to end: the main job, `fit`, `predict` and `compare` on small
//! CSV files written into a temporary folder, and every kind of bad input, which must end in
//! one `error: …` line, exit code 1, no panic, and no output file.

mod common;

use std::path::{Path, PathBuf};

use common::{fails, folder, ok, plane, run};
use tapegrad::models::io::{load, read_metadata};
use tapegrad::models::module::Module;
use tapegrad::models::LinearRegression;

/// The numbers in the first column of CSV `text` after its header.
fn first_column(text: &str) -> Vec<f64> {
    text.lines()
        .skip(1)
        .map(|line| line.split(',').next().unwrap().parse().unwrap())
        .collect()
}

#[test]
fn no_arguments_runs_the_main_job_and_matches_the_closed_form() {
    let dir = folder(&[]);
    let out = ok(dir.path(), "");
    assert!(out.contains("Galton"), "{out}");
    assert!(out.contains("standardised"), "{out}");
    assert!(
        out.contains("epoch     10  loss"),
        "the loss as it goes:\n{out}"
    );
    assert!(out.contains("stopped: gradient norm"), "{out}");
    // The coefficient table: name, descent, closed form, |diff|.
    let rows: Vec<Vec<&str>> = out
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .filter(|w| w.len() == 4 && ["father", "mother", "male", "bias"].contains(&w[0]))
        .collect();
    assert_eq!(rows.len(), 4, "{out}");
    for row in rows {
        let (descent, exact): (f64, f64) = (row[1].parse().unwrap(), row[2].parse().unwrap());
        assert!((descent - exact).abs() < 1e-6, "{row:?}");
    }
}

#[test]
fn help_describes_every_command_and_option() {
    let dir = folder(&[]);
    let top = ok(dir.path(), "--help");
    for command in ["fit", "predict", "compare"] {
        assert!(top.contains(command), "{top}");
    }
    let fit = ok(dir.path(), "fit --help");
    for flag in [
        "--csv",
        "--target",
        "--features",
        "--model",
        "--hidden",
        "--optimizer",
        "--lr",
        "--epochs",
        "--batch-size",
        "--standardize",
        "--seed",
        "--test-split",
        "--save",
        "--plot",
        "nesterov",
        "lbfgs",
        "mlp",
    ] {
        assert!(fit.contains(flag), "fit --help lacks {flag}");
    }
    let predict = ok(dir.path(), "predict --help");
    assert!(predict.contains("--model") && predict.contains("--csv"));
    let compare = ok(dir.path(), "compare --help");
    assert!(compare.contains("--target") && compare.contains("--epochs"));
}

#[test]
fn fit_recovers_the_plane_and_predict_matches_the_saved_weights() {
    let (csv, rows) = plane();
    let dir = folder(&[("plane.csv", &csv)]);
    let out = ok(
        dir.path(),
        "fit --csv plane.csv --target y --optimizer lbfgs --save plane.safetensors",
    );
    assert!(out.contains("R² 1.0000"), "{out}");
    assert!(out.contains("test:"), "a test split by default: {out}");
    let path = dir.path().join("plane.safetensors");

    let metadata = read_metadata(&path).unwrap();
    assert_eq!(metadata["model"], "linear");
    assert_eq!(metadata["features"], "x1,x2");
    assert_eq!(metadata["target"], "y");
    let model = LinearRegression::<f64>::new(2);
    load(&model, &path).unwrap();
    let (w, b) = (model.weights(), model.bias());
    for (got, want) in w.iter().chain([&b]).zip([2.0, -3.0, 1.0]) {
        assert!((got - want).abs() < 1e-6, "{w:?} {b}");
    }

    let predicted = first_column(&ok(
        dir.path(),
        "predict --model plane.safetensors --csv plane.csv",
    ));
    assert_eq!(predicted.len(), rows.len());
    for (p, [x1, x2, _]) in predicted.iter().zip(&rows) {
        let by_hand = w[0] * x1 + w[1] * x2 + b;
        assert!((p - by_hand).abs() < 1e-12, "{p} vs {by_hand}");
    }
}

#[test]
fn a_standardised_mlp_predicts_what_fit_reported() {
    let (csv, rows) = plane();
    let dir = folder(&[("plane.csv", &csv)]);
    let out = ok(
        dir.path(),
        "fit --csv plane.csv --target y --model mlp --hidden 8 --optimizer adam --lr 0.02 --epochs 300 --batch-size 16 --standardize --test-split 0 --save mlp.safetensors",
    );
    // "train: MSE 0.012345, R² …": the predictions must reproduce that MSE.
    let reported: f64 = out
        .split("train: MSE ")
        .nth(1)
        .and_then(|s| s.split(',').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no train MSE in {out}"));
    let metadata = read_metadata(dir.path().join("mlp.safetensors")).unwrap();
    assert_eq!(metadata["hidden"], "8");
    assert!(metadata.contains_key("standardizer.mean"));
    let predicted = first_column(&ok(
        dir.path(),
        "predict --model mlp.safetensors --csv plane.csv",
    ));
    let mse = predicted
        .iter()
        .zip(&rows)
        .map(|(p, r)| (p - r[2]).powi(2))
        .sum::<f64>()
        / rows.len() as f64;
    assert!(
        (mse - reported).abs() < 1e-6,
        "{mse} vs reported {reported}"
    );
    assert!(reported < 0.1, "the MLP learned the plane: {out}");
}

#[test]
fn logistic_regression_learns_labels_and_predicts_them_with_probabilities() {
    let mut csv = String::from("size,weight,animal\n");
    for i in 0..30 {
        let (size, weight, animal) = if i % 2 == 0 {
            (1.0 + f64::from(i) * 0.01, 4.0, "cat")
        } else {
            (3.0 + f64::from(i) * 0.01, 30.0, "dog")
        };
        csv.push_str(&format!("{size},{weight},{animal}\n"));
    }
    let dir = folder(&[("pets.csv", &csv)]);
    let out = ok(
        dir.path(),
        "fit --csv pets.csv --target animal --model logistic --optimizer adam --lr 0.1 --epochs 200 --standardize --save pets.safetensors",
    );
    assert!(out.contains("train: accuracy 100.00%"), "{out}");
    let predictions = ok(
        dir.path(),
        "predict --model pets.safetensors --csv pets.csv",
    );
    let mut lines = predictions.lines();
    assert_eq!(lines.next(), Some("animal,p(cat),p(dog)"));
    for (i, line) in lines.enumerate() {
        let cells: Vec<&str> = line.split(',').collect();
        assert_eq!(cells[0], if i % 2 == 0 { "cat" } else { "dog" }, "row {i}");
        let p: f64 = cells[1].parse::<f64>().unwrap() + cells[2].parse::<f64>().unwrap();
        assert!((p - 1.0).abs() < 1e-12);
    }
}

#[test]
fn compare_runs_every_optimizer() {
    let (csv, _) = plane();
    let dir = folder(&[("plane.csv", &csv)]);
    let out = ok(
        dir.path(),
        "compare --csv plane.csv --target y --epochs 200 --standardize",
    );
    for name in ["sgd", "momentum", "nesterov", "adam", "adamw", "lbfgs"] {
        assert!(
            out.lines().any(|l| l.starts_with(name)),
            "no row for {name}:\n{out}"
        );
    }
    let lbfgs = out.lines().find(|l| l.starts_with("lbfgs")).unwrap();
    assert!(lbfgs.contains("gradient norm"), "{lbfgs}");
}

#[test]
fn the_loss_plot_is_an_svg_with_axes_and_labels_and_progress_is_plain_off_a_terminal() {
    let (csv, _) = plane();
    let dir = folder(&[("plane.csv", &csv)]);
    let out = ok(
        dir.path(),
        "fit --csv plane.csv --target y --standardize --plot loss.svg",
    );
    assert!(
        out.contains("epoch      0  loss"),
        "plain lines when piped: {out}"
    );
    let svg = std::fs::read_to_string(dir.path().join("loss.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    assert!(svg.contains("<polyline"), "the curve");
    assert!(svg.contains("<line"), "the axes and grid");
    for label in ["epoch", "training loss", "linear regression, sgd"] {
        assert!(svg.contains(label), "no {label:?} in the SVG");
    }
}

#[test]
fn bad_csv_files_are_one_line_errors() {
    let dir = folder(&[
        ("one.csv", "a,b,y\n1,2,3\n"),
        ("empty.csv", "a,b,y\n1,2,3\n4,,6\n7,8,9\n"),
        ("words.csv", "a,b,y\n1,2,3\n4,five,6\n7,8,9\n"),
        ("nan.csv", "a,b,y\n1,2,3\n4,5,NaN\n7,8,9\n"),
        ("ragged.csv", "a,b,y\n1,2,3\n4,5\n"),
        ("blank.csv", ""),
        ("labels.csv", "a,y\n1,cat\n2,cat\n3,cat\n"),
    ]);
    let fit = |csv: &str, options: &str, expected: &str| {
        let args = format!("fit --csv {csv} --target y {options}");
        fails(dir.path(), &args, expected);
    };
    fit("absent.csv", "", "cannot read \"absent.csv\": No such file");
    fit(
        "one.csv",
        "",
        "\"one.csv\": 1 data row; fitting needs at least 2",
    );
    fit(
        "empty.csv",
        "",
        "\"empty.csv\" line 3, column \"b\": the cell is empty",
    );
    fit(
        "words.csv",
        "",
        "\"words.csv\" line 3, column \"b\": \"five\" is not a number",
    );
    fit(
        "nan.csv",
        "",
        "\"nan.csv\" line 3, column \"y\": NaN is not a finite number",
    );
    fit("ragged.csv", "", "line 3: 2 fields, but the header has 3");
    fit("blank.csv", "", "the file is empty");
    fit(
        "labels.csv",
        "--model logistic",
        "holds one class (\"cat\"); classification needs at least 2",
    );
    fit(
        "one.csv",
        "--features a,c",
        "no column \"c\"; the columns are \"a\", \"b\", \"y\"",
    );
    fails(
        dir.path(),
        "fit --csv one.csv --target z",
        "no column \"z\"; the columns are \"a\", \"b\", \"y\"",
    );
}

#[test]
fn bad_options_are_one_line_errors() {
    let (csv, _) = plane();
    let dir = folder(&[("plane.csv", &csv)]);
    let fit = |options: &str, expected: &str| {
        let args = format!("fit --csv plane.csv --target y {options}");
        fails(dir.path(), &args, expected);
    };
    fit(
        "--optimizer lbfgs --lr 0.1",
        "L-BFGS takes no learning rate",
    );
    fit(
        "--lr -1",
        "--lr -1: a learning rate must be a positive number",
    );
    fit("--test-split 1", "--test-split 1: it must be in [0, 1)");
    fit("--hidden 4", "--hidden applies to --model mlp, not linear");
    fit("--features x1,y", "--features includes the target \"y\"");
    fit(
        "--model linear --task classification",
        "--model linear predicts numbers",
    );
}

#[test]
fn outputs_are_written_whole_or_not_at_all() {
    let (csv, _) = plane();
    let dir = folder(&[("plane.csv", &csv), ("model.safetensors", "an older model")]);
    let fit = |options: &str, expected: &str| {
        let args = format!("fit --csv plane.csv --target y {options}");
        fails(dir.path(), &args, expected);
    };
    fit(
        "--save missing/model.safetensors",
        "cannot write \"missing/model.safetensors\": its folder \"missing\" does not exist",
    );
    std::fs::create_dir(dir.path().join("curve.svg")).unwrap();
    fit(
        "--plot curve.svg",
        "cannot write \"curve.svg\": it is a folder",
    );
    fit(
        "--plot loss.png",
        "the loss curve is drawn as SVG; name the file *.svg",
    );
    // Raw features at lr 5 diverge: nothing is saved, the older file is untouched.
    fit(
        "--lr 5 --save model.safetensors --plot loss.svg",
        "training diverged",
    );
    let old = std::fs::read_to_string(dir.path().join("model.safetensors")).unwrap();
    assert_eq!(old, "an older model");
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| PathBuf::from(e.unwrap().file_name()))
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["curve.svg", "model.safetensors", "plane.csv"].map(PathBuf::from),
        "no plot, no temporary files"
    );
    // A successful fit replaces the older file whole.
    ok(
        dir.path(),
        "fit --csv plane.csv --target y --standardize --save model.safetensors --plot loss.svg",
    );
    load(
        &LinearRegression::<f64>::new(2),
        dir.path().join("model.safetensors"),
    )
    .unwrap();
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        4,
        "no temporary files"
    );
}

#[test]
fn predict_rejects_models_and_csvs_it_cannot_use() {
    let (csv, _) = plane();
    let dir = folder(&[
        ("plane.csv", &csv),
        ("other.csv", "x1,z\n1,2\n"),
        ("bad.safetensors", "not a model"),
    ]);
    ok(
        dir.path(),
        "fit --csv plane.csv --target y --save m.safetensors",
    );
    let predict = |model: &str, csv: &str, expected: &str| {
        fails(
            dir.path(),
            &format!("predict --model {model} --csv {csv}"),
            expected,
        );
    };
    predict(
        "m.safetensors",
        "other.csv",
        "no column \"x2\"; the columns are \"x1\", \"z\"",
    );
    predict("absent.safetensors", "plane.csv", "absent.safetensors");
    predict(
        "bad.safetensors",
        "plane.csv",
        "not a valid safetensors file",
    );
    predict("m.safetensors", "absent.csv", "cannot read \"absent.csv\"");

    // Weights saved without the CLI's metadata.
    let plain = dir.path().join("plain.safetensors");
    tapegrad::models::io::save(&LinearRegression::<f64>::new(2), &plain).unwrap();
    predict(
        "plain.safetensors",
        "plane.csv",
        "its metadata has no \"format\"",
    );

    // The CLI's metadata, edited to describe a model that cannot exist.
    let mut metadata = read_metadata(dir.path().join("m.safetensors")).unwrap();
    metadata.insert("task".into(), "classification".into());
    let edited = dir.path().join("edited.safetensors");
    let model = LinearRegression::<f64>::new(2);
    tapegrad::models::io::save_with_metadata(&model, &metadata, &edited).unwrap();
    predict(
        "edited.safetensors",
        "plane.csv",
        "model linear cannot do classification",
    );
}

// ---------------------------------------------------------------------------------------
// The command-line defects of the training-workflow issue, one test each: every one was a
// silent wrong answer or a lost file.

/// 30 rows of y = 3x + 1 with a little deterministic wobble: one feature, so after
/// standardising the squared error's curvature is 2 in every direction and gradient descent
/// diverges, slowly, for any lr just above 1.
fn line_csv() -> String {
    let mut csv = String::from("x,y\n");
    for i in 0..30 {
        let x = f64::from(i) / 3.0;
        csv.push_str(&format!("{x},{}\n", 3.0 * x + 1.0 + 0.1 * f64::from(i % 3)));
    }
    csv
}

/// The weights and bias of the linear model saved at `path`.
fn saved_linear(path: &Path, features: usize) -> (Vec<f64>, f64) {
    let model = LinearRegression::<f64>::new(features);
    load(&model, path).unwrap();
    (model.weights(), model.bias())
}

#[test]
fn epochs_n_is_n_updates_and_one_epoch_trains() {
    // One epoch of full-batch SGD from w = 0, b = ȳ on L = mean((ŷ − y)²) is exactly one
    // update: w₁ = −lr·∂L/∂w = lr·(2/n)·Xᵀ(y − ȳ), and b stays ȳ (Σ(y − ȳ) = 0).
    let (csv, rows) = plane();
    let dir = folder(&[("plane.csv", &csv)]);
    let out = ok(
        dir.path(),
        "fit --csv plane.csv --target y --test-split 0 --epochs 1 --save one.safetensors",
    );
    assert!(
        out.contains("at most 1 epoch;") || out.contains("at most 1 epoch\n"),
        "{out}"
    );
    assert!(
        out.contains("after 1 epoch;"),
        "singular, and epochs: {out}"
    );
    let n = rows.len() as f64;
    let mean = rows.iter().map(|r| r[2]).sum::<f64>() / n;
    let expected: Vec<f64> = (0..2)
        .map(|j| 0.1 * 2.0 / n * rows.iter().map(|r| r[j] * (r[2] - mean)).sum::<f64>())
        .collect();
    let (w, b) = saved_linear(&dir.path().join("one.safetensors"), 2);
    for (got, want) in w.iter().zip(&expected) {
        assert!((got - want).abs() < 1e-12, "{w:?} vs {expected:?}");
    }
    assert!((b - mean).abs() < 1e-12);
    // And two epochs are two updates: not the one-epoch model.
    ok(
        dir.path(),
        "fit --csv plane.csv --target y --test-split 0 --epochs 2 --save two.safetensors",
    );
    assert_ne!(saved_linear(&dir.path().join("two.safetensors"), 2).0, w);
}

#[test]
fn a_budget_that_runs_out_says_the_run_did_not_converge() {
    let (csv, _) = plane();
    let dir = folder(&[("plane.csv", &csv)]);
    let out = ok(
        dir.path(),
        "fit --csv plane.csv --target y --standardize --epochs 5",
    );
    assert!(
        out.contains("stopped: did not converge: the last update's gradient norm was")
            && out.contains("after 5 epochs"),
        "{out}"
    );
    let minibatch = ok(
        dir.path(),
        "fit --csv plane.csv --target y --standardize --epochs 5 --batch-size 8",
    );
    assert!(
        minibatch.contains("did not converge: ran all 5 epochs in mini-batches"),
        "{minibatch}"
    );
    let table = ok(
        dir.path(),
        "compare --csv plane.csv --target y --standardize --epochs 1",
    );
    assert!(table.contains("at most 1 epoch each"), "{table}");
    assert!(table.contains("did not converge"), "{table}");
}

#[test]
fn a_slow_divergence_fails_and_saves_nothing() {
    // lr 1.05 on curvature 2: each step multiplies the error by |1 − 2.1| = 1.1, so the loss
    // grows about 300× in 30 epochs, far below the 10⁶ growth rule, and used to "succeed".
    let dir = folder(&[("line.csv", &line_csv())]);
    let r = run(
        dir.path(),
        "fit --csv line.csv --target y --standardize --lr 1.05 --epochs 30 --save m.safetensors",
    );
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr
            .contains("training diverged: the training loss rose from")
            && r.stderr
                .contains("over 30 epochs; nothing was saved (try a smaller --lr)"),
        "{}",
        r.stderr
    );
    assert!(!dir.path().join("m.safetensors").exists());
    // Without --standardize the hint suggests it.
    fails(
        dir.path(),
        "fit --csv line.csv --target y --lr 5",
        "(try --standardize or a smaller --lr)",
    );
}

/// Runs `tapegrad args` with stdout sent to `stdout`; returns (exit code, stderr).
fn run_with_stdout(dir: &Path, args: &str, stdout: std::process::Stdio) -> (i32, String) {
    let output = std::process::Command::new(assert_cmd::cargo::cargo_bin("tapegrad"))
        .current_dir(dir)
        .args(args.split_whitespace())
        .stdout(stdout)
        .stderr(std::process::Stdio::piped())
        .output()
        .expect("the binary runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn a_closed_stdout_ends_quietly_and_a_full_one_is_an_error() {
    let (csv, _) = plane();
    let dir = folder(&[("plane.csv", &csv)]);
    ok(
        dir.path(),
        "fit --csv plane.csv --target y --save m.safetensors",
    );
    let closed = || {
        // A pipe whose reading end is already closed, as after `| head -1` has exited:
        // every write to it fails with a broken pipe.
        let (reader, writer) = std::io::pipe().expect("a pipe");
        drop(reader);
        std::process::Stdio::from(writer)
    };
    for args in [
        "fit --csv plane.csv --target y --save again.safetensors",
        "compare --csv plane.csv --target y --epochs 20",
        "predict --model m.safetensors --csv plane.csv",
        "",
    ] {
        let (code, stderr) = run_with_stdout(dir.path(), args, closed());
        assert_eq!((code, stderr.as_str()), (0, ""), "{args:?}");
    }
    // The model is the product of `fit`: it is saved even when nobody reads the progress.
    load(
        &LinearRegression::<f64>::new(2),
        dir.path().join("again.safetensors"),
    )
    .unwrap();
    if Path::new("/dev/full").exists() {
        for args in [
            "fit --csv plane.csv --target y",
            "predict --model m.safetensors --csv plane.csv",
        ] {
            let full = std::fs::OpenOptions::new()
                .write(true)
                .open("/dev/full")
                .unwrap();
            let (code, stderr) = run_with_stdout(dir.path(), args, full.into());
            assert_eq!(code, 1, "{args:?}: {stderr}");
            assert!(!stderr.contains("panicked"), "{stderr}");
            assert!(
                stderr.starts_with("error: cannot write \"stdout\"") && stderr.lines().count() == 1,
                "{stderr}"
            );
        }
    }
}

#[test]
fn save_never_replaces_an_input_another_output_or_a_non_regular_file() {
    let (csv, _) = plane();
    let dir = folder(&[("plane.csv", &csv)]);
    let fit = |options: &str, expected: &str| {
        fails(
            dir.path(),
            &format!("fit --csv plane.csv --target y {options}"),
            expected,
        );
    };
    fit(
        "--save plane.csv",
        "--save \"plane.csv\" is the same file as --csv; it would be overwritten",
    );
    fit("--save ./sub/../plane.csv", "does not exist");
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    fit("--save sub/../plane.csv", "is the same file as --csv");
    fit(
        "--save x.svg --plot x.svg",
        "--plot \"x.svg\" is the same file as --save",
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("plane.csv")).unwrap(),
        csv
    );
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink("plane.csv", dir.path().join("data-link.csv")).unwrap();
        fit("--save data-link.csv", "is the same file as --csv");
        fit(
            "--save /dev/null",
            "cannot write \"/dev/null\": it is a device, FIFO or socket, not a regular file",
        );
        // A symlink to an older model is written through, as cp does, and stays a link.
        std::fs::write(dir.path().join("real.safetensors"), "old").unwrap();
        std::os::unix::fs::symlink("real.safetensors", dir.path().join("link.safetensors"))
            .unwrap();
        ok(
            dir.path(),
            "fit --csv plane.csv --target y --save link.safetensors",
        );
        let link = dir.path().join("link.safetensors");
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        load(
            &LinearRegression::<f64>::new(2),
            dir.path().join("real.safetensors"),
        )
        .unwrap();
    }
}

#[test]
fn temporary_files_of_killed_saves_are_cleaned_up() {
    let (csv, _) = plane();
    // A save killed mid-write leaves its temporary file; its process (a PID no system hands
    // out) is gone, so the next save of the same file removes it.
    let left = ".m.safetensors.tmp-4000000000";
    let dir = folder(&[("plane.csv", &csv), (left, "half a model")]);
    ok(
        dir.path(),
        "fit --csv plane.csv --target y --save m.safetensors",
    );
    if Path::new("/proc/self").exists() {
        assert!(!dir.path().join(left).exists());
    }
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp-") && !n.ends_with("4000000000"))
        .collect();
    assert!(names.is_empty(), "{names:?}");
}

#[test]
fn outputs_are_checked_before_training_starts() {
    let (csv, _) = plane();
    let dir = folder(&[("plane.csv", &csv), ("file", "not a folder")]);
    for options in ["--save file/m.safetensors", "--plot missing/loss.svg"] {
        let r = run(
            dir.path(),
            &format!("fit --csv plane.csv --target y --epochs 100000 {options}"),
        );
        assert_eq!(r.code, 1);
        assert!(r.stdout.is_empty(), "nothing trained first: {}", r.stdout);
        assert!(r.stderr.starts_with("error: cannot write"), "{}", r.stderr);
    }
}

#[test]
fn the_task_is_inferred_and_said_and_impossible_ones_are_refused() {
    // Iris-like: numeric labels 0, 1, 2.
    let mut labels = String::from("a,b,kind\n");
    for i in 0..60 {
        let k = i % 3;
        labels.push_str(&format!(
            "{},{},{k}\n",
            f64::from(k) + 0.01 * f64::from(i),
            1.0 - f64::from(k)
        ));
    }
    // 200 distinct fractional targets.
    let mut floats = String::from("a,y\n");
    for i in 0..200 {
        floats.push_str(&format!("{i},{}\n", f64::from(i) * 0.37 + 0.001));
    }
    let dir = folder(&[("labels.csv", &labels), ("floats.csv", &floats)]);
    let mlp = ok(
        dir.path(),
        "fit --csv labels.csv --target kind --model mlp --epochs 50 --standardize",
    );
    assert!(
        mlp.contains("model: mlp classification")
            && mlp.contains("task: classification (column \"kind\" holds 3 distinct whole numbers; pass --task regression"),
        "{mlp}"
    );
    assert!(mlp.contains("accuracy"), "{mlp}");
    let regression = ok(
        dir.path(),
        "fit --csv labels.csv --target kind --model mlp --task regression --epochs 50 --standardize",
    );
    assert!(regression.contains("mlp regression"), "{regression}");
    fails(
        dir.path(),
        "fit --csv floats.csv --target y --model logistic",
        "--model logistic: column \"y\" holds fractional or many distinct numbers",
    );
    fails(
        dir.path(),
        "fit --csv floats.csv --target y --model logistic --task classification",
        "column \"y\" has 200 distinct values in 200 rows, too many classes",
    );
}

#[test]
fn numeric_labels_are_classes_by_value_and_rare_classes_stay_in_training() {
    // "1" and "1.0" are one class; class "7" has a single row.
    let mut csv = String::from("a,y\n");
    for i in 0..40 {
        let label = match i % 4 {
            0 => "1",
            1 => "1.0",
            _ => "2",
        };
        csv.push_str(&format!("{},{label}\n", f64::from(i % 4 / 2)));
    }
    csv.push_str("5,7\n");
    let dir = folder(&[("labels.csv", &csv)]);
    let out = ok(
        dir.path(),
        "fit --csv labels.csv --target y --model logistic --test-split 0.5 --save m.safetensors",
    );
    assert!(
        out.contains("note: class \"7\" has a single row; it is kept for training"),
        "{out}"
    );
    let metadata = read_metadata(dir.path().join("m.safetensors")).unwrap();
    assert_eq!(metadata["classes"], "1,2,7");
}

#[test]
fn huge_values_standardise_and_the_saved_model_predicts() {
    let mut csv = String::from("a,b,y\n");
    for i in 0..20 {
        let huge = if i == 3 { 1e300 } else { f64::from(i) };
        csv.push_str(&format!(
            "{huge:e},{},{}\n",
            f64::from(i % 5),
            f64::from(i % 5) * 2.0
        ));
    }
    let dir = folder(&[("huge.csv", &csv)]);
    ok(
        dir.path(),
        "fit --csv huge.csv --target y --standardize --save m.safetensors",
    );
    let metadata = read_metadata(dir.path().join("m.safetensors")).unwrap();
    let scale: f64 = metadata["standardizer.scale"]
        .split(',')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(scale.is_finite() && scale > 1e298, "{scale}");
    let predictions = first_column(&ok(
        dir.path(),
        "predict --model m.safetensors --csv huge.csv",
    ));
    assert_eq!(predictions.len(), 20);
    assert!(predictions.iter().all(|p| p.is_finite()));
}

#[test]
fn line_numbers_are_right_in_crlf_files() {
    let dir = folder(&[
        ("crlf.csv", "a,b,y\r\n1,2,3\r\n4,5,6\r\n7,x,9\r\n"),
        ("ragged.csv", "a,b,y\r\n1,2,3\r\n4,5\r\n"),
    ]);
    fails(
        dir.path(),
        "fit --csv crlf.csv --target y",
        "\"crlf.csv\" line 4, column \"b\": \"x\" is not a number",
    );
    fails(
        dir.path(),
        "fit --csv ragged.csv --target y",
        "line 3: 2 fields, but the header has 3",
    );
}

#[test]
fn identical_runs_save_identical_bytes() {
    let (csv, _) = plane();
    let dir = folder(&[("plane.csv", &csv)]);
    let args = "fit --csv plane.csv --target y --model mlp --hidden 4 --standardize --epochs 20";
    ok(dir.path(), &format!("{args} --save a.safetensors"));
    ok(dir.path(), &format!("{args} --save b.safetensors"));
    let a = std::fs::read(dir.path().join("a.safetensors")).unwrap();
    let b = std::fs::read(dir.path().join("b.safetensors")).unwrap();
    assert!(a == b, "the two files differ");
}

#[test]
fn duplicate_column_names_are_refused() {
    let dir = folder(&[("dup.csv", "a,b,a,y\n1,2,3,4\n5,6,7,8\n9,1,2,3\n")]);
    fails(
        dir.path(),
        "fit --csv dup.csv --target y",
        "line 1: the header names column \"a\" twice (columns 1 and 3)",
    );
    // Columns that are not ambiguous can still be used.
    ok(
        dir.path(),
        "fit --csv dup.csv --target y --features b --test-split 0 --standardize",
    );
}

#[test]
fn non_finite_weights_are_refused() {
    let (csv, _) = plane();
    let dir = folder(&[("plane.csv", &csv)]);
    ok(
        dir.path(),
        "fit --csv plane.csv --target y --save m.safetensors",
    );
    let metadata = read_metadata(dir.path().join("m.safetensors")).unwrap();
    let model = LinearRegression::<f64>::new(2);
    model.parameters()[0]
        .set_value(ndarray::ArrayD::from_elem(vec![1, 2], f64::NAN))
        .unwrap();
    let broken = dir.path().join("nan.safetensors");
    tapegrad::models::io::save_with_metadata(&model, &metadata, &broken).unwrap();
    fails(
        dir.path(),
        "predict --model nan.safetensors --csv plane.csv",
        "holds NaN at position 0; weights must be finite",
    );
}

#[test]
fn argument_errors_are_one_line_and_exit_1() {
    let dir = folder(&[]);
    fails(
        dir.path(),
        "fit --bogus",
        "unexpected argument '--bogus' found (see tapegrad fit --help)",
    );
    fails(dir.path(), "frobnicate", "(see tapegrad --help)");
    fails(dir.path(), "fit --epochs many", "invalid value 'many'");
}

#[test]
fn quiet_prints_nothing_and_json_prints_one_summary_line() {
    let (csv, _) = plane();
    let dir = folder(&[("plane.csv", &csv)]);
    let quiet = ok(
        dir.path(),
        "fit --csv plane.csv --target y --standardize --quiet --save q.safetensors",
    );
    assert_eq!(quiet, "");
    assert!(dir.path().join("q.safetensors").exists());
    let json = ok(
        dir.path(),
        "fit --csv plane.csv --target y --standardize --epochs 3 --json",
    );
    assert_eq!(json.lines().count(), 1, "{json}");
    let summary: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(summary["model"], "linear");
    assert_eq!(summary["epochs"], 3);
    assert_eq!(summary["converged"], false);
    assert!(summary["stop"]
        .as_str()
        .unwrap()
        .starts_with("did not converge"));
    assert!(summary["final_loss"].as_f64().unwrap() < summary["initial_loss"].as_f64().unwrap());
    assert_eq!(summary["train"]["rows"], 32);
    assert!(summary["test"]["r2"].as_f64().unwrap() < 1.0);
    fails(
        dir.path(),
        "fit --csv plane.csv --target y --quiet --json",
        "cannot be used with",
    );
}
