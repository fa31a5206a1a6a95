//! `neg`: −x, a composite recorded as `mul_scalar(x; −1)`, so ∂L/∂x = −∂L/∂y.
//!
//! ```
//! use tapegrad_tensor::Tensor;
//! assert_eq!(Tensor::<f32>::from_vec(vec![1.0, -2.0], &[2]).neg().to_vec(), vec![-1.0, 2.0]);
//! ```

use crate::{Float, Tensor};

impl<F: Float> Tensor<F> {
    /// `−self`; also the unary `-` operator.
    #[track_caller]
    pub fn neg(&self) -> Tensor<F> {
        self.mul_scalar(-F::one())
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;

    #[test]
    fn gradcheck() {
        check("neg", |t| t[0].neg(), &[uniform(&[2, 3], 1)]);
    }
}
