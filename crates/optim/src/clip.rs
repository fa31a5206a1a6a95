//! Gradient clipping, applied between `backward` and `step`.
//!
//! - by global norm (Pascanu et al., 2013), PyTorch's `clip_grad_norm_`: with
//!   ‖g‖ the norm of all the parameters' gradients together, every gradient is scaled by
//!
//!   ```text
//!   c = min(1, max_norm / (‖g‖ + 1e-6))
//!   ```
//!
//!   keeping its direction; the norm before clipping is returned;
//! - by value: every component is limited to [−clip, clip].
//!
//! NOTE: the 1e-6 and the unconditional scaling are PyTorch's, documented in
//! `torch.nn.utils.clip_grad_norm_`, and followed so that a run here clips exactly as the same
//! run there. It means a norm just above `max_norm` is clipped to slightly *below* it (by a
//! relative 1e-6/‖g‖), and a norm ≤ `max_norm` is left alone. Until this version tapegrad
//! scaled by max_norm/‖g‖ only when ‖g‖ > max_norm, which differs in the last digits.

use ndarray::Zip;
use tapegrad_tensor::{Float, Param};

use crate::error::check;
use crate::OptimError;

/// The global L2 norm of all the parameters' gradients (those without one count as 0).
pub fn grad_norm<F: Float>(params: &[Param<F>]) -> f64 {
    total_norm(params, 2.0)
}

/// The global `norm_type`-norm of all the gradients: the norm of the per-parameter norms,
/// computed as PyTorch does. `norm_type` is p ≥ 1 for (Σ|x|ᵖ)^(1/p), or `f64::INFINITY` for
/// max |x|.
fn total_norm<F: Float>(params: &[Param<F>], norm_type: f64) -> f64 {
    let norm = |values: &mut dyn Iterator<Item = f64>| -> f64 {
        if norm_type == f64::INFINITY {
            values.map(f64::abs).fold(0.0, f64::max)
        } else if norm_type == 1.0 {
            values.map(f64::abs).sum()
        } else if norm_type == 2.0 {
            values.map(|x| x * x).sum::<f64>().sqrt()
        } else {
            values
                .map(|x| x.abs().powf(norm_type))
                .sum::<f64>()
                .powf(1.0 / norm_type)
        }
    };
    let mut per_param = Vec::with_capacity(params.len());
    for p in params {
        p.update_grad(|g| per_param.push(norm(&mut g.iter().map(|x| x.as_f64()))));
    }
    norm(&mut per_param.into_iter())
}

/// Scales all gradients together by min(1, max_norm/(‖g‖₂ + 1e-6)), PyTorch's
/// `clip_grad_norm_(params, max_norm)`; returns the L2 norm before clipping. A NaN or
/// infinite norm scales the gradients by NaN or 0 as PyTorch does; use
/// [`clip_grad_norm_with`] to have it reported instead.
pub fn clip_grad_norm<F: Float>(params: &[Param<F>], max_norm: f64) -> f64 {
    let norm = total_norm(params, 2.0);
    scale_all(params, max_norm, norm);
    norm
}

/// [`clip_grad_norm`] with PyTorch's other arguments: `norm_type` is 1, 2, any p ≥ 1, or
/// `f64::INFINITY` (max |g|); with `error_if_nonfinite`, a NaN or infinite total norm is an
/// error and nothing is scaled.
///
/// ```
/// use tapegrad_optim::clip::clip_grad_norm_with;
/// use tapegrad_tensor::Param;
/// let w = Param::<f64>::new("w", ndarray::arr1(&[0.0, 0.0]).into_dyn());
/// (w.tensor() * tapegrad_tensor::Tensor::from_vec(vec![3.0, -4.0], &[2])).sum().backward();
/// // ‖g‖₁ = 7 > 3.5: scaled by 3.5/(7 + 1e-6).
/// let norm = clip_grad_norm_with(&[w.clone()], 3.5, 1.0, true).unwrap();
/// assert_eq!(norm, 7.0);
/// assert!((w.grad().unwrap()[0] - 1.5).abs() < 1e-6);
/// ```
///
/// # Errors
/// `InvalidSetting` for a `norm_type` below 1 or NaN; `NonFiniteNorm` when
/// `error_if_nonfinite` and the norm is NaN or infinite.
pub fn clip_grad_norm_with<F: Float>(
    params: &[Param<F>],
    max_norm: f64,
    norm_type: f64,
    error_if_nonfinite: bool,
) -> Result<f64, OptimError> {
    check(
        "clip_grad_norm",
        "norm_type",
        norm_type,
        norm_type >= 1.0,
        "must be ≥ 1 or infinity",
    )?;
    let norm = total_norm(params, norm_type);
    if error_if_nonfinite && !norm.is_finite() {
        return Err(OptimError::NonFiniteNorm { norm, norm_type });
    }
    scale_all(params, max_norm, norm);
    Ok(norm)
}

