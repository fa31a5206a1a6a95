//! Gradient hooks and retained gradients (`register_hook`, `retain_grad`).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tapegrad_tensor::{grad, Param, Tensor};

fn norm(t: &Tensor<f64>) -> f64 {
    t.to_vec().iter().map(|x| x * x).sum::<f64>().sqrt()
}

fn param(name: &str, values: Vec<f64>, shape: &[usize]) -> Param<f64> {
    Param::new(
        name,
        Tensor::<f64>::from_vec(values, shape)
            .value()
            .as_ref()
            .clone(),
    )
}

#[test]
fn per_layer_gradient_norms_from_hooks_equal_the_parameters_grad_norms() {
    // A 2 → 3 → 1 tanh network; each parameter's hook writes down ‖∂L/∂p‖.
    let w1 = param("w1", vec![0.5, -0.3, 0.8, 0.1, 0.7, -0.6], &[2, 3]);
    let b1 = param("b1", vec![0.1, 0.0, -0.1], &[3]);
    let w2 = param("w2", vec![0.9, -1.1, 0.4], &[3, 1]);
    let norms = Arc::new(Mutex::new(Vec::new()));
    for p in [&w1, &b1, &w2] {
        let (norms, name) = (Arc::clone(&norms), p.name().to_string());
        p.tensor().register_hook(move |g| {
            norms.lock().unwrap().push((name.clone(), norm(g)));
            None
        });
    }
    let x = Tensor::<f64>::from_vec(vec![1.0, 2.0, -1.0, 0.5], &[2, 2]);
    let y = Tensor::<f64>::from_vec(vec![0.3, -0.2], &[2, 1]);
    let h = (x.matmul(&w1.tensor()) + b1.tensor()).tanh();
    let loss = (h.matmul(&w2.tensor()) - &y).powf(2.0).mean();
    loss.backward();
    let norms = norms.lock().unwrap().clone();
    assert_eq!(norms.len(), 3, "one call per parameter: {norms:?}");
    for p in [&w1, &b1, &w2] {
        let from_hook = norms.iter().find(|(n, _)| n == p.name()).unwrap().1;
        let from_grad = norm(&Tensor::from_array(p.grad().unwrap()));
        assert!(from_grad > 0.0);
        assert!(
            (from_hook - from_grad).abs() < 1e-15,
            "{}: {from_hook} vs {from_grad}",
            p.name()
        );
    }
}

/// L = Σ (h·w2)² + Σ w3 ⊙ x with h = tanh(x·w1): the gradients of w1, w2, w3.
fn reversal_grads(reverse: bool) -> [Vec<f64>; 3] {
    let w1 = Tensor::<f64>::from_vec(vec![0.4, -0.7], &[1, 2]).requires_grad();
    let w2 = Tensor::<f64>::from_vec(vec![1.5, 0.5], &[2, 1]).requires_grad();
    let w3 = Tensor::<f64>::from_vec(vec![2.0, -3.0, 1.0], &[3, 1]).requires_grad();
    let x = Tensor::<f64>::from_vec(vec![1.0, -2.0, 0.5], &[3, 1]);
    let h = x.matmul(&w1).tanh();
    if reverse {
        h.register_hook(|g| Some(-g));
    }
    let loss = h.matmul(&w2).powf(2.0).sum() + (&w3 * &x).sum();
    loss.backward();
    [w1, w2, w3].map(|w| w.grad().unwrap().to_vec())
}

#[test]
fn gradient_reversal_flips_exactly_the_upstream_gradients() {
    let [w1, w2, w3] = reversal_grads(false);
    let [r1, r2, r3] = reversal_grads(true);
    // Upstream of h (w1): negated. Downstream (w2) and off the path (w3): unchanged.
    assert!(w1.iter().all(|g| g.abs() > 1e-3), "{w1:?}");
    assert_eq!(r1, w1.iter().map(|g| -g).collect::<Vec<_>>());
    assert_eq!(r2, w2);
    assert_eq!(r3, w3);
}

