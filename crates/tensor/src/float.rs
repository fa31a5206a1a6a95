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

    /// c = a·b, or c += a·b when `accumulate`, for row-major matrices stored in slices: a is
    /// m×k and b is k×n (`[m, k, n] = mkn`), each stored transposed (k×m, n×k) when its flag
    /// in `transpose` is set. Not part of the public API: the way code generic over the element
    /// type reaches faer's GEMM, which f32 and f64 use; the default is ndarray's.
    #[doc(hidden)]
    fn gemm(
        c: &mut [Self],
        a: &[Self],
        b: &[Self],
        mkn: [usize; 3],
        transpose: [bool; 2],
        accumulate: bool,
    ) {
        crate::ops::matmul::gemm_ndarray(c, a, b, mkn, transpose, accumulate);
    }
}

impl Float for f32 {
    fn from_f64(x: f64) -> Self {
        x as f32
    }
    fn as_f64(self) -> f64 {
        f64::from(self)
    }
    const NAME: &'static str = "f32";
    fn gemm(
        c: &mut [Self],
        a: &[Self],
        b: &[Self],
        mkn: [usize; 3],
        transpose: [bool; 2],
        accumulate: bool,
    ) {
        crate::ops::matmul::gemm_faer(c, a, b, mkn, transpose, accumulate);
    }
}

impl Float for f64 {
    fn from_f64(x: f64) -> Self {
        x
    }
    fn as_f64(self) -> f64 {
        self
    }
    const NAME: &'static str = "f64";
    fn gemm(
        c: &mut [Self],
        a: &[Self],
        b: &[Self],
        mkn: [usize; 3],
        transpose: [bool; 2],
        accumulate: bool,
    ) {
        crate::ops::matmul::gemm_faer(c, a, b, mkn, transpose, accumulate);
    }
}
