//! `logsumexp`: ln Σ eˣ over axes, without overflow — a composite,
//!
//! ```text
//! logsumexp(x) = m + ln Σ e^(x − m),   m = max(x), held constant (detached)
//! ```
//!
//! Every exponent is ≤ 0, so nothing overflows (inputs of 1e4 are fine in f32). Holding m
//! constant is exact — the expression equals ln Σ eˣ for any m — so the tape yields
//! ∂/∂xᵢ = e^(xᵢ − m)/Σ e^(x − m) = softmax(x)ᵢ. A non-finite m (a group of all −inf) is
//! replaced by 0, as in PyTorch, so such a group gives −inf rather than NaN.
//!
//! ```
//! use tapegrad_tensor::Tensor;
//! let x = Tensor::<f32>::from_vec(vec![1e4, 1e4], &[2]);
//! assert_eq!(x.logsumexp().item(), 1e4 + 2f32.ln());
//! ```

use crate::error::{or_panic, Result};
use crate::shape::{normalize_axes, reduced_shape, Dim};
use crate::{Float, Tensor};

impl<F: Float> Tensor<F> {
    /// ln Σ eˣ over all elements, shape `[]`.
    ///
    /// # Errors
    /// `logsumexp` when the tensor is empty.
    #[track_caller]
    pub fn try_logsumexp(&self) -> Result<Tensor<F>> {
        let all: Vec<usize> = (0..self.ndim()).collect();
        self.try_logsumexp_axes(&all, false)
    }

    /// Panicking form of [`try_logsumexp`](Self::try_logsumexp).
    #[track_caller]
    pub fn logsumexp(&self) -> Tensor<F> {
        or_panic(self.try_logsumexp())
    }

    /// ln Σ eˣ over `axes` (kept as size 1 with `keepdim`).
    ///
    /// # Errors
    /// `logsumexp` when an axis is out of range or a reduced axis is empty.
    #[track_caller]
    pub fn try_logsumexp_axes(&self, axes: &[impl Dim], keepdim: bool) -> Result<Tensor<F>> {
        let axes = normalize_axes("logsumexp", axes, self.shape())?;
        let (shifted, m) = self.shift_by_max(&axes).map_err(|e| e.in_op("logsumexp"))?;
        let lse = shifted.exp().sum_axes(&axes, true).ln().add(&m);
        Ok(if keepdim {
            lse
        } else {
            lse.reshape(&reduced_shape(self.shape(), &axes, false))
        })
    }

    /// `(x − m, m)` with m the maximum over `axes` (kept as size 1), held constant, and a
    /// non-finite m replaced by 0. The shared first step of logsumexp and the softmaxes:
    /// after it every exponent is ≤ 0.
    #[track_caller]
    pub(crate) fn shift_by_max(&self, axes: &[usize]) -> Result<(Tensor<F>, Tensor<F>)> {
        let m = self.detach().try_max_axes(axes, true)?;
        let m = Tensor::from_array(
            m.value()
                .mapv(|v| if v.is_finite() { v } else { F::zero() }),
        );
        Ok((self.sub(&m), m))
    }

    /// Panicking form of [`try_logsumexp_axes`](Self::try_logsumexp_axes).
    #[track_caller]
    pub fn logsumexp_axes(&self, axes: &[impl Dim], keepdim: bool) -> Tensor<F> {
        or_panic(self.try_logsumexp_axes(axes, keepdim))
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use crate::Tensor;

    #[test]
    fn values_gradient_and_extremes() {
        // ln(e⁰ + e⁰) = ln 2, and its gradient is softmax = [½, ½].
        let x = Tensor::<f64>::zeros(&[2]).requires_grad();
        let y = x.logsumexp();
        assert_eq!(y.item(), 2f64.ln());
        y.backward();
        assert_eq!(x.grad().unwrap().to_vec(), vec![0.5, 0.5]);
        let inf = Tensor::<f32>::full(&[2], f32::NEG_INFINITY)
            .logsumexp()
            .item();
        assert_eq!(inf, f32::NEG_INFINITY);
        let big = Tensor::<f32>::from_vec(vec![1e4, 0.0, -1e4], &[3]).logsumexp_axes(&[0], true);
        assert_eq!(big.to_vec(), vec![1e4]);
        check(
            "logsumexp",
            |t| t[0].logsumexp_axes(&[1], false),
            &[uniform(&[3, 4], 1)],
        );
        check("logsumexp", |t| t[0].logsumexp(), &[uniform(&[2, 2, 2], 2)]);
    }
}
