//! User-defined differentiable ops (`CustomOp`): a numerically stable softplus written from
//! scratch, and a straight-through estimator.

use std::sync::Arc;

use tapegrad_tensor::gradcheck::gradcheck;
use tapegrad_tensor::ndarray::ArrayD;
use tapegrad_tensor::{func, grad, CustomCtx, CustomOp, Float, Result, Tensor, TensorError};

/// softplus(x) = ln(1 + eˣ), computed as max(x, 0) + ln(1 + e^−|x|) so that neither branch
/// overflows: at x = 1000, eˣ is inf but e^−|x| is 0. Its derivative is σ(x) = 1/(1 + e^−x),
/// written with tensor ops so that its own derivative σ(x)(1 − σ(x)) comes from the tape.
struct StableSoftplus;

impl<F: Float> CustomOp<F> for StableSoftplus {
    fn name(&self) -> &'static str {
        "stable_softplus"
    }

    fn forward(&self, inputs: &[&ArrayD<F>]) -> Result<ArrayD<F>> {
        Ok(inputs[0].mapv(|x| {
            let x = x.as_f64();
            F::from_f64(x.max(0.0) + (-x.abs()).exp().ln_1p())
        }))
    }

    fn backward(&self, ctx: &CustomCtx<F>, grad_out: &Tensor<F>) -> Vec<Option<Tensor<F>>> {
        // ∂L/∂x = ∂L/∂y · σ(x)
        vec![Some(grad_out * &ctx.input(0).sigmoid())]
    }

    fn jvp(
        &self,
        inputs: &[Tensor<F>],
        _output: &Tensor<F>,
        tangents: &[Option<Tensor<F>>],
    ) -> Result<Tensor<F>> {
        // ẏ = σ(x) ⊙ ẋ (forward mode calls this only when ẋ is present)
        let dx = tangents[0].as_ref().expect("a tangent");
        Ok(&inputs[0].sigmoid() * dx)
    }
}

/// Straight-through estimator: round(x) forward, the identity's gradient backward
/// (Bengio et al. 2013), as quantisation-aware training uses it.
struct RoundSte;

impl<F: Float> CustomOp<F> for RoundSte {
    fn name(&self) -> &'static str {
        "round_ste"
    }

    fn forward(&self, inputs: &[&ArrayD<F>]) -> Result<ArrayD<F>> {
        Ok(inputs[0].mapv(|x| F::from_f64(x.as_f64().round())))
    }

    fn backward(&self, _ctx: &CustomCtx<F>, grad_out: &Tensor<F>) -> Vec<Option<Tensor<F>>> {
        vec![Some(grad_out.clone())] // ∂L/∂x := ∂L/∂y
    }
}

fn softplus(x: &Tensor<f64>) -> Tensor<f64> {
    Tensor::custom(Arc::new(StableSoftplus), &[x])
}

#[test]
fn stable_softplus_passes_gradcheck_in_f64() {
    let x = Tensor::<f64>::from_vec(vec![-3.0, -0.7, 0.2, 1.5, 4.0, 0.9], &[2, 3]);
    gradcheck(
        "stable_softplus",
        |t| softplus(&t[0]),
        &[x.value().as_ref().clone()],
    )
    .unwrap();
}

#[test]
fn stable_softplus_agrees_with_the_builtin_in_value_and_gradient() {
    let values = vec![-5.0, -1.0, -0.1, 0.0, 0.3, 2.0, 8.0];
    let (a, b) = (
        Tensor::<f64>::from_vec(values.clone(), &[7]).requires_grad(),
        Tensor::<f64>::from_vec(values, &[7]).requires_grad(),
    );
    let (ya, yb) = (softplus(&a), b.softplus());
    for (u, v) in ya.to_vec().iter().zip(yb.to_vec()) {
        assert!((u - v).abs() < 1e-14, "{u} vs {v}");
    }
    (&ya * &ya).sum().backward();
    (&yb * &yb).sum().backward();
    for (u, v) in a
        .grad()
        .unwrap()
        .to_vec()
        .iter()
        .zip(b.grad().unwrap().to_vec())
    {
        assert!((u - v).abs() < 1e-13, "{u} vs {v}");
    }
}

#[test]
fn stable_softplus_second_order_comes_from_its_tensor_op_rule() {
    // d²/dx² softplus = σ(x)(1 − σ(x)); also the central difference of the first derivative.
    for x0 in [-2.0f64, -0.3, 0.0, 0.8, 3.0] {
        let x = Tensor::<f64>::scalar(x0).requires_grad();
        let g1 = grad(&softplus(&x), &[&x], true).unwrap().remove(0);
        let g2 = grad(&g1, &[&x], false).unwrap().remove(0).item();
        let s = 1.0 / (1.0 + (-x0).exp());
        assert!((g1.item() - s).abs() < 1e-15);
        assert!((g2 - s * (1.0 - s)).abs() < 1e-15, "x = {x0}: {g2}");
        let first = |x: f64| {
            let x = Tensor::<f64>::scalar(x).requires_grad();
            grad(&softplus(&x), &[&x], false).unwrap()[0].item()
        };
        let fd = (first(x0 + 1e-5) - first(x0 - 1e-5)) / 2e-5;
        assert!((g2 - fd).abs() < 1e-9, "x = {x0}: {g2} vs {fd}");
    }
}

#[test]
fn stable_softplus_stays_finite_at_plus_and_minus_a_thousand() {
    let x = Tensor::<f64>::from_vec(vec![1000.0, -1000.0], &[2]).requires_grad();
    let y = softplus(&x);
    assert_eq!(y.to_vec(), vec![1000.0, 0.0]);
    y.sum().backward();
    assert_eq!(x.grad().unwrap().to_vec(), vec![1.0, 0.0]); // σ(±1000)
                                                            // The naive ln(1 + eˣ) overflows at 1000.
    let naive = Tensor::<f64>::scalar(1000.0).exp().add_scalar(1.0).ln();
    assert!(naive.item().is_infinite());
}

