//! Gradient clipping, applied between `backward` and `step`.
//!
//! - by global norm (Pascanu et al., 2013): when ‖g‖ = √(Σ over all parameters of Σ g²)
//!   exceeds `max_norm`, every gradient is scaled by `max_norm/‖g‖`, keeping its direction;
//! - by value: every component is limited to [−clip, clip].

use ndarray::Zip;
use tapegrad_tensor::{Float, Param};

/// The global L2 norm of all the parameters' gradients (those without one count as 0).
pub fn grad_norm<F: Float>(params: &[Param<F>]) -> f64 {
    let mut sum = 0.0;
    for p in params {
        p.update_grad(|g| sum += g.iter().map(|&x| x.as_f64() * x.as_f64()).sum::<f64>());
    }
    sum.sqrt()
}

/// Scales all gradients together so their global norm is at most `max_norm`; returns the
/// norm before clipping (PyTorch's `clip_grad_norm_`). A NaN norm is returned unchanged and
/// nothing is scaled, so the caller can see it.
pub fn clip_grad_norm<F: Float>(params: &[Param<F>], max_norm: f64) -> f64 {
    let norm = grad_norm(params);
    if norm > max_norm {
        let scale = F::from_f64(max_norm / norm);
        for p in params {
            p.update_grad(|g| g.mapv_inplace(|x| x * scale));
        }
    }
    norm
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
    fn norm_clipping_keeps_direction() {
        // Gradients [3] and [4]: global norm 5; clipped to 1 they become [0.6] and [0.8].
        let (a, b) = (param(&[0.0]), param(&[0.0]));
        set_grad(&a, &[3.0]);
        set_grad(&b, &[4.0]);
        let params = [a.clone(), b.clone()];
        assert_eq!(clip_grad_norm(&params, 1.0), 5.0);
        approx::assert_abs_diff_eq!(a.grad().unwrap()[[0]], 0.6, epsilon = 1e-15);
        approx::assert_abs_diff_eq!(b.grad().unwrap()[[0]], 0.8, epsilon = 1e-15);
        assert!((grad_norm(&params) - 1.0).abs() < 1e-15);
        // Under the limit nothing changes.
        assert_eq!(clip_grad_norm(&params, 10.0), grad_norm(&params));
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
