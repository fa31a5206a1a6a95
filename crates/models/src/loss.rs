//! Loss functions, all composites of tensor ops: the tape differentiates them, and each doc
//! states the gradient it will produce with respect to the prediction ŷ (n elements).
//!
//! ```
//! use tapegrad_models::loss;
//! use tapegrad_tensor::Tensor;
//! let y_hat = Tensor::<f64>::from_vec(vec![1.0, 3.0], &[2]);
//! let y = Tensor::<f64>::from_vec(vec![0.0, 0.0], &[2]);
//! assert_eq!(loss::mse(&y_hat, &y).item(), 5.0);   // (1 + 9)/2
//! assert_eq!(loss::mae(&y_hat, &y).item(), 2.0);   // (1 + 3)/2
//! assert_eq!(loss::huber(&y_hat, &y, 1.0).item(), (0.5 + 2.5) / 2.0);
//! ```

use ndarray::ArrayD;
use tapegrad_tensor::{Float, Result, Tensor};

/// Mean squared error, mean((ŷ − y)²); ∂L/∂ŷ = 2(ŷ − y)/n.
///
/// # Panics
/// When the shapes do not broadcast.
#[track_caller]
pub fn mse<F: Float>(y_hat: &Tensor<F>, y: &Tensor<F>) -> Tensor<F> {
    let r = y_hat - y;
    (&r * &r).mean()
}

/// Mean absolute error, mean(|ŷ − y|); ∂L/∂ŷ = sign(ŷ − y)/n (0 where ŷ = y).
///
/// # Panics
/// When the shapes do not broadcast.
#[track_caller]
pub fn mae<F: Float>(y_hat: &Tensor<F>, y: &Tensor<F>) -> Tensor<F> {
    (y_hat - y).abs().mean()
}

/// Huber loss with threshold δ: ½r² where |r| ≤ δ, δ(|r| − ½δ) beyond, averaged (r = ŷ − y).
/// Quadratic near the target, linear far from it, so outliers pull less than in MSE;
/// ∂L/∂ŷ = r/n inside and δ·sign(r)/n outside.
///
/// Built as q = min(|r|, δ): ½q² + δ(|r| − q), which is the same function without a branch.
///
/// # Panics
/// When the shapes do not broadcast, or δ ≤ 0.
#[track_caller]
pub fn huber<F: Float>(y_hat: &Tensor<F>, y: &Tensor<F>, delta: F) -> Tensor<F> {
    assert!(
        delta > F::zero(),
        "huber: delta = {delta}; it must be positive"
    );
    let a = (y_hat - y).abs();
    let q = a.minimum(&Tensor::scalar(delta));
    let linear = (&a - &q).mul_scalar(delta);
    (q.mul(&q).mul_scalar(F::from_f64(0.5)) + linear).mean()
}

/// Cross-entropy of class logits z [n, C] against class indices: −mean over rows of
/// log softmax(z)ᵢ\[labelᵢ\]. Stable for any logits (it goes through `log_softmax`);
/// ∂L/∂zᵢ = (softmax(zᵢ) − onehot(labelᵢ))/n.
///
/// # Errors
/// `cross_entropy` when z is not [n, C], there are not n labels, or a label is ≥ C.
pub fn try_cross_entropy<F: Float>(logits: &Tensor<F>, labels: &[usize]) -> Result<Tensor<F>> {
    let name = "cross_entropy";
    let shape = logits.shape();
    if shape.len() != 2 || shape[0] != labels.len() {
        return Err(tapegrad_tensor::TensorError::ShapeMismatch {
            op: name,
            lhs: shape.to_vec(),
            rhs: vec![labels.len()],
            rule: "logits must be [n, classes] with one label per row".into(),
        });
    }
    let index = ArrayD::from_shape_vec(vec![labels.len(), 1], labels.to_vec()).expect("n labels");
    let log_probs = logits.try_log_softmax(1).map_err(|e| e.in_op(name))?;
    let picked = log_probs.try_gather(1, &index).map_err(|e| e.in_op(name))?;
    Ok(picked.mean().neg())
}

/// Panicking form of [`try_cross_entropy`].
#[track_caller]
pub fn cross_entropy<F: Float>(logits: &Tensor<F>, labels: &[usize]) -> Tensor<F> {
    try_cross_entropy(logits, labels).unwrap_or_else(|e| panic!("{e}"))
}

