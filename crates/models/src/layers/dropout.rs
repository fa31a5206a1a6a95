//! Dropout (Srivastava et al., 2014), in its "inverted" form: during training each element is
//! zeroed with probability p and the survivors are scaled by 1/(1 − p), so the expected output
//! equals the input and evaluation needs no rescaling:
//!
//! ```text
//! training:   y = x ⊙ m / (1 − p),   mᵢ ~ Bernoulli(1 − p)      ∂y/∂x = m / (1 − p)
//! evaluation: y = x
//! ```
//!
//! The gradient comes from the tape's `mul` by the (constant) mask. Masks are drawn from a
//! ChaCha8 generator seeded at construction, so a seeded training run drops the same
//! elements on every platform; each forward pass in training mode draws a fresh mask.

use rand::RngCore;
use tapegrad_tensor::{Float, Param, Tensor};

use crate::module::Module;
use crate::rng::SharedRng;

/// Zeroes each element with probability `p` in training mode; the identity in evaluation mode.
/// Starts in training mode.
#[derive(Debug)]
pub struct Dropout {
    p: f64,
    training: bool,
    rng: SharedRng,
}

impl Dropout {
    /// Dropout with drop probability `p`, masks drawn from a generator seeded with `seed`.
    ///
    /// # Panics
    /// When `p` is not in [0, 1).
    #[track_caller]
    pub fn new(p: f64, seed: u64) -> Self {
        assert!(
            (0.0..1.0).contains(&p),
            "Dropout: p = {p}; it must be in [0, 1)"
        );
        Dropout {
            p,
            training: true,
            rng: SharedRng::new(seed),
        }
    }

    /// The mask m/(1 − p) for a tensor of `shape`: 0 with probability p, 1/(1 − p) otherwise.
    fn mask<F: Float>(&self, shape: &[usize]) -> Tensor<F> {
        let keep = F::from_f64(1.0 / (1.0 - self.p));
        let len = shape.iter().product();
        let values = self.rng.with(|rng| {
            (0..len)
                .map(|_| {
                    // A uniform number in [0, 1) from the top 53 bits: exact and portable.
                    let u = (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64);
                    if u < self.p {
                        F::zero()
                    } else {
                        keep
                    }
                })
                .collect()
        });
        Tensor::from_vec(values, shape)
    }
}

impl<F: Float> Module<F> for Dropout {
    fn forward(&self, x: &Tensor<F>) -> Tensor<F> {
        if !self.training || self.p == 0.0 {
            return x.clone();
        }
        x * &self.mask(x.shape())
    }

    fn named_parameters(&self) -> Vec<(String, Param<F>)> {
        Vec::new()
    }

    fn set_training(&mut self, training: bool) {
        self.training = training;
    }

    fn named_rngs(&self) -> Vec<(String, SharedRng)> {
        vec![("rng".into(), self.rng.clone())]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn training_drops_about_p_and_rescales_the_rest() {
        let dropout = Dropout::new(0.3, 5);
        let x = Tensor::<f64>::ones(&[200, 100]);
        let y = dropout.forward(&x).to_vec();
        let dropped = y.iter().filter(|&&v| v == 0.0).count() as f64 / y.len() as f64;
        assert!((dropped - 0.3).abs() < 0.01, "dropped fraction {dropped}");
        assert!(y.iter().all(|&v| v == 0.0 || (v - 1.0 / 0.7).abs() < 1e-15));
        let mean = y.iter().sum::<f64>() / y.len() as f64;
        assert!((mean - 1.0).abs() < 0.02, "expected value kept: {mean}");
    }

    #[test]
    fn evaluation_is_the_identity_and_seeds_reproduce_masks() {
        let x = Tensor::<f64>::randn(&[4, 5], 0.0, 1.0, 1);
        let mut dropout = Dropout::new(0.5, 9);
        let first = dropout.forward(&x).to_vec();
        assert_eq!(first, Dropout::new(0.5, 9).forward(&x).to_vec());
        assert_ne!(
            first,
            dropout.forward(&x).to_vec(),
            "each pass draws a new mask"
        );
        Module::<f64>::set_training(&mut dropout, false);
        assert_eq!(dropout.forward(&x).to_vec(), x.to_vec());
    }

    #[test]
    fn the_gradient_is_the_scaled_mask() {
        // y = x ⊙ m/(1 − p), so ∂Σy/∂x = m/(1 − p): where y kept x (scaled), the gradient is
        // 1/(1 − p); where it dropped x, 0.
        let x = Tensor::<f64>::ones(&[3, 4]).requires_grad();
        let y = Dropout::new(0.5, 3).forward(&x);
        y.sum().backward();
        assert_eq!(x.grad().unwrap().to_vec(), y.to_vec());
        assert!(y.to_vec().contains(&0.0) && y.to_vec().contains(&2.0));
    }

    #[test]
    #[should_panic(expected = "Dropout: p = 1; it must be in [0, 1)")]
    fn p_of_one_is_rejected() {
        Dropout::new(1.0, 0);
    }
}
