//! `func`: Jacobians by reverse and forward mode agree on composite functions, Hessians are
//! symmetric and equal the analytic ones, and bad tangents give errors that name the
//! transform and the shapes.

use tapegrad_tensor::{func, Conv2dOptions, Tensor};

fn rand(shape: &[usize], seed: u64) -> Tensor<f64> {
    Tensor::rand_uniform(shape, -1.0, 1.0, seed)
}

#[track_caller]
fn assert_all_close(what: &str, a: &Tensor<f64>, b: &Tensor<f64>, tol: f64) {
    assert_eq!(a.shape(), b.shape(), "{what}: shapes");
    for (i, (x, y)) in a.to_vec().iter().zip(b.to_vec()).enumerate() {
        assert!(
            (x - y).abs() <= tol * (1.0 + y.abs()),
            "{what}[{i}]: {x} vs {y}"
        );
    }
}

/// jacrev and jacfwd of `f` at `inputs` agree, for every input, with the torch.func shape.
#[track_caller]
fn check_jacobians(what: &str, f: impl Fn(&[Tensor<f64>]) -> Tensor<f64>, inputs: &[Tensor<f64>]) {
    let out = f(inputs).shape().to_vec();
    let rev = func::jacrev(&f, inputs).unwrap();
    let fwd = func::jacfwd(&f, inputs).unwrap();
    for (i, x) in inputs.iter().enumerate() {
        let shape = [out.as_slice(), x.shape()].concat();
        assert_eq!(
            rev[i].shape(),
            shape.as_slice(),
            "{what}: jacrev[{i}] shape"
        );
        assert!(!rev[i].is_tracked() && !fwd[i].is_tracked());
        assert!(
            rev[i].to_vec().iter().any(|&v| v != 0.0),
            "{what}: J[{i}] = 0"
        );
        assert_all_close(&format!("{what} J[{i}]"), &fwd[i], &rev[i], 1e-12);
    }
}

#[test]
fn jacrev_equals_jacfwd_on_an_mlp_with_tanh() {
    let mlp = |t: &[Tensor<f64>]| {
        let h = t[0].linear(&t[1], Some(&t[2])).tanh();
        h.linear(&t[3], None).tanh()
    };
    let inputs = [
        rand(&[4, 3], 1),
        rand(&[5, 3], 2),
        rand(&[5], 3),
        rand(&[2, 5], 4),
    ];
    check_jacobians("mlp", mlp, &inputs);
}

#[test]
fn jacrev_equals_jacfwd_on_softmax_cross_entropy() {
    let labels = [2usize, 0, 1];
    let ce = move |t: &[Tensor<f64>]| {
        let mut onehot = ndarray::ArrayD::<f64>::zeros(ndarray::IxDyn(&[3, 4]));
        for (row, &c) in labels.iter().enumerate() {
            onehot[[row, c]] = 1.0;
        }
        let logits = t[0].matmul(&t[1]);
        -(&Tensor::from_array(onehot) * &logits.log_softmax(-1)).sum() / 3.0
    };
    check_jacobians("cross-entropy", ce, &[rand(&[3, 2], 5), rand(&[2, 4], 6)]);
    // and its Hessian with respect to the logits is symmetric
    let h = func::hessian(
        |t: &[Tensor<f64>]| ce(&[t[0].clone(), Tensor::eye(4).narrow(0, 0, 2)]),
        &[rand(&[3, 2], 7)],
    )
    .unwrap();
    let h = &h[0][0].reshape(&[6, 6]);
    assert_all_close("cross-entropy hessian", h, &h.t(), 1e-14);
}

#[test]
fn jacrev_equals_jacfwd_on_a_conv() {
    let conv = |t: &[Tensor<f64>]| {
        let options = Conv2dOptions {
            stride: [2, 1],
            ..Default::default()
        };
        t[0].conv2d(&t[1], Some(&t[2]), options).relu()
    };
    let inputs = [
        rand(&[1, 2, 5, 4], 8),
        rand(&[3, 2, 3, 2], 9),
        rand(&[3], 10),
    ];
    check_jacobians("conv2d", conv, &inputs);
}

#[test]
fn hessian_of_a_quadratic_form_is_a_plus_a_transposed() {
    // f(x) = xᵀAx, so ∇f = (A + Aᵀ)x and H = A + Aᵀ everywhere.
    let a = rand(&[4, 4], 11);
    let f = {
        let a = a.clone();
        move |t: &[Tensor<f64>]| t[0].matmul(&a).matmul(&t[0])
    };
    let x = rand(&[4], 12);
    let h = func::hessian(&f, std::slice::from_ref(&x))
        .unwrap()
        .remove(0)
        .remove(0);
    assert_all_close("xᵀAx hessian", &h, &(&a + &a.t()), 1e-14);
    assert_all_close("symmetric", &h, &h.t(), 0.0);
    // hvp (forward over reverse) is H·v; so is reverse over reverse
    let v = rand(&[4], 13);
    let hv = func::hvp(&f, std::slice::from_ref(&x), std::slice::from_ref(&v))
        .unwrap()
        .remove(0);
    assert_all_close("hvp", &hv, &h.matmul(&v), 1e-14);
    let rr = func::jacrev(
        |t: &[Tensor<f64>]| func::grad(&f, t).unwrap().remove(0),
        &[x],
    );
    assert_all_close("jacrev of grad", &rr.unwrap()[0], &h, 1e-14);
}

