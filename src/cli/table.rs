//! A CSV file read whole into memory: its header and its rows as text, each row with its line
//! number so that a bad cell can be named exactly.

use std::io::Read;
use std::path::{Path, PathBuf};

use super::error::CliError;

/// The header and the data rows of a CSV file (cells trimmed of surrounding spaces).
#[derive(Debug)]
pub struct Table {
    path: PathBuf,
    header: Vec<String>,
    rows: Vec<csv::StringRecord>,
    /// The line each row starts on (the header is line 1).
    lines: Vec<u64>,
}

impl Table {
    /// Reads the CSV file at `path`; its first line is the header.
    ///
    /// # Errors
    /// `Read` when the file cannot be opened, `Csv` when it is malformed or has no header.
    pub fn read(path: &Path) -> Result<Table, CliError> {
        let file = std::fs::File::open(path).map_err(|source| CliError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Table::from_reader(path, file)
    }

    /// Reads CSV text from `reader`; `path` is the name used in error messages.
    ///
    /// # Errors
    /// As [`Table::read`].
    pub fn from_reader(path: &Path, mut reader: impl Read) -> Result<Table, CliError> {
        let mut bytes = Vec::new();
        reader
            .read_to_end(&mut bytes)
            .map_err(|source| CliError::Read {
                path: path.to_path_buf(),
                source,
            })?;
        let newlines = NewlineIndex::of(&bytes);
        let malformed = |e: csv::Error| CliError::Csv {
            path: path.to_path_buf(),
            detail: describe(&e, &newlines),
        };
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_reader(bytes.as_slice());
        let header: Vec<String> = reader
            .headers()
            .map_err(malformed)?
            .iter()
            .map(str::to_string)
            .collect();
        if header.iter().all(String::is_empty) {
            return Err(CliError::Csv {
                path: path.to_path_buf(),
                detail: "the file is empty; the first line must name the columns".into(),
            });
        }
        let rows = reader
            .records()
            .collect::<Result<Vec<_>, _>>()
            .map_err(malformed)?;
        let lines = rows
            .iter()
            .map(|row| newlines.line_at(row.position()))
            .collect();
        Ok(Table {
            path: path.to_path_buf(),
            header,
            rows,
            lines,
        })
    }

    /// The file's name, for messages.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The column names, in file order.
    pub fn header(&self) -> &[String] {
        &self.header
    }

    /// The number of data rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// The index of column `name`.
    ///
    /// # Errors
    /// `UnknownColumn`, listing the columns there are; `Csv` when the header names the
    /// column more than once, since either could be meant.
    pub fn column(&self, name: &str) -> Result<usize, CliError> {
        let mut positions = self
            .header
            .iter()
            .enumerate()
            .filter(|(_, h)| *h == name)
            .map(|(j, _)| j);
        match (positions.next(), positions.next()) {
            (Some(j), None) => Ok(j),
            (Some(first), Some(second)) => Err(CliError::Csv {
                path: self.path.clone(),
                detail: format!(
                    "line 1: the header names column {name:?} twice (columns {} and {}); rename one so it is clear which is meant",
                    first + 1,
                    second + 1
                ),
            }),
            (None, _) => Err(CliError::UnknownColumn {
                path: self.path.clone(),
                column: name.to_string(),
                available: self.header.clone(),
            }),
        }
    }

    /// The cells of column `name` with their line numbers; an empty cell is an error.
    ///
    /// # Errors
    /// `UnknownColumn`, or `Cell` for the first empty cell.
    pub fn texts(&self, name: &str) -> Result<Vec<(u64, &str)>, CliError> {
        let j = self.column(name)?;
        self.rows
            .iter()
            .zip(&self.lines)
            .map(|(row, &line)| match row.get(j).unwrap_or("") {
                "" => Err(self.cell_error(line, name, "the cell is empty".into())),
                text => Ok((line, text)),
            })
            .collect()
    }

    /// The cells of column `name` as finite numbers.
    ///
    /// # Errors
    /// `UnknownColumn`, or `Cell` for the first cell that is empty, not a number, or NaN or
    /// infinite.
    pub fn numbers(&self, name: &str) -> Result<Vec<f64>, CliError> {
        self.texts(name)?
            .into_iter()
            .map(|(line, text)| match text.parse::<f64>() {
                Ok(v) if v.is_finite() => Ok(v),
                Ok(v) => Err(self.cell_error(line, name, format!("{v} is not a finite number"))),
                Err(_) => Err(self.cell_error(line, name, format!("{text:?} is not a number"))),
            })
            .collect()
    }

    /// Whether every cell of column `name` parses as a number (so it can be a regression
    /// target); false for unknown columns too.
    pub fn is_numeric(&self, name: &str) -> bool {
        self.texts(name)
            .is_ok_and(|cells| cells.iter().all(|(_, t)| t.parse::<f64>().is_ok()))
    }

    fn cell_error(&self, line: u64, column: &str, problem: String) -> CliError {
        CliError::Cell {
            path: self.path.clone(),
            line,
            column: column.to_string(),
            problem,
        }
    }
}

/// Where the line breaks of a file are, to turn a byte offset into a line number. The CSV
/// reader's own line count is one short after every CRLF line ending (Windows files), so
/// lines are counted here from the bytes: a line is what ends in `\n`, whatever precedes it.
struct NewlineIndex(Vec<usize>);

impl NewlineIndex {
    fn of(bytes: &[u8]) -> NewlineIndex {
        NewlineIndex(
            bytes
                .iter()
                .enumerate()
                .filter_map(|(i, &b)| (b == b'\n').then_some(i))
                .collect(),
        )
    }

    /// The line (from 1) of the record at `position`. After a CRLF the reader places the
    /// next record at the `\n` itself (it ended the line at `\r`), so a newline at that very
    /// byte belongs to the line before.
    fn line_at(&self, position: Option<&csv::Position>) -> u64 {
        let byte = position.map_or(0, |p| p.byte() as usize);
        self.0.partition_point(|&newline| newline <= byte) as u64 + 1
    }
}

/// The CSV reader's error in the style of the others: the line first, then the rule.
fn describe(e: &csv::Error, newlines: &NewlineIndex) -> String {
    match e.kind() {
        csv::ErrorKind::UnequalLengths {
            pos,
            expected_len,
            len,
        } => format!(
            "line {}: {len} fields, but the header has {expected_len}",
            newlines.line_at(pos.as_ref())
        ),
        csv::ErrorKind::Utf8 { pos, .. } => format!(
            "line {}: the text is not UTF-8",
            newlines.line_at(pos.as_ref())
        ),
        _ => e.to_string(),
    }
}
