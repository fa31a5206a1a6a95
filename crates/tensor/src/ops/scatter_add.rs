//! `scatter_add`: the adjoint of `gather` — zeros of a given shape, with this tensor's element
//! at position p added at p with its `axis` coordinate replaced by `index[p]`. Used by
//! `gather`'s backward rule.

use std::sync::Arc;

use ndarray::ArrayD;
use smallvec::smallvec;

use super::gather::{last_axis_rows, targets};
use crate::error::or_panic;
use crate::forward::{Dots, JvpCtx};
use crate::tape::{record, BackwardCtx, InputGrads, Op};
use crate::{Float, Tensor};

impl<F: Float> Tensor<F> {
    /// Scatter-adds into zeros of `shape` (the index is trusted: it comes from a checked
    /// `gather`, and has this tensor's shape).
    #[track_caller]
    pub(crate) fn scatter_add(
        &self,
        axis: usize,
        index: Arc<ArrayD<usize>>,
        shape: &[usize],
    ) -> Tensor<F> {
        let value = self.value();
        let mut out = ArrayD::zeros(shape);
        let rows = last_axis_rows(shape, axis, &index);
        match (rows, value.as_slice(), out.as_slice_mut()) {
            // fast path: one contiguous row at a time (max-pooling's backward)
            (Some((len, index)), Some(value), Some(out)) if value.len() == index.len() => {
                let picks = index.len() / (out.len() / len).max(1);
                if picks > 0 {
                    for ((row, idx), v) in out
                        .chunks_exact_mut(len)
                        .zip(index.chunks_exact(picks))
                        .zip(value.chunks_exact(picks))
                    {
                        for (&i, &v) in idx.iter().zip(v) {
                            row[i] += v;
                        }
                    }
                }
            }
            _ => {
                for (position, target) in targets(&index, axis) {
                    out[target] += value[position];
                }
            }
        }
        let op = Op::ScatterAdd {
            axis,
            index,
            shape: shape.into(),
        };
        or_panic(record(op, &[self], out, &[]))
    }
}

// y = scatter_add(x): y[target(p)] += x[p], so ∂L/∂x[p] = ∂L/∂y[target(p)]: a gather.
pub(crate) fn backward<F: Float>(ctx: &BackwardCtx<F>, grad_out: &Tensor<F>) -> InputGrads<F> {
    let Op::ScatterAdd { axis, index, .. } = ctx.op else {
        unreachable!("scatter_add rule on {:?}", ctx.op)
    };
    smallvec![Some(grad_out.gather(*axis, &**index))]
}

// y = scatter_add(x, index): linear, so ẏ = scatter_add(ẋ, index).
pub(crate) fn jvp<F: Float>(ctx: &JvpCtx<F>, dots: &Dots<F>) -> Option<Tensor<F>> {
    let Op::ScatterAdd { axis, index, shape } = ctx.op else {
        unreachable!("scatter_add rule on {:?}", ctx.op)
    };
    Some(
        dots[0]
            .as_ref()?
            .scatter_add(*axis, Arc::clone(index), shape),
    )
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use crate::Tensor;

    #[test]
    fn value_and_gradcheck() {
        // [[a, b]] at columns [[2, 2]] of a [1, 3] zero row: [[0, 0, a + b]].
        let x = Tensor::<f64>::from_vec(vec![1.0, 2.0], &[1, 2]);
        let index = std::sync::Arc::new(ndarray::arr2(&[[2, 2]]).into_dyn());
        assert_eq!(
            x.scatter_add(1, index.clone(), &[1, 3]).to_vec(),
            vec![0.0, 0.0, 3.0]
        );
        check(
            "scatter_add",
            |t| t[0].scatter_add(1, index.clone(), &[2, 3]),
            &[uniform(&[1, 2], 1)],
        );
    }
}