#[test]
fn hessian_of_logistic_regression_is_xt_diag_p_one_minus_p_x_over_n() {
    // L(w) = (1/n) Σ softplus(zᵢ) − yᵢzᵢ with z = Xw (binary cross-entropy on logits):
    // ∇L = Xᵀ(p − y)/n and H = Xᵀ diag(p(1 − p)) X / n, p = σ(z).
    let (n, d) = (6, 3);
    let x = rand(&[n, d], 14);
    let y = Tensor::from_vec(vec![1.0, 0.0, 0.0, 1.0, 1.0, 0.0], &[n]);
    let w = &rand(&[d], 15) * 2.0;
    let loss = {
        let (x, y) = (x.clone(), y.clone());
        move |t: &[Tensor<f64>]| {
            let z = x.matmul(&t[0]);
            (&z.softplus() - &(&y * &z)).mean()
        }
    };
    let h = func::hessian(&loss, std::slice::from_ref(&w))
        .unwrap()
        .remove(0)
        .remove(0);
    let p = x.matmul(&w).sigmoid();
    let weights = &p * &(&-&p + 1.0);
    let want = &x.t().matmul(&(&x * &weights.unsqueeze(1))) / n as f64;
    assert_all_close("logistic hessian", &h, &want, 1e-14);
    assert_all_close("symmetric", &h, &h.t(), 1e-15);
    let g = func::grad(&loss, std::slice::from_ref(&w))
        .unwrap()
        .remove(0);
    assert_all_close(
        "logistic gradient",
        &g,
        &(&x.t().matmul(&(&p - &y)) / n as f64),
        1e-14,
    );
}

#[test]
fn vjp_is_u_transposed_times_the_jacobian() {
    let f = |t: &[Tensor<f64>]| t[0].matmul(&t[1]).sin();
    let inputs = [rand(&[2, 3], 16), rand(&[3, 2], 17)];
    let u = rand(&[2, 2], 18);
    let (y, vjp) = func::vjp(f, &inputs, &u).unwrap();
    assert_eq!(y.shape(), &[2, 2]);
    let j = func::jacrev(f, &inputs).unwrap();
    for i in 0..2 {
        let n = inputs[i].numel();
        let want = u.reshape(&[1, 4]).matmul(&j[i].reshape(&[4, n]));
        assert_all_close("vjp", &vjp[i], &want.reshape(inputs[i].shape()), 1e-14);
    }
}

#[test]
fn transforms_compose_with_the_outer_tape() {
    // A parameter passed to a transform stays differentiable: d/dw of ⟨∇ₓ f, 1⟩ for
    // f = Σ w ⊙ x² is Σ 2x, a second derivative taken through func::grad by backward.
    let w = Tensor::<f64>::from_vec(vec![0.5, -1.0], &[2]).requires_grad();
    let x = Tensor::from_vec(vec![3.0, 4.0], &[2]);
    let gx = func::grad(
        |t: &[Tensor<f64>]| (&t[1] * &t[0].powf(2.0)).sum(),
        &[x, w.clone()],
    )
    .unwrap()
    .remove(0);
    assert!(gx.is_tracked());
    gx.sum().backward();
    assert_eq!(w.grad().unwrap().to_vec(), vec![6.0, 8.0]);
}

#[test]
fn reverse_over_forward_gives_the_same_hvp() {
    // jacrev of x ↦ J·v = ⟨∇f, v⟩ (forward mode, recorded tangents) is H·v.
    let f = |t: &[Tensor<f64>]| (&t[0].sin() * &t[0].exp()).sum();
    let (x, v) = (rand(&[5], 19), rand(&[5], 20));
    let directional = |t: &[Tensor<f64>]| func::jvp(f, t, std::slice::from_ref(&v)).unwrap().1;
    let rev_fwd = func::jacrev(directional, std::slice::from_ref(&x))
        .unwrap()
        .remove(0);
    let fwd_rev = func::hvp(f, std::slice::from_ref(&x), std::slice::from_ref(&v))
        .unwrap()
        .remove(0);
    let h = func::hessian(f, &[x]).unwrap().remove(0).remove(0);
    assert_all_close("reverse over forward", &rev_fwd, &fwd_rev, 1e-13);
    assert_all_close("H·v", &fwd_rev, &h.matmul(&v), 1e-13);
}

#[test]
fn errors_name_the_transform_and_the_shapes() {
    let f = |t: &[Tensor<f64>]| t[0].sin();
    let x = [Tensor::zeros(&[2, 3])];
    let err = func::jvp(f, &x, &[Tensor::zeros(&[3])]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "jvp: [2, 3] and [3]: tangent 0 (right) must match input 0 (left); it must have the \
         shape on the left"
    );
    let err = func::jvp(f, &x, &[]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "jvp: [2, 3]: 0 tangents given for 1 inputs (of shapes [[2, 3]]); give one per input"
    );
    let err = func::vjp(f, &x, &Tensor::zeros(&[3, 2])).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("vjp: [2, 3] and [3, 2]: the cotangent"),
        "{err}"
    );
    let err = func::hvp(f, &x, &[Tensor::zeros(&[2, 3])]).unwrap_err();
    assert!(err.to_string().starts_with("hvp: "), "{err}");
    assert!(err.to_string().contains("[2, 3]"), "{err}");
    let err = func::grad(f, &x).unwrap_err();
    assert!(err.to_string().starts_with("grad: "), "{err}");
    // forward over forward is refused, not silently wrong
    let inner = std::cell::RefCell::new(None);
    let ones = [Tensor::ones(&[2, 3])];
    let outer = |t: &[Tensor<f64>]| {
        *inner.borrow_mut() = func::jvp(f, t, &ones).err();
        t[0].clone()
    };
    func::jvp(outer, &x, &ones).unwrap();
    let err = inner.borrow_mut().take().expect("the inner jvp fails");
    assert!(err.to_string().starts_with("jvp: "), "{err}");
    assert!(err.to_string().contains("levels do not nest"), "{err}");
}
