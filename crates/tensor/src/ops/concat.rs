//! `concat`: tensors joined along an existing axis, and the composite `stack`, which joins
//! them along a new one.
//!
//! ```
//! use tapegrad_tensor::Tensor;
//! let a = Tensor::<f32>::ones(&[2, 1]);
//! let b = Tensor::<f32>::zeros(&[2, 2]);
//! assert_eq!(Tensor::concat(&[&a, &b], 1).shape(), &[2, 3]);
//! assert_eq!(Tensor::stack(&[&a, &a], 0).shape(), &[2, 2, 1]);
//! ```

use ndarray::Axis;

use crate::error::{or_panic, Result, TensorError};
use crate::forward::{Dots, JvpCtx};
use crate::shape::{axis_index, Dim};
use crate::tape::{record, BackwardCtx, InputGrads, Op};
use crate::{Float, Tensor};

impl<F: Float> Tensor<F> {
    /// `tensors` joined along `axis`; all must have the same shape except along `axis`.
    ///
    /// # Errors
    /// `concat` for an empty list, an axis out of range, or shapes that differ elsewhere.
    #[track_caller]
    pub fn try_concat(tensors: &[&Tensor<F>], axis: impl Dim) -> Result<Tensor<F>> {
        let Some(first) = tensors.first() else {
            return Err(TensorError::InvalidArgument {
                op: "concat",
                shape: vec![],
                rule: "the list of tensors is empty".into(),
            });
        };
        let axis = axis_index("concat", axis, first.shape())?;
        for t in &tensors[1..] {
            let same_rank = t.ndim() == first.ndim();
            let agree =
                same_rank && (0..t.ndim()).all(|d| d == axis || t.shape()[d] == first.shape()[d]);
            if !agree {
                return Err(TensorError::ShapeMismatch {
                    op: "concat",
                    lhs: first.shape().to_vec(),
                    rhs: t.shape().to_vec(),
                    rule: format!("shapes must agree on every axis but {axis}"),
                });
            }
        }
        let values: Vec<_> = tensors.iter().map(|t| t.value()).collect();
        let views: Vec<_> = values.iter().map(|v| v.view()).collect();
        let out = ndarray::concatenate(Axis(axis), &views).expect("shapes were checked");
        let sizes = tensors.iter().map(|t| t.shape()[axis]).collect();
        record(Op::Concat { axis, sizes }, tensors, out, &[])
    }

    /// Panicking form of [`try_concat`](Self::try_concat).
    #[track_caller]
    pub fn concat(tensors: &[&Tensor<F>], axis: impl Dim) -> Tensor<F> {
        or_panic(Self::try_concat(tensors, axis))
    }

    /// `tensors`, all of one shape, joined along a new axis at position `axis`.
    /// A composite: `unsqueeze` each, then `concat`.
    ///
    /// # Errors
    /// `stack` for an empty list or differing shapes; `unsqueeze` for `axis > ndim`.
    #[track_caller]
    pub fn try_stack(tensors: &[&Tensor<F>], axis: impl Dim) -> Result<Tensor<F>> {
        if let Some(t) = tensors.iter().find(|t| t.shape() != tensors[0].shape()) {
            return Err(TensorError::ShapeMismatch {
                op: "stack",
                lhs: tensors[0].shape().to_vec(),
                rhs: t.shape().to_vec(),
                rule: "stacked tensors must have equal shapes".into(),
            });
        }
        let expanded = tensors
            .iter()
            .map(|t| t.try_unsqueeze(axis))
            .collect::<Result<Vec<_>>>()?;
        let refs: Vec<&Tensor<F>> = expanded.iter().collect();
        Self::try_concat(&refs, axis).map_err(|e| e.in_op("stack"))
    }

    /// Panicking form of [`try_stack`](Self::try_stack).
    #[track_caller]
    pub fn stack(tensors: &[&Tensor<F>], axis: impl Dim) -> Tensor<F> {
        or_panic(Self::try_stack(tensors, axis))
    }
}

