//! Layer normalisation (Ba, Kiros & Hinton, 2016) over the last axis:
//!
//! ```text
//! μ = mean(x),  σ² = mean((x − μ)²)     (over the last axis, per row)
//! y = (x − μ) / √(σ² + ε) · γ + β
//! ```
//!
//! Built from tensor ops (mean, var, sqrt, broadcasting mul/add), so the tape derives the
//! backward rule, including the terms through μ and σ² that make ∂y/∂x a full matrix per row;
//! the test below checks it against finite differences.

use ndarray::ArrayD;
use tapegrad_tensor::{Float, Param, Tensor};

use crate::module::Module;

/// (x − μ)/√(σ² + ε)·γ + β over the last axis, for x of shape [.., dim].
pub fn layer_norm<F: Float>(
    x: &Tensor<F>,
    gain: &Tensor<F>,
    shift: &Tensor<F>,
    eps: f64,
) -> Tensor<F> {
    let last = x.ndim() - 1;
    let mean = x.mean_axes(&[last], true);
    let variance = x.var_axes(&[last], 0, true);
    let normalised = (x - &mean) / variance.add_scalar(F::from_f64(eps)).sqrt();
    normalised * gain + shift
}

/// Normalises each row's last `dim` features to mean 0 and variance 1, then applies a learned
/// gain γ (initially 1) and shift β (initially 0).
#[derive(Clone, Debug)]
pub struct LayerNorm<F: Float> {
    gain: Param<F>,
    shift: Param<F>,
    eps: f64,
}

impl<F: Float> LayerNorm<F> {
    /// Layer normalisation over a last axis of size `dim`, with ε = 1e-5 (PyTorch's default).
    pub fn new(dim: usize) -> Self {
        Self::with_eps(dim, 1e-5)
    }

    /// As [`new`](Self::new) with ε = `eps` (PyTorch's `LayerNorm(dim, eps=…)`, the
    /// `layer_norm_eps` of a transformer layer).
    pub fn with_eps(dim: usize, eps: f64) -> Self {
        LayerNorm {
            gain: Param::new("weight", ArrayD::ones(vec![dim])),
            shift: Param::new("bias", ArrayD::zeros(vec![dim])),
            eps,
        }
    }
}

impl<F: Float> Module<F> for LayerNorm<F> {
    /// # Panics
    /// When x's last axis is not `dim` long.
    #[track_caller]
    fn forward(&self, x: &Tensor<F>) -> Tensor<F> {
        let dim = self.gain.shape()[0];
        assert!(
            x.shape().last() == Some(&dim),
            "LayerNorm: x of shape {:?}; its last axis must be {dim}",
            x.shape()
        );
        layer_norm(x, &self.gain.tensor(), &self.shift.tensor(), self.eps)
    }

    /// `weight` (γ) and `bias` (β), PyTorch's names.
    fn named_parameters(&self) -> Vec<(String, Param<F>)> {
        vec![
            ("weight".into(), self.gain.clone()),
            ("bias".into(), self.shift.clone()),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tapegrad_tensor::gradcheck::gradcheck;

    #[test]
    fn rows_come_out_with_mean_zero_and_unit_variance() {
        let x = Tensor::<f64>::from_vec(vec![1.0, 2.0, 3.0, 10.0, 10.0, 40.0], &[2, 3]);
        let y = LayerNorm::new(3).forward(&x).to_vec();
        // Row [1, 2, 3]: μ = 2, σ² = 2/3, so y = [−1, 0, 1]/√(2/3 + 1e-5).
        let s = (2.0f64 / 3.0 + 1e-5).sqrt();
        for (got, want) in y[..3].iter().zip([-1.0 / s, 0.0, 1.0 / s]) {
            assert!((got - want).abs() < 1e-12, "{y:?}");
        }
        let second = &y[3..];
        assert!(second.iter().sum::<f64>().abs() < 1e-12);
        assert!((second.iter().map(|v| v * v).sum::<f64>() / 3.0 - 1.0).abs() < 1e-4);
    }

    #[test]
    fn gradients_in_x_gain_and_shift_pass_gradcheck() {
        // Shapes [2, 3, 4] exercise the broadcasting of γ and β over two leading axes.
        let x = Tensor::<f64>::randn(&[2, 3, 4], 0.0, 2.0, 1).to_array();
        let gain = Tensor::<f64>::randn(&[4], 1.0, 0.5, 2).to_array();
        let shift = Tensor::<f64>::randn(&[4], 0.0, 0.5, 3).to_array();
        gradcheck(
            "layer_norm",
            |t| layer_norm(&t[0], &t[1], &t[2], 1e-5),
            &[x, gain, shift],
        )
        .unwrap();
    }

    #[test]
    #[should_panic(expected = "LayerNorm: x of shape [2, 5]; its last axis must be 4")]
    fn a_wrong_width_names_the_shapes() {
        LayerNorm::<f64>::new(4).forward(&Tensor::zeros(&[2, 5]));
    }
}
