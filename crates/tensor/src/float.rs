//! The element types a tensor can hold.

use ndarray::NdFloat;

/// A floating-point element type: `f32` (the default) or `f64` (used by gradient checks).
///
/// Everything numeric in tapegrad is generic over this trait. It bundles what ndarray needs
/// for arithmetic ([`NdFloat`]) with the maths functions of [`num_traits::Float`].
pub trait Float: NdFloat + num_traits::Float + Default + 'static {
    /// Converts an `f64` constant into this type (rounding for `f32`).
    fn from_f64(x: f64) -> Self;
    /// Widens this value to `f64` (exact for both `f32` and `f64`).
    fn as_f64(self) -> f64;
    /// The type's name as Rust spells it, for printing (`"f32"`).
    const NAME: &'static str;
}

impl Float for f32 {
    fn from_f64(x: f64) -> Self {
        x as f32
    }
    fn as_f64(self) -> f64 {
        f64::from(self)
    }
    const NAME: &'static str = "f32";
}

impl Float for f64 {
    fn from_f64(x: f64) -> Self {
        x
    }
    fn as_f64(self) -> f64 {
        self
    }
    const NAME: &'static str = "f64";
}