// y = [x₀ | x₁ | …] along an axis: each input's elements sit in one block of y, so ∂L/∂xₖ is
// the matching block of ∂L/∂y, cut out with `narrow`.
pub(crate) fn backward<F: Float>(ctx: &BackwardCtx<F>, grad_out: &Tensor<F>) -> InputGrads<F> {
    let Op::Concat { axis, sizes } = ctx.op else {
        unreachable!("concat rule on {:?}", ctx.op)
    };
    let mut start = 0;
    let mut grads = InputGrads::new();
    for (k, &size) in sizes.iter().enumerate() {
        grads.push(
            ctx.needs_grad(k)
                .then(|| grad_out.narrow(*axis, start, size)),
        );
        start += size;
    }
    grads
}

// y = [x₀ | x₁ | …]: linear, so ẏ = [ẋ₀ | ẋ₁ | …], a zero block for an input with no tangent.
pub(crate) fn jvp<F: Float>(ctx: &JvpCtx<F>, dots: &Dots<F>) -> Option<Tensor<F>> {
    let Op::Concat { axis, .. } = ctx.op else {
        unreachable!("concat rule on {:?}", ctx.op)
    };
    let blocks: Vec<Tensor<F>> = dots
        .iter()
        .enumerate()
        .map(|(k, d)| {
            d.clone()
                .unwrap_or_else(|| Tensor::zeros(ctx.input(k).shape()))
        })
        .collect();
    let refs: Vec<&Tensor<F>> = blocks.iter().collect();
    Some(Tensor::concat(&refs, *axis))
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use crate::Tensor;

    #[test]
    fn values_and_analytic_gradient() {
        // Σ (2·[a | b]) gives 2 to every element of both.
        let a = Tensor::<f64>::from_vec(vec![1.0, 2.0], &[2, 1]).requires_grad();
        let b = Tensor::<f64>::from_vec(vec![3.0, 4.0], &[2, 1]).requires_grad();
        let c = Tensor::concat(&[&a, &b], 1);
        assert_eq!(c.to_vec(), vec![1.0, 3.0, 2.0, 4.0]);
        (c * 2.0).sum().backward();
        assert_eq!(a.grad().unwrap().to_vec(), vec![2.0, 2.0]);
        assert_eq!(b.grad().unwrap().to_vec(), vec![2.0, 2.0]);
    }

    #[test]
    fn gradcheck_with_three_inputs_and_constants() {
        let inputs = [
            uniform(&[2, 1, 3], 1),
            uniform(&[2, 4, 3], 2),
            uniform(&[2, 0, 3], 3),
        ];
        check(
            "concat",
            |t| Tensor::concat(&[&t[0], &t[1], &t[2]], 1),
            &inputs,
        );
        let constant = Tensor::<f64>::ones(&[2, 3]);
        check(
            "concat",
            |t| Tensor::concat(&[&t[0], &constant], 0),
            &[uniform(&[1, 3], 4)],
        );
        check(
            "stack",
            |t| Tensor::stack(&[&t[0], &t[1]], 2),
            &[uniform(&[2, 3], 5), uniform(&[2, 3], 6)],
        );
    }

    #[test]
    fn errors() {
        let (a, b) = (Tensor::<f32>::zeros(&[2, 3]), Tensor::<f32>::zeros(&[3, 3]));
        assert_eq!(
            Tensor::try_concat(&[&a, &b], 1).unwrap_err().to_string(),
            "concat: [2, 3] and [3, 3]: shapes must agree on every axis but 1"
        );
        assert_eq!(
            Tensor::<f32>::try_concat(&[], 0).unwrap_err().to_string(),
            "concat: []: the list of tensors is empty"
        );
        assert_eq!(
            Tensor::<f32>::try_stack(&[], 0).unwrap_err().to_string(),
            "stack: []: the list of tensors is empty"
        );
        assert_eq!(
            Tensor::try_stack(&[&a, &b], 0).unwrap_err().to_string(),
            "stack: [2, 3] and [3, 3]: stacked tensors must have equal shapes"
        );
    }
}
