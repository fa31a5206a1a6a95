//! Feature standardisation: each column shifted to mean 0 and scaled to standard deviation 1.
//!
//! # Why it matters for the learning rate
//!
//! Gradient descent on the squared error L(w) = 1/(2n)·‖y − Xw‖² moves along the curvature
//! H = XᵀX/n. It is stable only for lr < 2/λ_max(H), and the slowest direction shrinks by a
//! factor (1 − lr·λ_min) per step, so the number of steps grows with the condition number
//! κ = λ_max/λ_min. A feature measured in thousands beside one measured in units makes λ_max
//! about a million times λ_min: a learning rate small enough not to diverge along the big
//! feature barely moves the small one. After standardising, H's diagonal is all ones (it is
//! the features' correlation matrix), κ depends only on how correlated the features are, and
//! one learning rate around 0.1–1 suits every problem.
//!
//! The scaling is learned on the training rows only and then applied unchanged to test rows,
//! so no information from the test set leaks into training.
//!
//! ```
//! use tapegrad_models::preprocess::Standardizer;
//! use tapegrad_tensor::Tensor;
//! let x = Tensor::<f64>::from_vec(vec![1.0, 100.0, 2.0, 300.0, 3.0, 500.0], &[3, 2]);
//! let scaler = Standardizer::fit(&x);
//! let z = scaler.transform(&x);
//! assert_eq!(scaler.mean(), &[2.0, 300.0]);
//! assert!((z.to_vec()[1] - -1.224744871391589).abs() < 1e-12);
//! ```

use tapegrad_tensor::{Float, Tensor};

/// Per-column mean and scale learned from a training matrix; see the [module docs](self).
#[derive(Clone, Debug, PartialEq)]
pub struct Standardizer {
    mean: Vec<f64>,
    scale: Vec<f64>,
}

impl Standardizer {
    /// Learns each column's mean and population standard deviation from `x` of shape [n, d]
    /// (n ≥ 1). A constant column gets scale 1, so it maps to zeros instead of dividing by 0.
    ///
    /// Each column is first divided by its largest magnitude m, so that neither the sum nor
    /// the squares overflow: μ = m·mean(x/m) and σ = m·√mean((x/m − μ/m)²). A column of
    /// values near 1e300 gets a finite mean and scale (the plain formulas square them to
    /// infinity and would silently zero the feature).
    ///
    /// # Panics
    /// When `x` is not a matrix, has no rows, or holds a value that is not finite.
    #[track_caller]
    pub fn fit<F: Float>(x: &Tensor<F>) -> Self {
        let &[n, d] = x.shape() else {
            panic!(
                "Standardizer::fit: x of shape {:?}; it must be [n, d]",
                x.shape()
            )
        };
        assert!(n > 0, "Standardizer::fit: x of shape [0, {d}] has no rows");
        let values = x.to_vec();
        let column = |j: usize| values.iter().skip(j).step_by(d).map(|v| v.as_f64());
        let (mean, scale) = (0..d)
            .map(|j| {
                let m = column(j).fold(0.0_f64, |m, v| m.max(v.abs()));
                assert!(
                    m.is_finite(),
                    "Standardizer::fit: column {j} holds a value that is not finite"
                );
                if m == 0.0 {
                    return (0.0, 1.0);
                }
                let mean_u = column(j).map(|v| v / m).sum::<f64>() / n as f64;
                let var_u = column(j).map(|v| (v / m - mean_u).powi(2)).sum::<f64>() / n as f64;
                let scale = if var_u > 0.0 { m * var_u.sqrt() } else { 1.0 };
                (m * mean_u, scale)
            })
            .unzip();
        Standardizer { mean, scale }
    }

    /// A standardiser with a known mean and scale (as stored beside saved weights).
    ///
    /// # Panics
    /// When the lengths differ or a scale is not a positive finite number.
    #[track_caller]
    pub fn from_parts(mean: Vec<f64>, scale: Vec<f64>) -> Self {
        assert_eq!(
            mean.len(),
            scale.len(),
            "Standardizer::from_parts: {} means but {} scales",
            mean.len(),
            scale.len()
        );
        assert!(
            scale.iter().all(|s| s.is_finite() && *s > 0.0),
            "Standardizer::from_parts: scales {scale:?} must be positive and finite"
        );
        Standardizer { mean, scale }
    }

    /// The column means.
    pub fn mean(&self) -> &[f64] {
        &self.mean
    }

    /// The column scales (standard deviations, 1 for constant columns).
    pub fn scale(&self) -> &[f64] {
        &self.scale
    }

    /// (x − mean) / scale, column by column, for x of shape [n, d].
    ///
    /// # Panics
    /// When x does not have the d columns this standardiser was fitted on.
    #[track_caller]
    pub fn transform<F: Float>(&self, x: &Tensor<F>) -> Tensor<F> {
        let d = self.mean.len();
        assert!(
            x.ndim() == 2 && x.shape()[1] == d,
            "Standardizer::transform: x of shape {:?}; it was fitted on [n, {d}]",
            x.shape()
        );
        let row =
            |v: &[f64]| Tensor::from_vec(v.iter().map(|&v| F::from_f64(v)).collect(), &[1, d]);
        (x - &row(&self.mean)) / row(&self.scale)
    }

