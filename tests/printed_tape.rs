//! Golden test: the tape of one linear-regression step, as a learner prints it.

use tapegrad::{Param, Tensor};

fn one_step() -> (Tensor<f64>, Param<f64>, Param<f64>) {
    let x = Tensor::<f64>::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[4, 1]);
    let y = &x * 2.0;
    let w = Param::new("w", ndarray::arr2(&[[0.5]]).into_dyn());
    let b = Param::new("b", ndarray::arr1(&[0.0]).into_dyn());
    // L = 1/(2n)·Σ(y − (Xw + b))²
    let residual = &y - &(x.matmul(&w.tensor()) + w_bias(&b));
    let loss = (&residual * &residual).mean() * 0.5;
    (loss, w, b)
}

fn w_bias(b: &Param<f64>) -> Tensor<f64> {
    b.tensor()
}

#[test]
fn the_tape_of_one_linear_regression_step() {
    let (loss, _, _) = one_step();
    let tape = loss.tape().unwrap();
    let printed = tape.to_string();
    let body: Vec<&str> = printed.lines().skip(1).collect();
    assert_eq!(
        body,
        [
            "%0 = leaf \"w\" [1, 1]",
            "%1 = matmul(const, %0) [4, 1]",
            "%2 = leaf \"b\" [1]",
            "%3 = broadcast(%2; from=[1]) [4, 1]",
            "%4 = add(%1, %3) [4, 1]",
            "%5 = mul_scalar(%4; -1) [4, 1]",
            "%6 = add(const, %5) [4, 1]",
            "%7 = mul(%6, %6) [4, 1]",
            "%8 = sum(%7; axes=[0, 1]) []",
            "%9 = mul_scalar(%8; 0.25) []",
            "%10 = mul_scalar(%9; 0.5) []",
        ]
    );
    assert!(printed.starts_with(&format!("tape #{} (11 nodes)", tape.id())));
    loss.backward();
    assert_eq!(
        tape.to_string(),
        format!("tape #{} (0 nodes, consumed)\n", tape.id())
    );
}

#[test]
fn the_dot_export_shows_ops_shapes_edges_and_gradients() {
    let (loss, w, _) = one_step();
    loss.backward_retain();
    let dot = loss.tape().unwrap().to_dot();
    assert!(dot.starts_with("digraph tape_"));
    assert!(dot.contains("n1 [label=\"%1 matmul\\n[4, 1]\"];"), "{dot}");
    assert!(dot.contains("n0 -> n1;") && dot.contains("n6 -> n7;"));
    // ∂L/∂w = −(1/n)·Σ x(y − xw − b) = −(1/4)·Σ x·1.5x = −0.375·30 = −11.25
    assert_eq!(
        w.grad().unwrap().iter().copied().collect::<Vec<_>>(),
        vec![-11.25]
    );
    assert!(
        dot.contains("%0 leaf \\\"w\\\"\\n[1, 1]\\ngrad [-11.2500]"),
        "{dot}"
    );
}
