//! Memory stays flat over many steps: every step's tape is freed when the step's tensors go,
//! whether the step ran backward or not. Measured with the crate's live tape and node
//! counters (process-wide, so this file holds a single test).

use tapegrad::tensor::debug::{live_nodes, live_tapes};
use tapegrad::{no_grad, Tensor};

#[test]
fn ten_thousand_training_steps_leave_no_tape_behind() {
    let (baseline_tapes, baseline_nodes) = (live_tapes(), live_nodes());
    let x = Tensor::<f32>::randn(&[32, 3], 0.0, 1.0, 1);
    let y = x.matmul(&Tensor::from_vec(vec![1.0, -2.0, 0.5], &[3, 1]));
    let w = Tensor::<f32>::zeros(&[3, 1]).requires_grad();
    let mut kept_loss = None;
    for step in 0..10_000 {
        let residual = &y - &x.matmul(&w);
        let loss = (&residual * &residual).mean();
        loss.backward();
        w.param()
            .unwrap()
            .update(|value, grad| value.scaled_add(-0.05, grad));
        w.zero_grad();
        // An evaluation without no_grad records a tape too; it must be freed all the same.
        let _eval = (&x.matmul(&w) - &y).abs_sum_for_test();
        if step == 100 {
            // A kept loss pins only its emptied tape.
            kept_loss = Some(loss);
        }
        // Alive here: this step's (consumed) training tape, its evaluation tape, and the kept
        // loss's tape — never more, however many steps ran.
        assert!(
            live_tapes() <= baseline_tapes + 3,
            "step {step}: {} tapes",
            live_tapes()
        );
    }
    assert_eq!(
        live_tapes(),
        baseline_tapes + 1,
        "only the kept loss's tape is alive"
    );
    assert_eq!(live_nodes(), baseline_nodes, "and it holds no nodes");
    drop(kept_loss);
    assert_eq!(
        (live_tapes(), live_nodes()),
        (baseline_tapes, baseline_nodes)
    );
    let final_loss = no_grad(|| (&y - &x.matmul(&w)).abs_sum_for_test()).item();
    assert!(final_loss < 1e-3, "the model also trained: {final_loss}");

    // Two losses on one tape sharing only the parameter, each with its own backward and a
    // no_grad evaluation between them: the first pass frees its own nodes only, the second
    // the rest, and a loss kept from an old step pins no nodes either.
    let mut kept_losses = None;
    for step in 0..2_000 {
        let fit = (&y - &x.matmul(&w)).abs_sum_for_test();
        let decay = (&w * &w).sum();
        fit.backward();
        let _eval = no_grad(|| x.matmul(&w).sum());
        decay.backward();
        w.zero_grad();
        if step == 100 {
            kept_losses = Some((fit, decay));
        }
        assert!(
            live_tapes() <= baseline_tapes + 2,
            "two losses, step {step}: {} tapes",
            live_tapes()
        );
    }
    assert_eq!(
        live_nodes(),
        baseline_nodes,
        "the kept losses hold no nodes"
    );
    drop(kept_losses);
    assert_eq!(
        (live_tapes(), live_nodes()),
        (baseline_tapes, baseline_nodes)
    );
}

trait AbsSum {
    fn abs_sum_for_test(&self) -> Tensor<f32>;
}

impl AbsSum for Tensor<f32> {
    /// Σ|x| built from ops this test does not otherwise rely on: √(x²).
    fn abs_sum_for_test(&self) -> Tensor<f32> {
        (self * self).powf(0.5).sum()
    }
}
