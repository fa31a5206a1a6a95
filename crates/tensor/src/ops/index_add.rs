//! `index_add`: zeros of extent `size` along an axis, with this tensor's slice k added into
//! slice `indices[k]` — the adjoint of `index_select`, used by its backward rule.

use std::sync::Arc;

use ndarray::{ArrayD, Axis};
use smallvec::smallvec;

use crate::error::or_panic;
use crate::forward::{Dots, JvpCtx};
use crate::tape::{record, BackwardCtx, InputGrads, Op};
use crate::{Float, Tensor};

impl<F: Float> Tensor<F> {
    /// Scatter-adds slices along `axis` into zeros of extent `size` (indices are trusted:
    /// they come from a checked `index_select`).
    #[track_caller]
    pub(crate) fn index_add(&self, axis: usize, indices: Arc<[usize]>, size: usize) -> Tensor<F> {
        let value = self.value();
        let mut shape = self.shape().to_vec();
        shape[axis] = size;
        let mut out = ArrayD::zeros(shape);
        for (k, &i) in indices.iter().enumerate() {
            let mut target = out.index_axis_mut(Axis(axis), i);
            target += &value.index_axis(Axis(axis), k);
        }
        or_panic(record(
            Op::IndexAdd {
                axis,
                indices,
                size,
            },
            &[self],
            out,
            &[],
        ))
    }
}

// y = index_add(x): y's slice i is the sum of x's slices k with indices[k] = i, so each x
// slice receives ∂L/∂y's slice indices[k]: ∂L/∂x = index_select(∂L/∂y, indices).
pub(crate) fn backward<F: Float>(ctx: &BackwardCtx<F>, grad_out: &Tensor<F>) -> InputGrads<F> {
    let Op::IndexAdd { axis, indices, .. } = ctx.op else {
        unreachable!("index_add rule on {:?}", ctx.op)
    };
    smallvec![Some(grad_out.index_select(*axis, indices))]
}

// y = index_add(x): linear, so ẏ = index_add(ẋ).
pub(crate) fn jvp<F: Float>(ctx: &JvpCtx<F>, dots: &Dots<F>) -> Option<Tensor<F>> {
    let Op::IndexAdd {
        axis,
        indices,
        size,
    } = ctx.op
    else {
        unreachable!("index_add rule on {:?}", ctx.op)
    };
    Some(
        dots[0]
            .as_ref()?
            .index_add(*axis, Arc::clone(indices), *size),
    )
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use crate::Tensor;

    #[test]
    fn value_and_gradcheck() {
        // Rows [a, b, c] into 2 rows at [1, 0, 1]: [b, a + c].
        let x = Tensor::<f64>::from_vec(vec![1.0, 2.0, 3.0], &[3, 1]);
        assert_eq!(x.index_add(0, [1, 0, 1].into(), 2).to_vec(), vec![2.0, 4.0]);
        check(
            "index_add",
            |t| t[0].index_add(1, [2, 2, 0].into(), 4),
            &[uniform(&[2, 3], 1)],
        );
    }
}
