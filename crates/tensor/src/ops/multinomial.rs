//! `multinomial`: seeded draws of category indices from the rows of a probability tensor,
//! PyTorch's `torch.multinomial(probs, num_samples, replacement, generator)`. It returns
//! indices (`ndarray::ArrayD<usize>`), so it has no gradient, and no JVP rule: the tangent
//! of a draw is zero (it records nothing, so forward mode sees a constant).
//!
//! `probs` is `[C]` (one distribution, giving `[num_samples]`) or `[R, C]` (one per row,
//! giving `[R, num_samples]`). Rows are non-negative weights that need not sum to 1: category
//! c of a row w is drawn with probability w_c / Σ w. With `replacement` every draw is
//! independent; without, a drawn category is removed (its weight set to 0) before the next
//! draw, so a row yields distinct categories.
//!
//! Draws come from a ChaCha8 generator seeded with `seed`: the same indices on every platform,
//! for `f32` and `f64` alike (weights are summed in `f64`). Each draw takes one uniform
//! u ∈ [0, 1) (the top 53 bits of a 64-bit word) and picks the first category whose
//! cumulative weight exceeds u·Σw: inverse-CDF sampling, which never picks a weight of 0.
//! PyTorch's generator is another, so the same seed does not give torch's indices; the
//! distribution is the same. To sample a sequence step by step (text generation), give each
//! step its own seed, e.g. `seed + step`.
//!
//! ```
//! use tapegrad_tensor::Tensor;
//! let probs = Tensor::<f32>::from_vec(vec![0.0, 0.0, 1.0, 0.5, 0.5, 0.0], &[2, 3]);
//! let draws = probs.multinomial(4, true, 7);
//! assert_eq!(draws.shape(), &[2, 4]);
//! assert!(draws.index_axis(ndarray::Axis(0), 0).iter().all(|&c| c == 2)); // row 0 can only give category 2
//! assert!(draws.index_axis(ndarray::Axis(0), 1).iter().all(|&c| c < 2));
//! ```

use ndarray::{Array2, ArrayD, Axis};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::error::{or_panic, Result, TensorError};
use crate::{Float, Tensor};

impl<F: Float> Tensor<F> {
    /// `num_samples` category indices drawn from each row of `self` (see the module docs).
    ///
    /// # Errors
    /// `multinomial` when `self` is not 1-D or 2-D, has no categories, holds a negative,
    /// NaN or infinite weight, a row sums to 0, or — without replacement — `num_samples`
    /// exceeds a row's number of non-zero weights.
    #[track_caller]
    pub fn try_multinomial(
        &self,
        num_samples: usize,
        replacement: bool,
        seed: u64,
    ) -> Result<ArrayD<usize>> {
        let invalid = |rule: String| TensorError::InvalidArgument {
            op: "multinomial",
            shape: self.shape().to_vec(),
            rule,
        };
        let (rows, categories) = match *self.shape() {
            [c] => (1, c),
            [r, c] => (r, c),
            _ => return Err(invalid("probs must be 1-D [C] or 2-D [R, C]".into())),
        };
        if categories == 0 {
            return Err(invalid("there are no categories to draw from".into()));
        }
        let value = self.value();
        let weights = value
            .to_shape((rows, categories))
            .expect("same element count");
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut uniform = || (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64);
        let mut out = Array2::<usize>::zeros((rows, num_samples));
        let mut row_weights = vec![0.0f64; categories];
        for (r, (row, mut draws)) in weights
            .axis_iter(Axis(0))
            .zip(out.axis_iter_mut(Axis(0)))
            .enumerate()
        {
            for (w, &p) in row_weights.iter_mut().zip(row.iter()) {
                let p = p.as_f64();
                if !(p >= 0.0 && p.is_finite()) {
                    return Err(invalid(format!(
                        "row {r} holds {p}; weights must be finite and non-negative"
                    )));
                }
                *w = p;
            }
            let nonzero = row_weights.iter().filter(|&&w| w > 0.0).count();
            if nonzero == 0 {
                return Err(invalid(format!(
                    "row {r} sums to 0; it needs a positive weight"
                )));
            }
            if !replacement && num_samples > nonzero {
                return Err(invalid(format!(
                    "cannot draw {num_samples} samples without replacement from row {r}, \
                     which has {nonzero} categories of non-zero weight"
                )));
            }
            for slot in draws.iter_mut() {
                let target = uniform() * row_weights.iter().sum::<f64>();
                let mut cumulative = 0.0;
                // The last category of positive weight is the fallback for rounding at the top.
                let mut chosen = row_weights
                    .iter()
                    .rposition(|&w| w > 0.0)
                    .expect("a positive weight");
                for (c, &w) in row_weights.iter().enumerate() {
                    cumulative += w;
                    if w > 0.0 && cumulative > target {
                        chosen = c;
                        break;
                    }
                }
                *slot = chosen;
                if !replacement {
                    row_weights[chosen] = 0.0;
                }
            }
        }
        let shape = if self.ndim() == 1 {
            vec![num_samples]
        } else {
            vec![rows, num_samples]
        };
        Ok(out
            .into_shape_with_order(shape)
            .expect("same element count"))
    }

