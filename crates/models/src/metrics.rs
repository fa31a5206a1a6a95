//! How well a fitted model predicts: mean squared error, its root, mean absolute error and R²
//! for regression; accuracy, the confusion matrix, per-class precision, recall and F1, and
//! the log-loss for classification. Scores are computed in f64 from plain slices, whatever the model's element
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

/// The root mean squared error √((1/n)·Σ(yᵢ − ŷᵢ)²), in the target's own units.
///
/// # Panics
/// When the two slices differ in length.
#[track_caller]
pub fn root_mean_squared_error(y: &[f64], y_hat: &[f64]) -> f64 {
    mean_squared_error(y, y_hat).sqrt()
}

/// The mean absolute error (1/n)·Σ|yᵢ − ŷᵢ|.
///
/// # Panics
/// When the two slices differ in length.
#[track_caller]
pub fn mean_absolute_error(y: &[f64], y_hat: &[f64]) -> f64 {
    same_length("mean_absolute_error", y.len(), y_hat.len());
    y.iter().zip(y_hat).map(|(a, b)| (a - b).abs()).sum::<f64>() / y.len() as f64
}

/// The confusion matrix of `classes` classes: entry `[t][p]` counts the rows of true class t
/// predicted as p (rows are the truth, as in scikit-learn).
///
/// # Panics
/// When the slices differ in length or a class is not below `classes`.
#[track_caller]
pub fn confusion_matrix(labels: &[usize], predicted: &[usize], classes: usize) -> Vec<Vec<usize>> {
    same_length("confusion_matrix", labels.len(), predicted.len());
    let mut matrix = vec![vec![0; classes]; classes];
    for (&t, &p) in labels.iter().zip(predicted) {
        assert!(
            t < classes && p < classes,
            "confusion_matrix: class {} is not below {classes}",
            t.max(p)
        );
        matrix[t][p] += 1;
    }
    matrix
}

/// One class's scores from a confusion matrix.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ClassScores {
    /// Of the rows predicted as the class, the fraction that are: TP / (TP + FP).
    pub precision: f64,
    /// Of the rows of the class, the fraction found: TP / (TP + FN).
    pub recall: f64,
    /// The harmonic mean 2·P·R / (P + R).
    pub f1: f64,
    /// The rows of the class (TP + FN).
    pub support: usize,
}

/// Precision, recall and F1 of each class. A ratio whose denominator is 0 (a class never
/// predicted, or never present) is 0, as scikit-learn reports it with `zero_division=0`.
///
/// ```
/// use tapegrad_models::metrics::per_class_scores;
/// // Class 0: 2 rows, both found; class 1: 2 rows, one predicted as 0.
/// let scores = per_class_scores(&[0, 0, 1, 1], &[0, 0, 0, 1], 2);
/// assert_eq!((scores[0].precision, scores[0].recall), (2.0 / 3.0, 1.0));
/// assert_eq!((scores[1].precision, scores[1].recall, scores[1].f1), (1.0, 0.5, 2.0 / 3.0));
/// ```
///
/// # Panics
/// As [`confusion_matrix`].
#[track_caller]
pub fn per_class_scores(labels: &[usize], predicted: &[usize], classes: usize) -> Vec<ClassScores> {
    let matrix = confusion_matrix(labels, predicted, classes);
    let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    (0..classes)
        .map(|k| {
            let tp = matrix[k][k];
            let predicted_k: usize = matrix.iter().map(|row| row[k]).sum();
            let support: usize = matrix[k].iter().sum();
            let (precision, recall) = (ratio(tp, predicted_k), ratio(tp, support));
            let f1 = if precision + recall > 0.0 {
                2.0 * precision * recall / (precision + recall)
            } else {
                0.0
            };
            ClassScores {
                precision,
                recall,
                f1,
                support,
            }
        })
        .collect()
}

/// The log-loss (mean cross-entropy) −(1/n)·Σᵢ ln pᵢ(yᵢ), where pᵢ(k) is
/// `probabilities[i][k]`, row i's predicted probability of class k. Probabilities are clipped
/// to `[1e-15, 1]` first, as scikit-learn does, so a confident mistake costs about 34.5 nats
/// rather than infinity.
///
/// # Panics
/// When the lengths differ or a label has no probability.
#[track_caller]
pub fn log_loss(labels: &[usize], probabilities: &[Vec<f64>]) -> f64 {
    same_length("log_loss", labels.len(), probabilities.len());
    let total: f64 = labels
        .iter()
        .zip(probabilities)
        .map(|(&label, p)| {
            assert!(
                label < p.len(),
                "log_loss: label {label} but {} probabilities",
                p.len()
            );
            -p[label].clamp(1e-15, 1.0).ln()
        })
        .sum();
    total / labels.len() as f64
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
    fn regression_and_classification_scores_by_hand() {
        let (y, y_hat) = ([1.0, 2.0, 3.0, 4.0], [2.0, 2.0, 3.0, 1.0]);
        // Errors 1, 0, 0, 3: MSE 10/4, RMSE √2.5, MAE 4/4.
        assert_eq!(root_mean_squared_error(&y, &y_hat), 2.5f64.sqrt());
        assert_eq!(mean_absolute_error(&y, &y_hat), 1.0);
        let m = confusion_matrix(&[0, 1, 2, 2, 1], &[0, 2, 2, 2, 1], 3);
        assert_eq!(m, vec![vec![1, 0, 0], vec![0, 1, 1], vec![0, 0, 2]]);
        let scores = per_class_scores(&[0, 1, 2, 2, 1], &[0, 2, 2, 2, 1], 3);
        // Class 2: predicted 3 times, 2 right; present twice, both found.
        assert_eq!(
            (scores[2].precision, scores[2].recall, scores[2].support),
            (2.0 / 3.0, 1.0, 2)
        );
        assert!((scores[2].f1 - 0.8).abs() < 1e-15);
        // A class never predicted scores 0, not NaN.
        assert_eq!(per_class_scores(&[0, 1], &[0, 0], 2)[1].precision, 0.0);
        // ln 2 per row at p = ½; a certain mistake is clipped to −ln 1e-15.
        let half = vec![0.5, 0.5];
        assert!((log_loss(&[0, 1], &[half.clone(), half]) - 2f64.ln()).abs() < 1e-15);
        assert!((log_loss(&[0], &[vec![0.0, 1.0]]) - 1e15f64.ln()).abs() < 1e-9);
    }

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
