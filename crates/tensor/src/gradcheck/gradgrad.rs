//! Second derivatives by finite differences of gradients: [`gradgradcheck`].

use ndarray::ArrayD;

use super::{gradcheck_with, GradcheckConfig, GradcheckError, GradcheckReport};
use crate::tape::no_grad;
use crate::{func, Tensor};

/// The gradient function of `f` at cotangent `r`: x ↦ ∇ₓ⟨r, f(x)⟩, all inputs' gradients
/// flattened into one vector. Differentiable again: inside a transform the rules are recorded.
pub(crate) fn flat_vjp(
    op: &str,
    f: &dyn Fn(&[Tensor<f64>]) -> Tensor<f64>,
    xs: &[Tensor<f64>],
    r: &Tensor<f64>,
) -> Tensor<f64> {
    let (_, grads) = func::vjp(f, xs, r).unwrap_or_else(|e| panic!("{op}: {e}"));
    let flat: Vec<Tensor<f64>> = grads.iter().map(Tensor::flatten).collect();
    let refs: Vec<&Tensor<f64>> = flat.iter().collect();
    if refs.is_empty() {
        return Tensor::zeros(&[0]);
    }
    Tensor::concat(&refs, 0)
}

/// Checks the second derivatives of `f` at `inputs`, as PyTorch's
/// `torch.autograd.gradgradcheck`: with random output gradients r (uniform on [−1, 1), shaped
/// like f's output, seeded with `config.seed + 1`), the gradient function
///
/// ```text
/// G(x, r) = ∇ₓ ⟨r, f(x)⟩        (a vector-Jacobian product, differentiable again)
/// ```
///
/// is itself put through [`gradcheck_with`]: its tape gradient — reverse mode through the
/// recorded backward rules, `grad(.., create_graph = true)` — against central differences
/// of first-order gradients. r is checked as an input too (G is linear in r, so this checks
/// that the rules' gradients are themselves consistent), the last input in the report.
///
/// ```
/// use tapegrad_tensor::gradcheck::{gradgradcheck, GradcheckConfig};
/// let x = tapegrad_tensor::Tensor::<f64>::randn(&[3], 0.0, 1.0, 0).to_array();
/// gradgradcheck("tanh", |t| t[0].tanh(), &[x], &GradcheckConfig::default()).unwrap();
/// ```
///
/// # Errors
/// A [`GradcheckError`] for `"gradgrad <op>"`, naming the worst second-derivative element.
pub fn gradgradcheck(
    op: &str,
    f: impl Fn(&[Tensor<f64>]) -> Tensor<f64>,
    inputs: &[ArrayD<f64>],
    config: &GradcheckConfig,
) -> Result<GradcheckReport, GradcheckError> {
    let name = format!("gradgrad {op}");
    let constants: Vec<Tensor<f64>> = inputs.iter().cloned().map(Tensor::from_array).collect();
    let shape = no_grad(|| f(&constants)).shape().to_vec();
    // seeded apart from gradcheck's own output weights (config.seed), which multiply G
    let r = Tensor::<f64>::rand_uniform(&shape, -1.0, 1.0, config.seed + 1).to_array();
    let n = inputs.len();
    let g = |t: &[Tensor<f64>]| flat_vjp(&name, &f, &t[..n], &t[n]);
    let mut with_r = inputs.to_vec();
    with_r.push(r);
    gradcheck_with(&name, g, &with_r, config)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::gradcheck;
    use crate::ops::test_util::uniform;

    #[test]
    fn passes_on_right_second_derivatives() {
        let config = GradcheckConfig::default();
        let f = |t: &[Tensor<f64>]| t[0].matmul(&t[1]).tanh().mul(&t[0].sin());
        let report = gradgradcheck(
            "tanh_mm",
            f,
            &[uniform(&[2, 2], 1), uniform(&[2, 2], 2)],
            &config,
        )
        .unwrap();
        assert_eq!(report.checked, 4 + 4 + 4); // x, w and r
    }

    #[test]
    fn catches_a_gradient_whose_own_derivative_is_wrong() {
        // f(x) = d³ + 3d²(x − d) with d = detach(x): the value is x³ and the tape's gradient
        // 3d² is right (gradcheck passes), but that gradient was built from a detached value,
        // so its own derivative is 0 instead of 6x.
        let f = |t: &[Tensor<f64>]| {
            let d = t[0].detach();
            &d.powf(3.0) + &(&(&d * &d) * 3.0).mul(&(&t[0] - &d))
        };
        let x = ndarray::arr1(&[0.5, -1.5, 1.0]).into_dyn();
        gradcheck("cube", f, std::slice::from_ref(&x)).unwrap();
        let err = gradgradcheck(
            "cube",
            f,
            std::slice::from_ref(&x),
            &GradcheckConfig::default(),
        )
        .unwrap_err();
        assert_eq!(err.worst.input, 0);
        assert_eq!(err.worst.analytic, 0.0);
        // G = ∇⟨r, f⟩ = 3x² ⊙ r, which gradcheck weighs with its own w: the numerical value
        // is ∂⟨w, G⟩/∂xᵢ = 6xᵢ·rᵢ·wᵢ, with r and w seeded as the check seeds them
        let r = Tensor::<f64>::rand_uniform(&[3], -1.0, 1.0, 1).to_array();
        let w = Tensor::<f64>::rand_uniform(&[3], -1.0, 1.0, 0).to_array();
        let i = err.worst.index[0];
        let want = 6.0 * x[i] * r[i] * w[i];
        assert!((err.worst.numerical - want).abs() < 1e-6, "{err}");
        assert!(
            err.to_string()
                .starts_with("gradcheck gradgrad cube: input 0"),
            "{err}"
        );
    }
}
