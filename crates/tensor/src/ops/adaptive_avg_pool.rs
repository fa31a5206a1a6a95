//! `adaptive_avg_pool2d`: averages over `out_h × out_w` bins that cover the image, whatever
//! its size (PyTorch's `F.adaptive_avg_pool2d`), with PyTorch's bins:
//!
//! ```text
//! bin i along an axis of length H, out bins: rows ⌊i·H/out⌋ .. ⌈(i + 1)·H/out⌉ (exclusive)
//! y[n, c, i, j] = mean of x[n, c, rows(i), cols(j)]
//! ```
//!
//! Bins may overlap (H = 5, out = 3: rows 0..2, 1..4, 3..5). The mean over a rectangle is the
//! mean of column means, so the op is separable: y = A_h · x · A_wᵀ per plane, with
//! A[i, r] = 1/|bin i| for r in bin i and 0 elsewhere. A composite of two matrix products
//! with constant matrices, so the tape yields ∂L/∂x = A_hᵀ · ∂L/∂y · A_w. (1, 1) is global
//! average pooling, computed as a plain mean over H and W.
//!
//! ```
//! use tapegrad_tensor::Tensor;
//! let x = Tensor::<f32>::arange(0.0, 16.0, 1.0).reshape(&[1, 1, 4, 4]);
//! assert_eq!(x.adaptive_avg_pool2d([2, 2]).to_vec(), vec![2.5, 4.5, 10.5, 12.5]);
//! assert_eq!(x.adaptive_avg_pool2d([1, 1]).to_vec(), vec![7.5]);
//! ```

use ndarray::Array2;

use crate::error::{or_panic, Result, TensorError};
use crate::{Float, Tensor};

/// A[i, r] = 1/|bin i| for r in PyTorch's bin i of `len` rows into `out` bins.
fn bin_matrix<F: Float>(out: usize, len: usize) -> Array2<F> {
    let mut a = Array2::zeros((out, len));
    for i in 0..out {
        let (start, end) = (i * len / out, ((i + 1) * len).div_ceil(out));
        let weight = F::from_f64(1.0 / (end - start) as f64);
        for r in start..end {
            a[[i, r]] = weight;
        }
    }
    a
}

impl<F: Float> Tensor<F> {
    /// Averages `[N, C, H, W]` over PyTorch's adaptive bins into `[N, C, out_h, out_w]`
    /// (see the module docs).
    ///
    /// # Errors
    /// `adaptive_avg_pool2d` when the input is not rank 4, H or W is 0, or an output size
    /// is 0.
    #[track_caller]
    pub fn try_adaptive_avg_pool2d(&self, output_size: [usize; 2]) -> Result<Tensor<F>> {
        const OP: &str = "adaptive_avg_pool2d";
        let shape = self.shape();
        let invalid = |rule: String| TensorError::InvalidArgument {
            op: OP,
            shape: shape.to_vec(),
            rule,
        };
        if shape.len() != 4 {
            return Err(invalid(format!("{OP} needs an input [N, C, H, W]")));
        }
        if shape[2] == 0 || shape[3] == 0 {
            return Err(invalid(
                "the image is empty; an empty bin has no mean".into(),
            ));
        }
        if output_size.contains(&0) {
            return Err(invalid(format!(
                "output size {output_size:?} has a zero; it must be at least 1"
            )));
        }
        if output_size == [1, 1] {
            return self.try_mean_axes(&[2, 3], true);
        }
        let a_h = Tensor::from_array(bin_matrix::<F>(output_size[0], shape[2]));
        let a_w_t = Tensor::from_array(bin_matrix::<F>(output_size[1], shape[3]).reversed_axes());
        // [N, C, H, W]·[W, ow] → [N, C, H, ow], then [oh, H]·that → [N, C, oh, ow].
        let rows = self.try_matmul(&a_w_t)?;
        a_h.try_matmul(&rows)
    }

    /// Panicking form of [`try_adaptive_avg_pool2d`](Self::try_adaptive_avg_pool2d).
    #[track_caller]
    pub fn adaptive_avg_pool2d(&self, output_size: [usize; 2]) -> Tensor<F> {
        or_panic(self.try_adaptive_avg_pool2d(output_size))
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use crate::Tensor;

    #[test]
    fn overlapping_bins_by_hand() {
        // A 1×5 row into 3 bins: columns 0..2, 1..4, 3..5 of [1, 2, 3, 4, 10]:
        // means 1.5, 3, 7.
        let x = Tensor::<f64>::from_vec(vec![1., 2., 3., 4., 10.], &[1, 1, 1, 5]);
        assert_eq!(x.adaptive_avg_pool2d([1, 3]).to_vec(), vec![1.5, 3.0, 7.0]);
        // More bins than pixels repeat them: 2 rows into 3 bins are rows 0, 0..2, 1.
        let x = Tensor::<f64>::from_vec(vec![2., 4.], &[1, 1, 2, 1]);
        assert_eq!(x.adaptive_avg_pool2d([3, 1]).to_vec(), vec![2.0, 3.0, 4.0]);
    }

    #[test]
    fn gradchecks_and_errors() {
        for (k, out) in [[2, 3], [1, 1], [3, 2], [4, 1]].into_iter().enumerate() {
            check(
                "adaptive_avg_pool2d",
                |t| t[0].adaptive_avg_pool2d(out),
                &[uniform(&[2, 3, 5, 4], k as u64)],
            );
        }
        check_second_order(
            "adaptive_avg_pool2d",
            |t| t[0].adaptive_avg_pool2d([2, 3]).powf(3.0),
            &[uniform(&[1, 2, 5, 4], 7)],
        );
        let msg = |r: crate::Result<Tensor<f32>>| r.unwrap_err().to_string();
        assert_eq!(
            msg(Tensor::zeros(&[1, 1, 4, 4]).try_adaptive_avg_pool2d([0, 2])),
            "adaptive_avg_pool2d: [1, 1, 4, 4]: output size [0, 2] has a zero; it must be at least 1"
        );
        assert_eq!(
            msg(Tensor::zeros(&[4, 4]).try_adaptive_avg_pool2d([2, 2])),
            "adaptive_avg_pool2d: [4, 4]: adaptive_avg_pool2d needs an input [N, C, H, W]"
        );
    }
}
