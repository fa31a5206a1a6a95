//! PyTorch's parameter semantics, as a user meets them: accumulation, zero_grad, no_grad,
//! detach, retained graphs, copy-on-write updates, and tensors shared across threads.

use tapegrad::{no_grad, Param, Tensor};

#[test]
fn gradients_accumulate_across_backward_calls_until_zero_grad() {
    // L = Σ 3w has ∂L/∂w = 3; two backward passes accumulate 6.
    let w = Tensor::<f64>::ones(&[2]).requires_grad();
    (&w * 3.0).sum().backward();
    (&w * 3.0).sum().backward();
    assert_eq!(w.grad().unwrap().to_vec(), vec![6.0, 6.0]);
    w.zero_grad();
    assert!(w.grad().is_none());
}

#[test]
fn a_parameter_used_twice_is_one_leaf_whose_gradient_sums_both_uses() {
    // L = Σ (w·x + w) = Σ w(x + 1): ∂L/∂w = x + 1.
    let w = Tensor::<f64>::ones(&[3]).requires_grad();
    let x = Tensor::<f64>::from_vec(vec![1.0, 2.0, 3.0], &[3]);
    let loss = (&(&w * &x) + &w).sum();
    let tape = loss.tape().unwrap();
    let leaves = tape.to_string().matches("leaf").count();
    assert_eq!(leaves, 1, "{tape}");
    loss.backward();
    assert_eq!(w.grad().unwrap().to_vec(), vec![2.0, 3.0, 4.0]);
}

#[test]
fn no_grad_records_nothing_and_detach_cuts_the_history() {
    let w = Tensor::<f64>::ones(&[2]).requires_grad();
    let y = no_grad(|| &w * 2.0);
    assert!(!y.is_tracked() && y.tape().is_none());
    assert!(
        tapegrad::tensor::is_grad_enabled(),
        "the scope restored recording"
    );

    // L = Σ w ⊙ detach(w): only the first factor is differentiated, so ∂L/∂w = w.
    let w = Tensor::<f64>::from_vec(vec![2.0, 5.0], &[2]).requires_grad();
    (&w * &w.detach()).sum().backward();
    assert_eq!(w.grad().unwrap().to_vec(), vec![2.0, 5.0]);
}

#[test]
fn constants_alone_are_never_recorded() {
    let a = Tensor::<f32>::ones(&[2]);
    assert!(!(&a + &a).is_tracked());
}

#[test]
fn backward_retain_allows_a_second_pass() {
    let w = Tensor::<f64>::scalar(3.0).requires_grad();
    let loss = &w * &w; // ∂/∂w = 2w = 6
    loss.backward_retain();
    loss.backward();
    assert_eq!(w.grad().unwrap().item(), 12.0);
    assert!(loss.tape().unwrap().is_consumed());
}

#[test]
fn an_update_after_recording_does_not_change_what_the_tape_saved() {
    // loss = Σ w ⊙ w saved w = [1, 2]. Updating w before backward must not leak into
    // the gradient: ∂loss/∂w = 2·[1, 2], not 2·[101, 102].
    let w = Param::<f64>::new("w", ndarray::arr1(&[1.0, 2.0]).into_dyn());
    let loss = (&w.tensor() * &w.tensor()).sum();
    w.set_value(ndarray::arr1(&[101.0, 102.0]).into_dyn())
        .unwrap();
    loss.backward();
    assert_eq!(w.tensor().grad().unwrap().to_vec(), vec![2.0, 4.0]);
    // And an in-place update while a tape holds the value copies it first.
    let loss = (&w.tensor() * &w.tensor()).sum();
    w.update(|value, _| value.fill(0.0));
    w.zero_grad();
    loss.backward();
    assert_eq!(w.tensor().grad().unwrap().to_vec(), vec![202.0, 204.0]);
}

#[test]
fn vector_jacobian_product_with_an_explicit_output_gradient() {
    // y = 2x, backward with v: ∂(v·y)/∂x = 2v.
    let x = Tensor::<f64>::ones(&[3]).requires_grad();
    let y = &x * 2.0;
    y.backward_with(&Tensor::from_vec(vec![1.0, 0.0, -1.0], &[3]));
    assert_eq!(x.grad().unwrap().to_vec(), vec![2.0, 0.0, -2.0]);
}

#[test]
fn values_from_a_consumed_graph_can_still_be_computed_with() {
    // After backward, h's graph is freed. Using h's value is fine (metrics, printing);
    // only differentiating through it again is an error.
    let w = Tensor::<f64>::scalar(2.0).requires_grad();
    let h = &w * 3.0;
    h.sum().backward();
    let doubled = &h * 2.0;
    assert_eq!(doubled.item(), 12.0);
    let err = (&doubled * &w).sum().try_backward().unwrap_err();
    assert!(err.to_string().contains("graph already consumed"), "{err}");
}

#[test]
fn tensors_and_parameters_move_across_threads() {
    let w = Param::<f32>::new("w", ndarray::arr1(&[1.0, 2.0]).into_dyn());
    let handles: Vec<_> = (0..2)
        .map(|_| {
            let w = w.clone();
            std::thread::spawn(move || (&w.tensor() * 2.0).sum().backward())
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    // Each thread recorded on its own tape and added ∂/∂w = 2 once.
    assert_eq!(w.tensor().grad().unwrap().to_vec(), vec![4.0, 4.0]);
}
