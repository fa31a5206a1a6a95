//! # 02 — The tape
//!
//! Mark a tensor with `requires_grad()` and every op that touches it is recorded, one numbered
//! node per op, on a tape. This example records a tiny computation, prints the tape and its
//! Graphviz form, then runs `backward()`: one loop from the last node to the first, applying
//! each op's backward rule. Gradients land in `.grad()` of the leaves, and accumulate until
//! `zero_grad()`. Inside `no_grad` nothing is recorded.
//!
//! Run: `cargo run --example 02_tape`

use tapegrad::{no_grad, Param, Tensor};

fn main() {
    let w = Param::<f64>::new("w", ndarray::arr1(&[1.0, -2.0, 3.0]).into_dyn());
    let x = Tensor::<f64>::from_vec(vec![0.5, 1.0, 2.0], &[3]);

    // L = Σ exp(w ⊙ x) / 3
    let z = &w.tensor() * &x;
    let loss = z.exp().mean();
    let tape = loss
        .tape()
        .expect("the loss depends on w, so it was recorded");
    println!("{tape}");
    println!("Graphviz (render with `dot -Tsvg`):\n{}", tape.to_dot());

    // The sweep is the lesson; a training loop repeats it, and `models::trainer::Trainer` runs one.
    loss.backward_retain();
    // ∂L/∂wᵢ = xᵢ·exp(wᵢxᵢ)/3
    let by_hand: Vec<f64> = [(1.0, 0.5), (-2.0, 1.0), (3.0, 2.0)]
        .iter()
        .map(|(w, x): &(f64, f64)| x * (w * x).exp() / 3.0)
        .collect();
    let grad = w.grad().expect("backward reached w");
    println!("∂L/∂w from the tape: {grad}");
    println!("∂L/∂w by hand:       {by_hand:?}");

    loss.backward(); // a second pass adds the same gradient again, then frees the tape
    println!(
        "after a second backward, accumulated: {}",
        w.grad().unwrap()
    );
    println!("the tape is now consumed: {}", tape.is_consumed());
    w.zero_grad();

    let untracked = no_grad(|| (&w.tensor() * &x).exp().mean());
    println!(
        "inside no_grad the result is recorded: {}",
        untracked.is_tracked()
    );

    // Check: the first gradient matched the formula, and the accumulation doubled it.
    for (auto, hand) in grad.iter().zip(&by_hand) {
        assert!((auto - hand).abs() < 1e-12);
    }
    println!("\ncheck: tape gradients equal xᵢ·exp(wᵢxᵢ)/3 to 1e-12");
}