/// g ← g·min(1, max_norm/(norm + 1e-6)) for every gradient.
fn scale_all<F: Float>(params: &[Param<F>], max_norm: f64, norm: f64) {
    let coef = max_norm / (norm + 1e-6);
    // NaN stays NaN (f64::min would drop it), as in PyTorch's clamp.
    let scale = F::from_f64(if coef.is_nan() { coef } else { coef.min(1.0) });
    for p in params {
        p.update_grad(|g| g.mapv_inplace(|x| x * scale));
    }
}

/// Limits every gradient component to [−clip, clip] (PyTorch's `clip_grad_value_`).
pub fn clip_grad_value<F: Float>(params: &[Param<F>], clip: f64) {
    let (lo, hi) = (F::from_f64(-clip), F::from_f64(clip));
    for p in params {
        p.update_grad(|g| Zip::from(g).for_each(|x| *x = x.max(lo).min(hi)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{param, set_grad};

    #[test]
    fn norm_clipping_keeps_direction_and_follows_torch() {
        // Gradients [3] and [4]: global norm 5; clipped to 1 they are scaled by
        // 1/(5 + 1e-6) (PyTorch's documented rule): [0.6, 0.8]·(5/(5 + 1e-6)).
        let (a, b) = (param(&[0.0]), param(&[0.0]));
        set_grad(&a, &[3.0]);
        set_grad(&b, &[4.0]);
        let params = [a.clone(), b.clone()];
        assert_eq!(clip_grad_norm(&params, 1.0), 5.0);
        let c = 1.0 / (5.0 + 1e-6);
        assert_eq!(a.grad().unwrap()[[0]], 3.0 * c);
        assert_eq!(b.grad().unwrap()[[0]], 4.0 * c);
        // torch.nn.utils.clip_grad_norm_ gives 0.5999998800000240 and 0.7999998400000320.
        approx::assert_abs_diff_eq!(a.grad().unwrap()[[0]], 0.599999880000024, epsilon = 1e-15);
        approx::assert_abs_diff_eq!(b.grad().unwrap()[[0]], 0.799999840000032, epsilon = 1e-15);
        // Under the limit nothing changes (the coefficient is clamped to 1).
        let before = grad_norm(&params);
        assert_eq!(clip_grad_norm(&params, 10.0), before);
        assert_eq!(grad_norm(&params), before);
    }

    #[test]
    fn norm_types_and_nonfinite_norms() {
        // g = [3, −4] and [12]: ‖·‖₁ = 19, ‖·‖∞ = 12, ‖·‖₂ = √(25 + 144) = 13.
        let make = || {
            let (a, b) = (param(&[0.0, 0.0]), param(&[0.0]));
            set_grad(&a, &[3.0, -4.0]);
            set_grad(&b, &[12.0]);
            [a, b]
        };
        for (norm_type, norm) in [(1.0, 19.0), (2.0, 13.0), (f64::INFINITY, 12.0)] {
            let params = make();
            assert_eq!(clip_grad_norm_with(&params, 6.0, norm_type, true), Ok(norm));
            let c = 6.0 / (norm + 1e-6);
            assert_eq!(params[1].grad().unwrap()[[0]], 12.0 * c, "norm {norm_type}");
        }
        let params = make();
        assert!(clip_grad_norm_with(&params, 1.0, 0.5, false).is_err());
        // An infinite gradient: an error with error_if_nonfinite (nothing scaled) …
        set_grad(&params[1], &[f64::INFINITY]);
        let err = clip_grad_norm_with(&params, 1.0, 2.0, true).unwrap_err();
        assert_eq!(
            err,
            OptimError::NonFiniteNorm {
                norm: f64::INFINITY,
                norm_type: 2.0
            }
        );
        assert_eq!(params[0].grad().unwrap()[[0]], 3.0);
        // … and without it, PyTorch's arithmetic: coefficient 1/(∞ + 1e-6) = 0.
        assert_eq!(
            clip_grad_norm_with(&params, 1.0, 2.0, false),
            Ok(f64::INFINITY)
        );
        assert_eq!(params[0].grad().unwrap()[[0]], 0.0);
    }

    #[test]
    fn value_clipping() {
        let w = param(&[0.0, 0.0, 0.0]);
        set_grad(&w, &[-5.0, 0.5, 2.0]);
        clip_grad_value(std::slice::from_ref(&w), 1.0);
        assert_eq!(
            w.grad().unwrap().iter().copied().collect::<Vec<_>>(),
            vec![-1.0, 0.5, 1.0]
        );
    }
}
