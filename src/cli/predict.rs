//! `tapegrad predict`: a saved model's predictions for the rows of a CSV file, as CSV on
//! stdout. Regression writes one column named after the target; classification writes the
//! predicted class and one probability column per class.

use super::console;
use super::dataset::feature_matrix;
use super::error::CliError;
use super::model::{most_probable, Predictions};
use super::saved::SavedModel;
use super::table::Table;
use super::PredictArgs;

/// Runs `predict`; everything is computed before the first byte is written, so an error
/// leaves no partial output.
///
/// # Errors
/// An unreadable model or CSV, a missing feature column, an unusable cell.
pub fn run(args: &PredictArgs) -> Result<(), CliError> {
    let saved = SavedModel::load(&args.model)?;
    let table = Table::read(&args.csv)?;
    let x = feature_matrix(&table, &saved.features)?;
    let x = match &saved.standardizer {
        Some(s) => s.transform(&x),
        None => x,
    };
    let text = to_csv(&saved, &saved.model.predict(&x));
    console::write_all(text.as_bytes())
}

/// `v` in its shortest round-trip form, with an exponent when very large or small.
fn number(v: f64) -> String {
    format!("{v:?}")
}

/// The predictions as CSV text with a header.
fn to_csv(saved: &SavedModel, predictions: &Predictions) -> String {
    let mut rows: Vec<Vec<String>> = Vec::new();
    match predictions {
        Predictions::Values(values) => {
            rows.push(vec![saved.target.clone()]);
            rows.extend(values.iter().map(|v| vec![number(*v)]));
        }
        Predictions::Probabilities(probabilities) => {
            let classes = &saved.model.classes;
            rows.push(
                [saved.target.clone()]
                    .into_iter()
                    .chain(classes.iter().map(|c| format!("p({c})")))
                    .collect(),
            );
            rows.extend(probabilities.iter().map(|p| {
                [classes[most_probable(p)].clone()]
                    .into_iter()
                    .chain(p.iter().copied().map(number))
                    .collect()
            }));
        }
    }
    let mut writer = csv::Writer::from_writer(Vec::new());
    for row in rows {
        // Writing to memory cannot fail.
        let _ = writer.write_record(&row);
    }
    String::from_utf8_lossy(&writer.into_inner().unwrap_or_default()).into_owned()
}