    /// Panicking form of [`try_multinomial`](Self::try_multinomial).
    #[track_caller]
    pub fn multinomial(&self, num_samples: usize, replacement: bool, seed: u64) -> ArrayD<usize> {
        or_panic(self.try_multinomial(num_samples, replacement, seed))
    }
}

#[cfg(test)]
mod tests {
    use crate::Tensor;

    #[test]
    fn frequencies_follow_the_weights() {
        // Weights [1, 2, 0, 7] (unnormalised): 10,000 draws land about 10%, 20%, 0%, 70%.
        let p = Tensor::<f64>::from_vec(vec![1.0, 2.0, 0.0, 7.0], &[4]);
        let draws = p.multinomial(10_000, true, 1);
        let mut counts = [0usize; 4];
        for &c in &draws {
            counts[c] += 1;
        }
        assert_eq!(counts[2], 0, "a zero weight is never drawn");
        for (count, want) in counts.iter().zip([0.1, 0.2, 0.0, 0.7]) {
            let share = *count as f64 / 10_000.0;
            assert!((share - want).abs() < 0.015, "{counts:?}");
        }
        assert_eq!(draws, p.multinomial(10_000, true, 1), "seeded");
        assert_ne!(draws, p.multinomial(10_000, true, 2));
        // f32 weights give the same draws (sums are taken in f64).
        let p32 = Tensor::<f32>::from_vec(vec![1.0, 2.0, 0.0, 7.0], &[4]);
        assert_eq!(p32.multinomial(100, true, 1), p.multinomial(100, true, 1));
    }

    #[test]
    fn without_replacement_rows_are_distinct() {
        let p = Tensor::<f64>::from_vec(vec![0.1, 0.2, 0.3, 0.4, 0.0, 5.0, 1.0, 1.0], &[2, 4]);
        for seed in 0..20 {
            let draws = p.multinomial(3, false, seed);
            for row in draws.outer_iter() {
                let mut seen: Vec<usize> = row.iter().copied().collect();
                seen.sort();
                seen.dedup();
                assert_eq!(seen.len(), 3, "{draws:?}");
            }
            assert!(
                !draws
                    .index_axis(ndarray::Axis(0), 1)
                    .iter()
                    .any(|&c| c == 0),
                "zero weight in row 1"
            );
        }
        // Drawing every non-zero category of row 1 is allowed; one more is not.
        assert!(p.try_multinomial(4, false, 0).is_err());
        let err = p.try_multinomial(4, false, 0).unwrap_err();
        assert_eq!(
            err.to_string(),
            "multinomial: [2, 4]: cannot draw 4 samples without replacement from row 1, \
             which has 3 categories of non-zero weight"
        );
    }

    #[test]
    fn bad_weights_are_errors() {
        let bad = |data: Vec<f64>, shape: &[usize]| {
            Tensor::<f64>::from_vec(data, shape)
                .try_multinomial(1, true, 0)
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            bad(vec![0.5, -0.1], &[2]),
            "multinomial: [2]: row 0 holds -0.1; weights must be finite and non-negative"
        );
        assert!(bad(vec![f64::NAN, 1.0], &[1, 2]).contains("holds NaN"));
        assert!(bad(vec![1.0, 0.0, 0.0, 0.0], &[2, 2]).contains("row 1 sums to 0"));
        assert!(bad(vec![1.0], &[1, 1, 1]).contains("1-D [C] or 2-D [R, C]"));
        assert!(bad(vec![], &[2, 0]).contains("no categories"));
    }
}
