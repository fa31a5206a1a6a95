//! `leaky_relu`: x for x > 0, slope·x otherwise — a composite, relu(x) − slope·relu(−x), so
//! the tape yields the derivative 1 for x > 0 and `slope` for x < 0.
//!
//! NOTE: at x = 0 both relus take derivative 0, so the gradient there is 0 (PyTorch takes
//! `slope`); gradcheck samples points away from 0. NaN propagates through both relus.
//!
//! ```
//! use tapegrad_tensor::Tensor;
//! let y = Tensor::<f64>::from_vec(vec![-2.0, 3.0], &[2]).leaky_relu(0.01);
//! assert_eq!(y.to_vec(), vec![-0.02, 3.0]);
//! ```

use crate::{Float, Tensor};

impl<F: Float> Tensor<F> {
    /// `max(x, 0) + slope·min(x, 0)` elementwise (PyTorch's default slope is 0.01).
    #[track_caller]
    pub fn leaky_relu(&self, slope: F) -> Tensor<F> {
        self.relu().sub(&self.neg().relu().mul_scalar(slope))
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use crate::Tensor;

    #[test]
    fn analytic_gradient_nan_and_gradcheck() {
        // Slopes: 0.1 left of 0, 1 right of 0.
        let x = Tensor::<f64>::from_vec(vec![-2.0, 3.0], &[2]).requires_grad();
        x.leaky_relu(0.1).sum().backward();
        assert_eq!(x.grad().unwrap().to_vec(), vec![0.1, 1.0]);
        assert!(Tensor::<f64>::scalar(f64::NAN)
            .leaky_relu(0.1)
            .item()
            .is_nan());
        check(
            "leaky_relu",
            |t| t[0].leaky_relu(0.2),
            &[away_from_zero(&[4, 3], 1)],
        );
    }
}