    /// Turns the weights and bias of a linear model trained on standardised features into
    /// those of the same model on the original features: from ŷ = Σⱼ wⱼ(xⱼ − μⱼ)/σⱼ + b,
    /// the original weights are wⱼ/σⱼ and the bias is b − Σⱼ wⱼμⱼ/σⱼ.
    ///
    /// # Panics
    /// When `weights` does not have one entry per column.
    #[track_caller]
    pub fn unscale_linear(&self, weights: &[f64], bias: f64) -> (Vec<f64>, f64) {
        assert_eq!(
            weights.len(),
            self.mean.len(),
            "Standardizer::unscale_linear: {} weights for {} columns",
            weights.len(),
            self.mean.len()
        );
        let original: Vec<f64> = weights
            .iter()
            .zip(&self.scale)
            .map(|(w, s)| w / s)
            .collect();
        let shift: f64 = original.iter().zip(&self.mean).map(|(w, m)| w * m).sum();
        (original, bias - shift)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::least_squares::fit_with_bias;
    use crate::LinearRegression;
    use tapegrad_optim::stop::{StopReason, StopRules};
    use tapegrad_optim::{Sgd, SgdConfig};

    #[test]
    fn columns_get_mean_zero_and_unit_deviation_constant_columns_zero() {
        let x = Tensor::<f64>::from_vec(
            vec![1.0, 7.0, 10.0, 2.0, 7.0, 30.0, 3.0, 7.0, 50.0],
            &[3, 3],
        );
        let scaler = Standardizer::fit(&x);
        assert_eq!(scaler.mean(), &[2.0, 7.0, 30.0]);
        assert!((scaler.scale()[0] - (2.0f64 / 3.0).sqrt()).abs() < 1e-15);
        assert_eq!(scaler.scale()[1], 1.0);
        let z = scaler.transform(&x).to_vec();
        for j in 0..3 {
            let column: Vec<f64> = z.iter().skip(j).step_by(3).copied().collect();
            let mean = column.iter().sum::<f64>() / 3.0;
            let var = column.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 3.0;
            assert!(mean.abs() < 1e-15, "column {j}: mean {mean}");
            assert!(
                (var - if j == 1 { 0.0 } else { 1.0 }).abs() < 1e-14,
                "column {j}: var {var}"
            );
        }
    }

    #[test]
    fn huge_values_get_a_finite_mean_and_scale() {
        // Column 0: 1e300, 3e300 → mean 2e300, sd 1e300 (the plain formula's square is inf).
        let x = Tensor::<f64>::from_vec(vec![1e300, 1.0, 3e300, 2.0], &[2, 2]);
        let s = Standardizer::fit(&x);
        assert!((s.mean()[0] / 2e300 - 1.0).abs() < 1e-15, "{:?}", s.mean());
        assert!(
            (s.scale()[0] / 1e300 - 1.0).abs() < 1e-15,
            "{:?}",
            s.scale()
        );
        let z = s.transform(&x).to_vec();
        for (got, want) in z.iter().zip([-1.0, -1.0, 1.0, 1.0]) {
            assert!((got - want).abs() < 1e-15, "{z:?}");
        }
    }

    #[test]
    #[should_panic(
        expected = "Standardizer::transform: x of shape [2, 3]; it was fitted on [n, 2]"
    )]
    fn transform_names_the_shapes_on_a_column_mismatch() {
        let scaler = Standardizer::fit(&Tensor::<f64>::zeros(&[4, 2]));
        scaler.transform(&Tensor::<f64>::zeros(&[2, 3]));
    }

    /// Features in units and in thousands: plain gradient descent with the learning rate that
    /// suits standardised data diverges on the raw features, and converges quickly, to the
    /// closed-form solution, after standardising.
    #[test]
    fn standardising_makes_one_learning_rate_work_and_unscaling_recovers_the_fit() {
        let n = 50;
        let rows: Vec<f64> = (0..n)
            .flat_map(|i| {
                let t = i as f64 / n as f64;
                [t, 1000.0 * (1.0 - t * t)]
            })
            .collect();
        let y: Vec<f64> = rows
            .chunks(2)
            .map(|r| 3.0 * r[0] - 0.002 * r[1] + 1.0)
            .collect();
        let x = Tensor::from_vec(rows.clone(), &[n, 2]);
        let y = Tensor::from_vec(y.clone(), &[n, 1]);
        let rules = StopRules {
            max_iters: Some(5000),
            grad_norm_below: Some(1e-10),
            ..Default::default()
        };
        let sgd = |model: &LinearRegression<f64>| {
            Sgd::new(
                model.params(),
                SgdConfig {
                    lr: 0.5,
                    ..Default::default()
                },
            )
            .unwrap()
        };

        let raw = LinearRegression::new(2);
        let report = raw.fit(&x, &y, &mut sgd(&raw), rules.clone());
        assert!(
            matches!(report.reason, StopReason::Diverged { .. }),
            "{report:?}"
        );

        let scaler = Standardizer::fit(&x);
        let model = LinearRegression::new(2);
        let report = model.fit(&scaler.transform(&x), &y, &mut sgd(&model), rules);
        assert!(
            matches!(report.reason, StopReason::GradientNorm { .. }),
            "{report:?}"
        );
        assert!(report.iterations < 2000, "{report:?}");

        let weights: Vec<f64> = model.weights();
        let (w, b) = scaler.unscale_linear(&weights, model.bias());
        let exact = fit_with_bias(&x, &y).unwrap();
        for (got, want) in w.iter().chain([&b]).zip(&exact) {
            assert!((got - want).abs() < 1e-8, "{w:?}, {b} vs {exact:?}");
        }
    }
}
