//! `linear`: y = x·Wᵀ + b, PyTorch's `torch.nn.functional.linear`, with the weight in
//! PyTorch's layout `[out, in]` — one row of W per output feature.
//!
//! Shapes: x `[..., in]` (any number of leading axes: a batch, or time and batch),
//! W `[out, in]`, b `[out]` or none → y `[..., out]`.
//!
//! A composite: the leading axes are flattened into one, the product reads W transposed in
//! place (the `matmul` primitive's `rhs ᵀ` form, so Wᵀ is never copied), and b is added by
//! broadcasting. The tape therefore yields the textbook gradients, with G = ∂L/∂y flattened
//! to `[m, out]` and X to `[m, in]`:
//!
//! ```text
//! ∂L/∂x = G·W        [m, out]·[out, in] = [m, in]
//! ∂L/∂W = Gᵀ·X       [out, m]·[m, in]   = [out, in]   (already in W's layout)
//! ∂L/∂b = Σ_rows G
//! ```
//!
//! ```
//! use tapegrad_tensor::Tensor;
//! let x = Tensor::<f64>::from_vec(vec![1.0, 2.0], &[1, 2]);
//! let w = Tensor::from_vec(vec![1.0, 0.0, 3.0, 4.0, 5.0, 6.0], &[3, 2]); // 3 outputs
//! let b = Tensor::from_vec(vec![0.5, 0.5, 0.5], &[3]);
//! assert_eq!(x.linear(&w, Some(&b)).to_vec(), vec![1.5, 11.5, 17.5]);
//! ```

use crate::error::{or_panic, Result, TensorError};
use crate::{Float, Tensor};

impl<F: Float> Tensor<F> {
    /// x·Wᵀ + b for x `[..., in]`, W `[out, in]` and b `[out]` (see the module docs).
    ///
    /// # Errors
    /// `linear` when x is a scalar, W is not a matrix, x's last axis differs from W's
    /// second, or b is not `[out]`.
    #[track_caller]
    pub fn try_linear(&self, weight: &Tensor<F>, bias: Option<&Tensor<F>>) -> Result<Tensor<F>> {
        const OP: &str = "linear";
        let (xs, ws) = (self.shape(), weight.shape());
        let fail = |rule: String| {
            Err(TensorError::ShapeMismatch {
                op: OP,
                lhs: xs.to_vec(),
                rhs: ws.to_vec(),
                rule,
            })
        };
        let &[out, inputs] = ws else {
            return fail("the weight must be a matrix [out, in]".into());
        };
        if xs.last() != Some(&inputs) {
            return fail(format!(
                "the input's last axis must be the weight's {inputs} input features"
            ));
        }
        if let Some(b) = bias {
            if b.shape() != [out] {
                return fail(format!(
                    "the bias has shape {:?}; it must be [{out}]",
                    b.shape()
                ));
            }
        }
        let leading = &xs[..xs.len() - 1];
        let rows: usize = leading.iter().product();
        let x2 = if xs.len() == 2 {
            self.clone()
        } else {
            self.try_reshape(&[rows, inputs])?
        };
        let mut y = x2.matmul_same_batch(weight, false, true)?;
        if let Some(b) = bias {
            y = y.try_add(b)?;
        }
        if xs.len() == 2 {
            Ok(y)
        } else {
            let shape: Vec<usize> = leading.iter().copied().chain([out]).collect();
            y.try_reshape(&shape)
        }
    }

    /// Panicking form of [`try_linear`](Self::try_linear).
    #[track_caller]
    pub fn linear(&self, weight: &Tensor<F>, bias: Option<&Tensor<F>>) -> Tensor<F> {
        or_panic(self.try_linear(weight, bias))
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use crate::Tensor;

    #[test]
    fn matches_the_product_with_the_transpose_and_passes_gradcheck() {
        let x = Tensor::<f64>::randn(&[4, 3], 0.0, 1.0, 1);
        let w = Tensor::<f64>::randn(&[2, 3], 0.0, 1.0, 2);
        let b = Tensor::<f64>::randn(&[2], 0.0, 1.0, 3);
        let direct = (x.matmul(&w.t()) + &b).to_vec();
        for (got, want) in x.linear(&w, Some(&b)).to_vec().iter().zip(&direct) {
            assert!((got - want).abs() < 1e-12);
        }
        // Analytic: for L = Σy, ∂L/∂W[o, i] = Σ_rows x[:, i] and ∂L/∂b = rows.
        let wp = w.detach().requires_grad();
        let bp = b.detach().requires_grad();
        x.linear(&wp, Some(&bp)).sum().backward();
        let column_sums: Vec<f64> = (0..3)
            .map(|i| x.to_vec().iter().skip(i).step_by(3).sum())
            .collect();
        let gw = wp.grad().unwrap().to_array();
        for o in 0..2 {
            for i in 0..3 {
                assert!((gw[[o, i]] - column_sums[i]).abs() < 1e-12);
            }
        }
        assert_eq!(bp.grad().unwrap().to_vec(), vec![4.0, 4.0]);
        check(
            "linear",
            |t| t[0].linear(&t[1], Some(&t[2])),
            &[
                uniform(&[2, 5, 3], 4),
                uniform(&[4, 3], 5),
                uniform(&[4], 6),
            ],
        );
        check(
            "linear",
            |t| t[0].linear(&t[1], None),
            &[uniform(&[3], 7), uniform(&[2, 3], 8)],
        );
        check(
            "linear",
            |t| t[0].linear(&t[1], None),
            &[uniform(&[0, 3], 9), uniform(&[2, 3], 10)],
        );
    }

    #[test]
    fn second_order_through_linear() {
        // f(W) = Σ (x·Wᵀ)² for one row x: ∂²f/∂W² v = 2·(v·x)·x per output row.
        let x = Tensor::<f64>::from_vec(vec![1.0, 2.0], &[1, 2]);
        let w = Tensor::<f64>::from_vec(vec![0.5, -1.0], &[1, 2]).requires_grad();
        let y = x.linear(&w, None);
        let g = crate::grad(&(&y * &y).sum(), &[&w], true)
            .unwrap()
            .remove(0);
        let v = Tensor::from_vec(vec![1.0, 1.0], &[1, 2]);
        let hv = crate::grad(&(&g * &v).sum(), &[&w], false)
            .unwrap()
            .remove(0);
        // v·x = 3, so Hv = 2·3·[1, 2] = [6, 12].
        assert_eq!(hv.to_vec(), vec![6.0, 12.0]);
    }

    #[test]
    fn errors_name_the_shapes() {
        let x = Tensor::<f32>::zeros(&[8, 5]);
        let err = x.try_linear(&Tensor::zeros(&[3, 4]), None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "linear: [8, 5] and [3, 4]: the input's last axis must be the weight's 4 input features"
        );
        let err = x
            .try_linear(&Tensor::zeros(&[3, 5]), Some(&Tensor::zeros(&[5])))
            .unwrap_err();
        assert!(err
            .to_string()
            .contains("the bias has shape [5]; it must be [3]"));
        assert!(x.try_linear(&Tensor::zeros(&[5]), None).is_err());
    }
}
