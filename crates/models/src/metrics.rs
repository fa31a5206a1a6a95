//! How well a fitted model predicts: mean squared error and R² for regression, accuracy for
//! classification. Scores are computed in f64 from plain slices, whatever the model's element
//! type, so every model and the `tapegrad` command report the same numbers.
//!
//! ```
//! use tapegrad_models::metrics::{accuracy, mean_squared_error, r2_score};
//! let (y, y_hat) = ([1.0, 2.0, 3.0], [1.0, 2.0, 4.0]);
//! assert_eq!(mean_squared_error(&y, &y_hat), 1.0 / 3.0);
//! assert_eq!(r2_score(&y, &y_hat), 0.5); // 1 − 1/2: Σ(y − ȳ)² is 2
//! assert_eq!(accuracy(&[0, 1, 1, 2], &[0, 1, 2, 2]), 0.75);
//! ```

/// The mean squared error (1/n)·Σ(yᵢ − ŷᵢ)² of predictions `y_hat` of `y`.
///
/// # Panics
/// When the two slices differ in length.
#[track_caller]
pub fn mean_squared_error(y: &[f64], y_hat: &[f64]) -> f64 {
    squared_error(y, y_hat) / y.len() as f64
}

/// The coefficient of determination R² = 1 − Σ(yᵢ − ŷᵢ)² / Σ(yᵢ − ȳ)²: 1 for a perfect fit,
/// 0 for one no better than predicting the mean ȳ, negative for a worse one. NaN when `y`
/// does not vary (Σ(yᵢ − ȳ)² = 0), where no fit can explain anything.
///
/// # Panics
/// When the two slices differ in length.
#[track_caller]
pub fn r2_score(y: &[f64], y_hat: &[f64]) -> f64 {
    let unexplained = squared_error(y, y_hat);
    let mean = y.iter().sum::<f64>() / y.len() as f64;
    let total: f64 = y.iter().map(|yi| (yi - mean).powi(2)).sum();
    if total > 0.0 {
        1.0 - unexplained / total
    } else {
        f64::NAN
    }
}

/// The fraction of rows whose `predicted` class equals the label.
///
/// # Panics
/// When the two slices differ in length.
#[track_caller]
pub fn accuracy(labels: &[usize], predicted: &[usize]) -> f64 {
    same_length("accuracy", labels.len(), predicted.len());
    let correct = labels.iter().zip(predicted).filter(|(l, p)| l == p).count();
    correct as f64 / labels.len() as f64
}

/// Σ(yᵢ − ŷᵢ)².
#[track_caller]
fn squared_error(y: &[f64], y_hat: &[f64]) -> f64 {
    same_length("metrics", y.len(), y_hat.len());
    y.iter().zip(y_hat).map(|(a, b)| (a - b).powi(2)).sum()
}

#[track_caller]
fn same_length(op: &str, targets: usize, predictions: usize) {
    assert_eq!(
        targets, predictions,
        "{op}: {targets} targets but {predictions} predictions"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_targets_have_no_r2() {
        assert!(r2_score(&[2.0, 2.0], &[2.0, 2.0]).is_nan());
        assert_eq!(mean_squared_error(&[2.0, 2.0], &[1.0, 3.0]), 1.0);
    }

    #[test]
    fn predicting_the_mean_scores_zero_and_worse_scores_below() {
        let y = [1.0, 2.0, 3.0, 6.0];
        assert_eq!(r2_score(&y, &[3.0; 4]), 0.0);
        assert!(r2_score(&y, &[6.0, 3.0, 2.0, 1.0]) < 0.0);
    }

    #[test]
    #[should_panic(expected = "accuracy: 3 targets but 2 predictions")]
    fn lengths_must_agree() {
        accuracy(&[0, 1, 2], &[0, 1]);
    }
}