/// Binary cross-entropy of logits z against targets y ∈ [0, 1]:
/// mean(−y·ln σ(z) − (1 − y)·ln(1 − σ(z))), computed as mean(softplus(z) − y·z), which never
/// takes the log of 0 (stable for |z| = 1e4); ∂L/∂z = (σ(z) − y)/n.
///
/// # Panics
/// When the shapes do not broadcast.
#[track_caller]
pub fn binary_cross_entropy_with_logits<F: Float>(
    logits: &Tensor<F>,
    targets: &Tensor<F>,
) -> Tensor<F> {
    (logits.softplus() - logits * targets).mean()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tapegrad_tensor::gradcheck::gradcheck;

    fn check(name: &str, f: impl Fn(&[Tensor<f64>]) -> Tensor<f64>, x: ArrayD<f64>) {
        if let Err(e) = gradcheck(name, f, &[x]) {
            panic!("{e}");
        }
    }

    fn sample(shape: &[usize], seed: u64) -> ArrayD<f64> {
        Tensor::<f64>::randn(shape, 0.0, 2.0, seed).to_array()
    }

    #[test]
    fn regression_losses_gradcheck() {
        let y = Tensor::<f64>::randn(&[4, 3], 0.0, 2.0, 1);
        check("mse", |t| mse(&t[0], &y), sample(&[4, 3], 2));
        check("mae", |t| mae(&t[0], &y), sample(&[4, 3], 3));
        check("huber", |t| huber(&t[0], &y, 1.0), sample(&[4, 3], 4));
    }

    #[test]
    fn mse_gradient_by_hand() {
        // ∂/∂ŷ mean((ŷ − y)²) = 2(ŷ − y)/n: at ŷ = [1, 3], y = 0, that is [1, 3].
        let y_hat = Tensor::<f64>::from_vec(vec![1.0, 3.0], &[2]).requires_grad();
        mse(&y_hat, &Tensor::zeros(&[2])).backward();
        assert_eq!(y_hat.grad().unwrap().to_vec(), vec![1.0, 3.0]);
    }

    #[test]
    fn cross_entropy_values_gradient_and_errors() {
        // Uniform logits over 4 classes: loss ln 4; gradient (¼ − onehot)/n.
        let z = Tensor::<f64>::zeros(&[2, 4]).requires_grad();
        let loss = cross_entropy(&z, &[1, 3]);
        assert!((loss.item() - 4f64.ln()).abs() < 1e-15);
        loss.backward();
        let g = z.grad().unwrap().to_vec();
        assert!((g[1] - (0.25 - 1.0) / 2.0).abs() < 1e-15 && (g[0] - 0.125).abs() < 1e-15);
        check(
            "cross_entropy",
            |t| cross_entropy(&t[0], &[2, 0, 1]),
            sample(&[3, 3], 5),
        );
        let big = Tensor::<f32>::from_vec(vec![1e4, -1e4, 0.0, 0.0], &[2, 2]);
        assert_eq!(cross_entropy(&big, &[0, 1]).item(), 2f32.ln() / 2.0);
        let err = try_cross_entropy(&Tensor::<f32>::zeros(&[2, 3]), &[0, 3]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "cross_entropy: index 3 is out of range for axis 1 of shape [2, 3] (size 3)"
        );
        let err = try_cross_entropy(&Tensor::<f32>::zeros(&[2, 3]), &[0]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "cross_entropy: [2, 3] and [1]: logits must be [n, classes] with one label per row"
        );
    }

    #[test]
    fn binary_cross_entropy_is_stable_and_right() {
        // z = 0: σ = ½, loss ln 2 whatever y; ∂/∂z = (½ − y)/n.
        let z = Tensor::<f64>::zeros(&[2]).requires_grad();
        let y = Tensor::<f64>::from_vec(vec![1.0, 0.0], &[2]);
        let loss = binary_cross_entropy_with_logits(&z, &y);
        assert!((loss.item() - 2f64.ln()).abs() < 1e-15);
        loss.backward();
        assert_eq!(z.grad().unwrap().to_vec(), vec![-0.25, 0.25]);
        let big = Tensor::<f32>::from_vec(vec![1e4, -1e4], &[2]);
        assert_eq!(
            binary_cross_entropy_with_logits(&big, &Tensor::from_vec(vec![1.0, 0.0], &[2])).item(),
            0.0
        );
        let targets = Tensor::<f64>::rand_uniform(&[5], 0.0, 1.0, 6);
        check(
            "bce",
            |t| binary_cross_entropy_with_logits(&t[0], &targets),
            sample(&[5], 7),
        );
    }
}
