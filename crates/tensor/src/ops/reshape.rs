//! `reshape`: the same elements in row-major order, under a new shape.
//!
//! ```
//! use tapegrad_tensor::Tensor;
//! let x = Tensor::<f32>::arange(0.0, 6.0, 1.0).reshape(&[2, 3]);
//! assert_eq!(x.shape(), &[2, 3]);
//! ```

use std::sync::Arc;

use ndarray::IxDyn;
use smallvec::smallvec;

use crate::error::{or_panic, Result, TensorError};
use crate::forward::{Dots, JvpCtx};
use crate::tape::{record, BackwardCtx, InputGrads, Op};
use crate::tensor::Repr;
use crate::{Float, Tensor};

impl<F: Float> Tensor<F> {
    /// The elements, read in row-major order, laid out in `shape`.
    ///
    /// # Errors
    /// `reshape` when `shape` holds a different number of elements.
    #[track_caller]
    pub fn try_reshape(&self, shape: &[usize]) -> Result<Tensor<F>> {
        if shape.iter().product::<usize>() != self.numel() {
            return Err(TensorError::ElementCount {
                op: "reshape",
                from: self.shape().to_vec(),
                to: shape.to_vec(),
            });
        }
        let value = self.value();
        let out = value
            .to_shape(IxDyn(shape))
            .expect("element counts were checked")
            .into_owned();
        record(
            Op::Reshape {
                from: self.shape().into(),
            },
            &[self],
            out,
            &[],
        )
    }

    /// Panicking form of [`try_reshape`](Self::try_reshape).
    #[track_caller]
    pub fn reshape(&self, shape: &[usize]) -> Tensor<F> {
        or_panic(self.try_reshape(shape))
    }

    /// [`reshape`](Self::reshape) of a tensor the caller gives up, for composites: when
    /// nothing else holds its values (an intermediate result whose node saved nothing), the
    /// buffer is relabelled instead of copied. The recorded node is the same `reshape`.
    // fast path: conv2d's final [N, O, L] → [N, O, OH, OW] copied every conv output
    #[track_caller]
    pub(crate) fn into_reshape(self, shape: &[usize]) -> Tensor<F> {
        assert_eq!(
            shape.iter().product::<usize>(),
            self.numel(),
            "into_reshape: element counts"
        );
        match self.repr {
            Repr::Recorded { value, tape, id } => match Arc::try_unwrap(value) {
                Ok(array) if array.is_standard_layout() => {
                    let from = array.shape().into();
                    let out = array
                        .into_shape_with_order(IxDyn(shape))
                        .expect("standard layout, same count");
                    // The input is identified by its node; reshape saves no value of it.
                    let node = Tensor {
                        repr: Repr::Recorded {
                            value: Arc::new(ndarray::ArrayD::zeros(IxDyn(&[0]))),
                            tape,
                            id,
                        },
                    };
                    or_panic(record(Op::Reshape { from }, &[&node], out, &[]))
                }
                Ok(array) => Tensor {
                    repr: Repr::Recorded {
                        value: Arc::new(array),
                        tape,
                        id,
                    },
                }
                .reshape(shape),
                Err(value) => Tensor {
                    repr: Repr::Recorded { value, tape, id },
                }
                .reshape(shape),
            },
            Repr::Constant(value) => match Arc::try_unwrap(value) {
                Ok(array) if array.is_standard_layout() => Tensor::from_array(
                    array
                        .into_shape_with_order(IxDyn(shape))
                        .expect("standard layout, same count"),
                ),
                Ok(array) => Tensor::from_array(array).reshape(shape),
                Err(value) => Tensor::from_arc(value).reshape(shape),
            },
            Repr::Param(_) => self.reshape(shape),
        }
    }

    /// All elements in one axis (shape `[numel]`).
    #[track_caller]
    pub fn flatten(&self) -> Tensor<F> {
        self.reshape(&[self.numel()])
    }
}

// y = reshape(x): every element keeps its row-major position, so ∂L/∂x is ∂L/∂y reshaped back.
pub(crate) fn backward<F: Float>(ctx: &BackwardCtx<F>, grad_out: &Tensor<F>) -> InputGrads<F> {
    let Op::Reshape { from } = ctx.op else {
        unreachable!("reshape rule on {:?}", ctx.op)
    };
    smallvec![Some(grad_out.reshape(from))]
}

// y = reshape(x): linear, so ẏ = reshape(ẋ).
pub(crate) fn jvp<F: Float>(ctx: &JvpCtx<F>, dots: &Dots<F>) -> Option<Tensor<F>> {
    Some(dots[0].as_ref()?.reshape(ctx.shape()))
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use crate::Tensor;

    #[test]
    fn value_gradcheck_and_error() {
        let x = Tensor::<f64>::arange(0.0, 6.0, 1.0).reshape(&[3, 2]);
        assert_eq!(x.to_vec(), vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
        // A transposed (non-contiguous) input is read in its logical order.
        assert_eq!(
            x.t().reshape(&[6]).to_vec(),
            vec![0.0, 2.0, 4.0, 1.0, 3.0, 5.0]
        );
        check("reshape", |t| t[0].reshape(&[4, 3]), &[uniform(&[2, 6], 1)]);
        check("reshape", |t| t[0].reshape(&[]), &[uniform(&[1, 1], 2)]);
        // The moving form: same values and gradient, whether the buffer is shared or not.
        check(
            "into_reshape",
            |t| (&t[0] * 2.0).into_reshape(&[4, 3]),
            &[uniform(&[2, 6], 3)],
        );
        check(
            "into_reshape",
            |t| t[0].t().into_reshape(&[12]),
            &[uniform(&[2, 6], 4)],
        );
        // The sweep's own path (the adjoint relabelled, not copied): an adjoint that arrives
        // transposed, one that a watched node also keeps, and one added to twice.
        let w = Tensor::<f64>::arange(0.0, 6.0, 1.0).requires_grad();
        let weights = Tensor::from_vec(vec![1.0, 10.0, 100.0, 1000.0, 1e4, 1e5], &[3, 2]);
        let r = w.reshape(&[2, 3]);
        (&r.t() * &weights).sum().backward();
        assert_eq!(
            w.grad().unwrap().to_vec(),
            vec![1.0, 100.0, 1e4, 10.0, 1000.0, 1e5]
        );
        let v = Tensor::<f64>::arange(0.0, 4.0, 1.0).requires_grad();
        let r = v.reshape(&[2, 2]);
        let adjoints = crate::grad(&(&r * 3.0 + &r).sum(), &[&v, &r], false).unwrap();
        assert_eq!(adjoints[0].to_vec(), vec![4.0; 4]);
        assert_eq!(adjoints[1].shape(), &[2, 2]);
        let shared = &x * 1.0;
        assert_eq!(shared.clone().into_reshape(&[6]).to_vec(), shared.to_vec());
        let err = x.try_reshape(&[4, 2]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "reshape: cannot reshape [3, 2] (6 elements) into [4, 2] (8 elements)"
        );
    }
}