#[test]
fn the_custom_node_is_on_the_printed_tape_and_jvp_reports_it_has_none() {
    let x = Tensor::<f64>::from_vec(vec![0.5], &[1]).requires_grad();
    let y = Tensor::custom(Arc::new(RoundSte), &[&x.exp()]);
    let printed = y.tape().unwrap().to_string();
    assert!(printed.contains("round_ste(%1)"), "{printed}");
    let op: Arc<dyn CustomOp<f64>> = Arc::new(RoundSte);
    let err = op.jvp(&[x.detach()], &y.detach(), &[None]).unwrap_err();
    assert_eq!(err, TensorError::NoForwardRule { op: "round_ste" });
    assert_eq!(
        err.to_string(),
        "jvp: no forward-mode rule for custom op round_ste; implement CustomOp::jvp"
    );
    // In forward mode, the missing rule stops the transform with that message.
    let through = std::panic::catch_unwind(|| {
        func::jvp(
            |t| Tensor::custom(Arc::new(RoundSte), &[&t[0]]),
            &[Tensor::scalar(0.3)],
            &[Tensor::scalar(1.0)],
        )
    });
    let message = through.unwrap_err();
    let text = message.downcast_ref::<String>().expect("a formatted panic");
    assert!(
        text.contains("no forward-mode rule for custom op round_ste"),
        "{text}"
    );
}

#[test]
fn forward_mode_runs_the_custom_jvp_rule() {
    // jvp of softplus at x with tangent v is σ(x)·v; jacfwd (forward) equals jacrev.
    let x = Tensor::<f64>::from_vec(vec![-2.0, 0.0, 3.0], &[3]);
    let v = Tensor::<f64>::from_vec(vec![1.0, -0.5, 2.0], &[3]);
    let (y, dy) = func::jvp(
        |t| softplus(&t[0]),
        std::slice::from_ref(&x),
        std::slice::from_ref(&v),
    )
    .unwrap();
    assert_eq!(y.to_vec(), softplus(&x).to_vec());
    let expected: Vec<f64> = (x.sigmoid() * &v).to_vec();
    assert_eq!(dy.to_vec(), expected);
    let fwd = func::jacfwd(|t| softplus(&t[0]).sum(), std::slice::from_ref(&x)).unwrap();
    let rev = func::jacrev(|t| softplus(&t[0]).sum(), std::slice::from_ref(&x)).unwrap();
    for (a, b) in fwd[0].to_vec().iter().zip(rev[0].to_vec()) {
        assert!((a - b).abs() < 1e-15, "{a} against {b}");
    }
    // Forward over reverse through the custom rules: H·v = σ(x)(1 − σ(x)) ⊙ v.
    let hv = func::hvp(
        |t| softplus(&t[0]).sum(),
        std::slice::from_ref(&x),
        std::slice::from_ref(&v),
    )
    .unwrap();
    let s = x.sigmoid().to_vec();
    for ((h, s), v) in hv[0].to_vec().iter().zip(&s).zip(v.to_vec()) {
        assert!((h - s * (1.0 - s) * v).abs() < 1e-15, "{h}");
    }
}

#[test]
fn straight_through_estimator_rounds_forward_and_passes_the_gradient_through() {
    let x = Tensor::<f64>::from_vec(vec![0.4, 1.6, -2.5, 3.0], &[4]).requires_grad();
    let q = Tensor::custom(Arc::new(RoundSte), &[&x]);
    assert_eq!(q.to_vec(), vec![0.0, 2.0, -3.0, 3.0]);
    // L = Σ c ⊙ q: ∂L/∂x = c exactly, though round's true derivative is 0 almost everywhere.
    let c = Tensor::<f64>::from_vec(vec![1.0, -2.0, 0.5, 4.0], &[4]);
    (&q * &c).sum().backward();
    assert_eq!(x.grad().unwrap().to_vec(), c.to_vec());
    // And it trains: a few steps of w ← w − 0.1·∂/∂w on (round(w) − 3)² move w towards 3.
    let w = Tensor::<f64>::scalar(0.2).requires_grad();
    for _ in 0..20 {
        let loss = Tensor::custom(Arc::new(RoundSte), &[&w])
            .add_scalar(-3.0)
            .powf(2.0)
            .sum();
        loss.backward();
        w.param().unwrap().update(|w, g| *w -= &(g * 0.1));
        w.zero_grad();
    }
    assert_eq!(w.item().round(), 3.0, "{}", w.item());
}

#[test]
fn a_forward_error_comes_back_from_try_custom() {
    struct Picky;
    impl CustomOp<f64> for Picky {
        fn name(&self) -> &'static str {
            "picky"
        }
        fn forward(&self, inputs: &[&ArrayD<f64>]) -> Result<ArrayD<f64>> {
            Err(TensorError::InvalidArgument {
                op: "picky",
                shape: inputs[0].shape().to_vec(),
                rule: "wants a matrix".into(),
            })
        }
        fn backward(&self, _: &CustomCtx<f64>, _: &Tensor<f64>) -> Vec<Option<Tensor<f64>>> {
            vec![None]
        }
    }
    let x = Tensor::<f64>::ones(&[3]).requires_grad();
    let err = Tensor::try_custom(Arc::new(Picky), &[&x]).unwrap_err();
    assert_eq!(err.to_string(), "picky: [3]: wants a matrix");
}
