//! The parameters seen as one flat vector x ∈ ℝⁿ, for the second-order methods, which reason
//! about directions in the whole parameter space. They compute in f64 whatever `F` is.

use ndarray::ArrayD;
use tapegrad_tensor::{Float, Param, Tensor};

/// x: every parameter's values, concatenated in order.
pub(crate) fn values<F: Float>(params: &[Param<F>]) -> Vec<f64> {
    params
        .iter()
        .flat_map(|p| p.value().iter().map(|v| v.as_f64()).collect::<Vec<_>>())
        .collect()
}

/// Writes x back into the parameters.
pub(crate) fn set_values<F: Float>(params: &[Param<F>], x: &[f64]) {
    let mut offset = 0;
    for p in params {
        let n: usize = p.shape().iter().product();
        let chunk = x[offset..offset + n]
            .iter()
            .map(|&v| F::from_f64(v))
            .collect();
        let value = ArrayD::from_shape_vec(p.shape(), chunk).expect("chunk fits the shape");
        p.set_value(value).expect("same shape");
        offset += n;
    }
}

/// Concatenates tensors' values (gradients returned by `grad`) into one vector.
pub(crate) fn of_tensors<F: Float>(tensors: &[Tensor<F>]) -> Vec<f64> {
    tensors
        .iter()
        .flat_map(|t| t.to_vec().into_iter().map(|v| v.as_f64()))
        .collect()
}

/// f(x) and ∇f(x): clears the gradients, records the loss with `closure`, runs backward.
pub(crate) fn loss_and_grad<F: Float>(
    params: &[Param<F>],
    closure: &mut impl FnMut() -> Tensor<F>,
) -> (f64, Vec<f64>) {
    for p in params {
        p.zero_grad();
    }
    let loss = closure();
    let value = loss.item().as_f64();
    loss.backward();
    let grad = params
        .iter()
        .flat_map(|p| match p.grad() {
            Some(g) => g.iter().map(|v| v.as_f64()).collect(),
            None => vec![0.0; p.shape().iter().product()],
        })
        .collect();
    (value, grad)
}

pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

pub(crate) fn norm(a: &[f64]) -> f64 {
    dot(a, a).sqrt()
}

/// x + t·d
pub(crate) fn axpy(x: &[f64], t: f64, d: &[f64]) -> Vec<f64> {
    x.iter().zip(d).map(|(x, d)| x + t * d).collect()
}
