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

#[test]
fn two_losses_sharing_only_parameters_each_run_backward_and_accumulate() {
    // a = Σ w ⊙ x and b = Σ w ⊙ w share only the leaf w (one tape): ∂a/∂w = x, ∂b/∂w = 2w,
    // so after both passes w.grad = x + 2w, in either order, as in PyTorch.
    for a_first in [true, false] {
        let w = Tensor::<f64>::from_vec(vec![1.0, -2.0, 0.5], &[3]).requires_grad();
        let x = Tensor::<f64>::from_vec(vec![3.0, 4.0, 5.0], &[3]);
        let a = (&w * &x).sum();
        let b = (&w * &w).sum();
        let tape = a.tape().unwrap();
        assert_eq!(
            tape.id(),
            b.tape().unwrap().id(),
            "both losses share one tape"
        );
        if a_first {
            a.backward();
            b.backward();
        } else {
            b.backward();
            a.backward();
        }
        assert_eq!(w.grad().unwrap().to_vec(), vec![5.0, 0.0, 6.0]);
        assert!(
            tape.is_consumed() && tape.is_empty(),
            "the second pass freed it all"
        );
    }
}

#[test]
fn no_grad_evaluation_between_two_backward_calls() {
    let w = Tensor::<f64>::from_vec(vec![2.0], &[1]).requires_grad();
    let a = (&w * 3.0).sum(); // ∂a/∂w = 3
    let b = w.powf(2.0).sum(); // ∂b/∂w = 2w = 4
    a.backward();
    let eval = no_grad(|| (&w * &w).sum().item());
    assert_eq!(eval, 4.0);
    b.backward();
    assert_eq!(w.grad().unwrap().to_vec(), vec![7.0]);
}

#[test]
fn a_parameter_stays_usable_on_a_tape_one_loss_already_swept() {
    // a comes first on the tape, b after it; b's pass frees b's nodes (and w2's leaf with them),
    // yet w2 used again lifts a fresh leaf, and a's graph is untouched.
    let w1 = Tensor::<f64>::scalar(1.0).requires_grad();
    let w2 = Tensor::<f64>::scalar(1.0).requires_grad();
    let a = (&w1 * 2.0).sum();
    let b = (&w2 * 3.0).sum();
    b.backward();
    let c = (&w2 * 4.0).sum();
    c.backward();
    a.backward();
    assert_eq!(w1.grad().unwrap().item(), 2.0);
    assert_eq!(w2.grad().unwrap().item(), 7.0);
}

#[test]
fn a_second_pass_through_shared_intermediate_nodes_is_still_an_error() {
    // h is an intermediate both losses use: a's pass freed its saved values, as in PyTorch.
    let w = Tensor::<f64>::scalar(2.0).requires_grad();
    let h = (&w * &w).exp();
    let a = (&h * 2.0).sum();
    let b = (&h * 3.0).sum();
    a.backward();
    let err = b.try_backward().unwrap_err().to_string();
    assert!(err.contains("consumed"), "{err}");
    // backward_retain on the first keeps the shared part for the second.
    let w = Tensor::<f64>::scalar(0.0).requires_grad();
    let h = (&w * 1.0).exp(); // e⁰ = 1, dh/dw = 1
    let (a, b) = ((&h * 2.0).sum(), (&h * 3.0).sum());
    a.backward_retain();
    b.backward();
    assert_eq!(w.grad().unwrap().item(), 5.0);
}

#[test]
fn a_traced_backward_of_one_loss_leaves_the_other_for_its_own_pass() {
    // The traced sweep is the same sweep: it frees only a's nodes, so b still runs.
    let w = Tensor::<f64>::scalar(2.0).requires_grad();
    let (a, b) = ((&w * 3.0).sum(), (&w * &w).sum()); // ∂a/∂w = 3, ∂b/∂w = 2w = 4
    let trace = a.backward_traced();
    assert_eq!(trace.root(), a.node_id().unwrap());
    b.backward();
    assert_eq!(w.grad().unwrap().item(), 7.0);
}