#[test]
fn a_hook_under_create_graph_is_differentiated_with_the_gradient() {
    // y = sin(h), h = x², the hook doubles ∂y/∂h. With create_graph the doubling is recorded:
    // g₁ = 2·cos(h)·2x = 4x·cos x².
    let x0 = 0.7f64;
    let x = Tensor::<f64>::scalar(x0).requires_grad();
    let h = &x * &x;
    let handle = h.register_hook(|g| Some(g * 2.0));
    let y = h.sin();
    let g1 = grad(&y, &[&x], true).unwrap().remove(0);
    let (s, c) = (x0 * x0).sin_cos();
    assert!((g1.item() - 4.0 * x0 * c).abs() < 1e-14);
    // Differentiating g₁ with the hook still on: the second sweep reaches h again (through
    // the cos(h) that g₁ uses), and the hook doubles that gradient too, as PyTorch's does:
    // d/dx = 4cos h + 2·(−2x·sin h)·2·2x = 4cos h − 16x² sin h.
    let g2 = grad(&g1, &[&x], false).unwrap().remove(0);
    assert!(
        (g2.item() - (4.0 * c - 16.0 * x0 * x0 * s)).abs() < 1e-13,
        "{}",
        g2.item()
    );
    // Removed before the second pass, the hook acts once: d/dx (4x cos x²) = 4cos h − 8x² sin h,
    // the derivative of the hooked first-order gradient (checked by central differences).
    let x = Tensor::<f64>::scalar(x0).requires_grad();
    let h = &x * &x;
    let handle2 = h.register_hook(|g| Some(g * 2.0));
    let g1 = grad(&h.sin(), &[&x], true).unwrap().remove(0);
    handle2.remove();
    let g2 = grad(&g1, &[&x], false).unwrap().remove(0).item();
    let hooked_g1 = |x: f64| 4.0 * x * (x * x).cos();
    let fd = (hooked_g1(x0 + 1e-6) - hooked_g1(x0 - 1e-6)) / 2e-6;
    assert!((g2 - (4.0 * c - 8.0 * x0 * x0 * s)).abs() < 1e-13);
    assert!((g2 - fd).abs() < 1e-8, "{g2} vs {fd}");
    handle.remove();
}

#[test]
fn hooks_fire_once_per_backward_with_the_whole_gradient() {
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let w = Tensor::<f64>::from_vec(vec![1.0, 2.0], &[2]).requires_grad();
    let param_calls = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&param_calls);
    w.register_hook(move |_| {
        counter.fetch_add(1, Ordering::Relaxed);
        None
    });
    for step in 0..2 {
        // h fans out three ways: its hook still sees one complete gradient, 3 + 2·1 + 1 = 6.
        let h = &w * 1.0;
        let (calls, seen) = (Arc::clone(&calls), Arc::clone(&seen));
        h.register_hook(move |g| {
            calls.fetch_add(1, Ordering::Relaxed);
            seen.lock().unwrap().push(g.to_vec());
            None
        });
        let loss = (&h * 3.0).sum() + (&h * 2.0).sum() + h.sum();
        if step == 0 {
            loss.backward_retain();
            loss.backward_retain();
        } else {
            loss.backward();
        }
    }
    assert_eq!(
        calls.load(Ordering::Relaxed),
        3,
        "two passes on step 0, one on step 1"
    );
    assert_eq!(param_calls.load(Ordering::Relaxed), 3);
    assert!(seen.lock().unwrap().iter().all(|g| g == &vec![6.0, 6.0]));
    assert_eq!(w.grad().unwrap().to_vec(), vec![18.0, 18.0]);
}

#[test]
fn retain_grad_fills_an_intermediates_grad_and_sums_over_passes() {
    // h = x², loss = Σ 3h: ∂loss/∂h = 3; a second backward_retain makes it 6.
    let x = Tensor::<f64>::from_vec(vec![1.0, -2.0], &[2]).requires_grad();
    let h = &x * &x;
    let other = &x * 5.0;
    h.retain_grad();
    assert!(h.grad().is_none());
    let loss = (&h * 3.0).sum() + other.sum();
    loss.backward_retain();
    assert_eq!(h.grad().unwrap().to_vec(), vec![3.0, 3.0]);
    assert!(other.grad().is_none(), "not asked for");
    loss.backward();
    assert_eq!(h.grad().unwrap().to_vec(), vec![6.0, 6.0]);
    // The hook's replacement is what is retained (hooks run first).
    let y = &x * 2.0;
    y.retain_grad();
    y.register_hook(|g| Some(g * 10.0));
    y.sum().backward();
    assert_eq!(y.grad().unwrap().to_vec(), vec![10.0, 10.0]);
}

#[test]
fn a_hook_returning_another_shape_is_an_error_and_constants_take_no_hooks() {
    let x = Tensor::<f64>::from_vec(vec![1.0, 2.0], &[2]).requires_grad();
    let h = &x * 2.0;
    h.register_hook(|_| Some(Tensor::zeros(&[3])));
    let err = h.sum().try_backward().unwrap_err().to_string();
    assert_eq!(
        err,
        "register_hook: [2] and [3]: a hook must return a gradient of the tensor's shape"
    );
    let c = Tensor::<f64>::ones(&[2]);
    let err = c.try_register_hook(|_| None).err().unwrap().to_string();
    assert!(
        err.starts_with("register_hook: [2]: the tensor requires no gradient"),
        "{err}"
    );
    assert!(c.try_retain_grad().is_err());
}
