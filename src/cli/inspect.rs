//! `tapegrad inspect`: what a file saved by `fit --save` holds — the model and its data, the
//! training it went through (for a checkpoint), every tensor, and for linear and logistic
//! models the coefficients on the original feature scale.
//!
//! A model trained on standardised features x̃ⱼ = (xⱼ − μⱼ)/σⱼ has weights for x̃, not x.
//! Substituting gives the model in the units of the data:
//!
//! ```text
//! ŷ = b + Σⱼ wⱼ·(xⱼ − μⱼ)/σⱼ = (b − Σⱼ wⱼ·μⱼ/σⱼ) + Σⱼ (wⱼ/σⱼ)·xⱼ
//! ```
//!
//! so the coefficient of feature j is wⱼ/σⱼ and the intercept b − Σⱼ wⱼ·μⱼ/σⱼ (for logistic
//! regression, the same for each logit).

use tapegrad::models::io::list_tensors;
use tapegrad::models::preprocess::Standardizer;
use tapegrad::models::trainer::checkpoint;

use super::console::say;
use super::dataset::Task;
use super::error::CliError;
use super::model::ModelKind;
use super::saved::SavedModel;
use super::InspectArgs;

/// Runs `inspect`.
///
/// # Errors
/// The file cannot be read, or is not a model saved by `tapegrad fit --save`.
pub fn run(args: &InspectArgs) -> Result<(), CliError> {
    let path = args.model.as_path();
    let saved = SavedModel::load(path)?;
    let model = &saved.model;
    say!("file: {}", path.display());
    let architecture = match model.kind {
        ModelKind::Mlp => format!(
            "mlp {} with hidden layers {:?}",
            model.task.name(),
            model.hidden
        ),
        kind => format!("{} {}", kind.name(), model.task.name()),
    };
    say!("model: {architecture}");
    say!("target: {:?}", saved.target);
    say!("features: {}", saved.features.join(", "));
    match model.task {
        Task::Classification => say!("classes: {}", model.classes.join(", ")),
        Task::Regression => say!("loss: {}", model.loss.name()),
    }
    if saved.standardizer.is_some() {
        say!("features standardised with the training rows' mean and standard deviation");
    }
    if checkpoint::is_checkpoint(path)? {
        let info = checkpoint::read_info(path)?;
        let history = &info.history;
        let losses = history.train_losses();
        let (first, last) = (losses.first(), losses.last());
        let mut line = format!("training: {} epochs", info.epoch);
        if let (Some(first), Some(last)) = (first, last) {
            line += &format!("; training loss {first:.6e} → {last:.6e}");
        }
        if let Some(val) = history.val_losses().last() {
            line += &format!("; validation loss {val:.6e}");
        }
        say!("{line} (resumable with fit --resume)");
    } else {
        say!("training: weights only (not resumable)");
    }
    say!("tensors:");
    for tensor in list_tensors(path)? {
        say!(
            "  {:<28} {:<5} {:?}",
            tensor.name,
            tensor.dtype,
            tensor.shape
        );
    }
    if matches!(model.kind, ModelKind::Linear | ModelKind::Logistic) {
        coefficients(&saved);
    }
    Ok(())
}

/// The linear coefficients per output, in the units of the data.
fn coefficients(saved: &SavedModel) {
    let params = saved.model.parameters();
    let (weight, bias) = (params[0].value(), params[1].value());
    let outputs = weight.shape()[0];
    let scale = |w: &[f64], b: f64| match &saved.standardizer {
        Some(s) => original_scale(w, b, s),
        None => (w.to_vec(), b),
    };
    let heading = match (saved.model.kind, outputs) {
        (ModelKind::Linear, _) => {
            "coefficients on the original feature scale (ŷ = intercept + Σ coefficient·x):"
                .to_string()
        }
        (_, 1) => format!(
            "coefficients on the original feature scale, for the log-odds of {:?} over {:?}:",
            saved.model.classes[1], saved.model.classes[0]
        ),
        _ => {
            "coefficients on the original feature scale, one logit per class (softmax):".to_string()
        }
    };
    say!("{heading}");
    let names: Vec<String> = if outputs == 1 {
        vec![String::new()]
    } else {
        saved
            .model
            .classes
            .iter()
            .map(|c| format!("{c}: "))
            .collect()
    };
    for (o, name) in names.iter().enumerate() {
        let row: Vec<f64> = weight
            .outer_iter()
            .nth(o)
            .expect("a row per output")
            .iter()
            .copied()
            .collect();
        let (w, b) = scale(&row, bias[o]);
        say!("  {name}{:<20} {b:>14.6e}", "intercept");
        for (feature, w) in saved.features.iter().zip(&w) {
            say!("  {name}{feature:<20} {w:>14.6e}");
        }
    }
}

/// Weights `w` and bias `b` learned on standardised features, moved to the original scale:
/// wⱼ/σⱼ and b − Σⱼ wⱼ·μⱼ/σⱼ.
fn original_scale(w: &[f64], b: f64, standardizer: &Standardizer) -> (Vec<f64>, f64) {
    let coefficients: Vec<f64> = w
        .iter()
        .zip(standardizer.scale())
        .map(|(w, s)| w / s)
        .collect();
    let shift: f64 = coefficients
        .iter()
        .zip(standardizer.mean())
        .map(|(c, m)| c * m)
        .sum();
    (coefficients, b - shift)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coefficients_move_to_the_original_scale() {
        // ŷ = 1 + 2·(x₀ − 10)/4 − 3·(x₁ + 1)/0.5 = (1 − 5 − 6) + 0.5·x₀ − 6·x₁
        let s = Standardizer::from_parts(vec![10.0, -1.0], vec![4.0, 0.5]);
        let (w, b) = original_scale(&[2.0, -3.0], 1.0, &s);
        assert_eq!(w, [0.5, -6.0]);
        assert_eq!(b, -10.0);
    }
}
