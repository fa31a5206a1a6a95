//! `std::ops` for tensors: `&a + &b`, `a * 2.0`, `1.0 - &a`, `-a`, on owned tensors and
//! references alike. Each operator calls the panicking op of the same name.

use std::ops::{Add, Div, Mul, Neg, Sub};

use crate::{Float, Tensor};

macro_rules! tensor_tensor {
    ($trait:ident, $method:ident) => {
        impl<F: Float> $trait<&Tensor<F>> for &Tensor<F> {
            type Output = Tensor<F>;
            #[track_caller]
            fn $method(self, rhs: &Tensor<F>) -> Tensor<F> {
                Tensor::$method(self, rhs)
            }
        }
        impl<F: Float> $trait<Tensor<F>> for &Tensor<F> {
            type Output = Tensor<F>;
            #[track_caller]
            fn $method(self, rhs: Tensor<F>) -> Tensor<F> {
                Tensor::$method(self, &rhs)
            }
        }
        impl<F: Float> $trait<&Tensor<F>> for Tensor<F> {
            type Output = Tensor<F>;
            #[track_caller]
            fn $method(self, rhs: &Tensor<F>) -> Tensor<F> {
                Tensor::$method(&self, rhs)
            }
        }
        impl<F: Float> $trait<Tensor<F>> for Tensor<F> {
            type Output = Tensor<F>;
            #[track_caller]
            fn $method(self, rhs: Tensor<F>) -> Tensor<F> {
                Tensor::$method(&self, &rhs)
            }
        }
    };
}

tensor_tensor!(Add, add);
tensor_tensor!(Sub, sub);
tensor_tensor!(Mul, mul);
tensor_tensor!(Div, div);

/// `tensor ∘ scalar` and `scalar ∘ tensor` for one element type. Implemented per type because
/// Rust's orphan rule forbids `impl<F> Add<Tensor<F>> for F`.
macro_rules! tensor_scalar {
    ($f:ty) => {
        impl Add<$f> for &Tensor<$f> {
            type Output = Tensor<$f>;
            #[track_caller]
            fn add(self, c: $f) -> Tensor<$f> {
                self.add_scalar(c)
            }
        }
        impl Add<$f> for Tensor<$f> {
            type Output = Tensor<$f>;
            #[track_caller]
            fn add(self, c: $f) -> Tensor<$f> {
                self.add_scalar(c)
            }
        }
        impl Sub<$f> for &Tensor<$f> {
            type Output = Tensor<$f>;
            #[track_caller]
            fn sub(self, c: $f) -> Tensor<$f> {
                self.add_scalar(-c)
            }
        }
        impl Sub<$f> for Tensor<$f> {
            type Output = Tensor<$f>;
            #[track_caller]
            fn sub(self, c: $f) -> Tensor<$f> {
                self.add_scalar(-c)
            }
        }
        impl Mul<$f> for &Tensor<$f> {
            type Output = Tensor<$f>;
            #[track_caller]
            fn mul(self, c: $f) -> Tensor<$f> {
                self.mul_scalar(c)
            }
        }
        impl Mul<$f> for Tensor<$f> {
            type Output = Tensor<$f>;
            #[track_caller]
            fn mul(self, c: $f) -> Tensor<$f> {
                self.mul_scalar(c)
            }
        }
        /// Division by a constant is multiplication by its reciprocal (one rounding more than
        /// IEEE division; use `div` with a scalar tensor when that matters).
        impl Div<$f> for &Tensor<$f> {
            type Output = Tensor<$f>;
            #[track_caller]
            fn div(self, c: $f) -> Tensor<$f> {
                self.mul_scalar(1.0 / c)
            }
        }
        impl Div<$f> for Tensor<$f> {
            type Output = Tensor<$f>;
            #[track_caller]
            fn div(self, c: $f) -> Tensor<$f> {
                self.mul_scalar(1.0 / c)
            }
        }
        impl Add<&Tensor<$f>> for $f {
            type Output = Tensor<$f>;
            #[track_caller]
            fn add(self, t: &Tensor<$f>) -> Tensor<$f> {
                t.add_scalar(self)
            }
        }
        impl Add<Tensor<$f>> for $f {
            type Output = Tensor<$f>;
            #[track_caller]
            fn add(self, t: Tensor<$f>) -> Tensor<$f> {
                t.add_scalar(self)
            }
        }
        impl Sub<&Tensor<$f>> for $f {
            type Output = Tensor<$f>;
            #[track_caller]
            fn sub(self, t: &Tensor<$f>) -> Tensor<$f> {
                t.neg().add_scalar(self)
            }
        }
        impl Sub<Tensor<$f>> for $f {
            type Output = Tensor<$f>;
            #[track_caller]
            fn sub(self, t: Tensor<$f>) -> Tensor<$f> {
                t.neg().add_scalar(self)
            }
        }
        impl Mul<&Tensor<$f>> for $f {
            type Output = Tensor<$f>;
            #[track_caller]
            fn mul(self, t: &Tensor<$f>) -> Tensor<$f> {
                t.mul_scalar(self)
            }
        }
        impl Mul<Tensor<$f>> for $f {
            type Output = Tensor<$f>;
            #[track_caller]
            fn mul(self, t: Tensor<$f>) -> Tensor<$f> {
                t.mul_scalar(self)
            }
        }
        impl Div<&Tensor<$f>> for $f {
            type Output = Tensor<$f>;
            #[track_caller]
            fn div(self, t: &Tensor<$f>) -> Tensor<$f> {
                Tensor::scalar(self).div(t)
            }
        }
        impl Div<Tensor<$f>> for $f {
            type Output = Tensor<$f>;
            #[track_caller]
            fn div(self, t: Tensor<$f>) -> Tensor<$f> {
                Tensor::scalar(self).div(&t)
            }
        }
    };
}

tensor_scalar!(f32);
tensor_scalar!(f64);

impl<F: Float> Neg for &Tensor<F> {
    type Output = Tensor<F>;
    #[track_caller]
    fn neg(self) -> Tensor<F> {
        Tensor::neg(self)
    }
}

impl<F: Float> Neg for Tensor<F> {
    type Output = Tensor<F>;
    #[track_caller]
    fn neg(self) -> Tensor<F> {
        Tensor::neg(&self)
    }
}

#[cfg(test)]
mod tests {
    use crate::Tensor;

    #[test]
    fn operators_match_named_ops() {
        let a = Tensor::<f64>::from_vec(vec![1.0, 2.0], &[2]);
        let b = Tensor::<f64>::from_vec(vec![4.0, 8.0], &[2]);
        assert_eq!((&a + &b).to_vec(), vec![5.0, 10.0]);
        assert_eq!((&b - &a).to_vec(), vec![3.0, 6.0]);
        assert_eq!((&a * &b).to_vec(), vec![4.0, 16.0]);
        assert_eq!((&b / &a).to_vec(), vec![4.0, 4.0]);
        assert_eq!((&a * &b + 1.0).to_vec(), vec![5.0, 17.0]);
        assert_eq!((1.0 - &a).to_vec(), vec![0.0, -1.0]);
        assert_eq!((2.0 * a.clone()).to_vec(), vec![2.0, 4.0]);
        assert_eq!((8.0 / &b).to_vec(), vec![2.0, 1.0]);
        assert_eq!((&b / 4.0).to_vec(), vec![1.0, 2.0]);
        assert_eq!((-&a).to_vec(), vec![-1.0, -2.0]);
        assert_eq!((a - 1.0).to_vec(), vec![0.0, 1.0]);
    }
}
