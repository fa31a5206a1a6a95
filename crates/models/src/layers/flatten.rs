//! `Flatten`: all axes from `start_dim` on merged into one, PyTorch's `nn.Flatten` (whose
//! default `start_dim = 1` keeps the batch axis): `[N, C, H, W]` → `[N, C·H·W]`, in (C, H, W)
//! row-major order.
//!
//! ```
//! use tapegrad_models::module::{Flatten, Module};
//! use tapegrad_tensor::Tensor;
//! let x = Tensor::<f32>::zeros(&[2, 3, 4, 5]);
//! assert_eq!(Flatten::default().forward(&x).shape(), &[2, 60]);
//! assert_eq!(Flatten::new(2).forward(&x).shape(), &[2, 3, 20]);
//! ```

use tapegrad_tensor::{Float, Param, Tensor};

use crate::module::Module;

/// Merges the axes from `start_dim` to the last into one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Flatten {
    /// The first axis merged (default 1, as in PyTorch).
    pub start_dim: usize,
}

impl Flatten {
    /// Flattens from axis `start_dim` on.
    pub fn new(start_dim: usize) -> Self {
        Flatten { start_dim }
    }
}

impl Default for Flatten {
    fn default() -> Self {
        Flatten { start_dim: 1 }
    }
}

impl<F: Float> Module<F> for Flatten {
    /// # Panics
    /// When x has fewer than `start_dim` axes.
    #[track_caller]
    fn forward(&self, x: &Tensor<F>) -> Tensor<F> {
        let shape = x.shape();
        assert!(
            self.start_dim <= shape.len(),
            "Flatten: x of shape {shape:?} has no axis {}",
            self.start_dim
        );
        let mut out = shape[..self.start_dim].to_vec();
        out.push(shape[self.start_dim..].iter().product());
        x.reshape(&out)
    }

    fn named_parameters(&self) -> Vec<(String, Param<F>)> {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_row_major_order() {
        let x = Tensor::<f64>::arange(0.0, 12.0, 1.0).reshape(&[2, 3, 2]);
        let y = Flatten::default().forward(&x);
        assert_eq!((y.shape(), y.to_vec()), (&[2, 6][..], x.to_vec()));
        assert_eq!(Flatten::new(0).forward(&x).shape(), &[12]);
    }
}
