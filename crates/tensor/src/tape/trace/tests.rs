//! The trace's text, worked by hand.

use super::*;
use crate::Param;

/// One linear-regression step at w = b = 0 on y = 2x, x = [1, 2, 3, 4]:
/// L = 1/(2n)·Σ(y − xw − b)².
fn linear_regression_loss() -> (Tensor<f64>, Param<f64>, Param<f64>) {
    let x = Tensor::<f64>::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[4, 1]);
    let y = &x * 2.0;
    let w = Param::new("w", ndarray::ArrayD::zeros(vec![1, 1]));
    let b = Param::new("b", ndarray::ArrayD::zeros(vec![1]));
    let residual = &y - &(x.matmul(&w.tensor()) + b.tensor());
    ((&residual * &residual).mean() * 0.5, w, b)
}

#[test]
fn the_trace_of_a_linear_regression_step_shows_every_adjoint() {
    let (loss, w, b) = linear_regression_loss();
    let trace = loss.backward_traced();
    // Worked by hand: the residual r = y = 2x, so ∂L/∂r = r/n = x/2 = [0.5, 1, 1.5, 2];
    // through r = y − ŷ, ∂L/∂ŷ = −x/2; ∂L/∂w = Σ x·(−x/2) = −15, ∂L/∂b = Σ(−x/2) = −5.
    let expected = format!(
        "backward from %10 on tape #{} (adjoint = ∂%10/∂node; `%j +=` is what a rule adds to input %j's)
%10 = mul_scalar(%9; 0.5) []
    adjoint 1
    %9 += 0.5
%9 = mul_scalar(%8; 0.25) []
    adjoint 0.5
    %8 += 0.125
%8 = sum(%7; axes=[0, 1]) []
    adjoint 0.125
    %7 += [0.125, 0.125, 0.125, 0.125]
%7 = mul(%6, %6) [4, 1]
    adjoint [0.125, 0.125, 0.125, 0.125]
    %6 += [0.5, 1, 1.5, 2]
%6 = add(const, %5) [4, 1]
    adjoint [0.5, 1, 1.5, 2]
    %5 += [0.5, 1, 1.5, 2]
%5 = mul_scalar(%4; -1) [4, 1]
    adjoint [0.5, 1, 1.5, 2]
    %4 += [-0.5, -1, -1.5, -2]
%4 = add(%1, %3) [4, 1]
    adjoint [-0.5, -1, -1.5, -2]
    %1 += [-0.5, -1, -1.5, -2]
    %3 += [-0.5, -1, -1.5, -2]
%3 = broadcast(%2; from=[1]) [4, 1]
    adjoint [-0.5, -1, -1.5, -2]
    %2 += [-5]
%2 = leaf \"b\" [1]
    adjoint [-5]
    b.grad += [-5]
%1 = matmul(const, %0) [4, 1]
    adjoint [-0.5, -1, -1.5, -2]
    %0 += [-15]
%0 = leaf \"w\" [1, 1]
    adjoint [-15]
    w.grad += [-15]
",
        trace.tape_id()
    );
    assert_eq!(trace.to_string(), expected);
    // The same gradients as an untraced backward.
    assert_eq!(
        w.grad().unwrap().iter().copied().collect::<Vec<_>>(),
        [-15.0]
    );
    assert_eq!(
        b.grad().unwrap().iter().copied().collect::<Vec<_>>(),
        [-5.0]
    );
    assert_eq!(trace.step(0).unwrap().adjoint.as_ref().unwrap().norm, 15.0);
    assert_eq!(trace.steps().len(), 11);
}

#[test]
fn traced_and_untraced_sweeps_leave_the_same_gradients() {
    let (loss, w, b) = linear_regression_loss();
    loss.backward();
    let untraced = (w.grad().unwrap(), b.grad().unwrap());
    let (loss, w, b) = linear_regression_loss();
    loss.backward_traced();
    assert_eq!((w.grad().unwrap(), b.grad().unwrap()), untraced);
}

#[test]
fn large_tensors_show_shape_and_norm_and_unreached_nodes_are_skipped() {
    // ∂/∂x of Σ 2x over 9 elements is 2 everywhere: norm √(9·4) = 6. The unnamed leaf
    // `unused` and the sum it meets are recorded below the root but do not reach it.
    let x = Param::<f64>::new("x", ndarray::ArrayD::ones(vec![3, 3]));
    let unused = Param::<f64>::new("", ndarray::ArrayD::ones(vec![2]));
    let _dead = unused.tensor() + x.tensor().sum();
    let loss = (x.tensor() * 2.0).sum();
    let printed = loss.backward_traced().to_string();
    let lines: Vec<&str> = printed.lines().skip(1).collect();
    assert_eq!(
        lines,
        [
            "%6 = sum(%5; axes=[0, 1]) []",
            "    adjoint 1",
            "    %5 += [3, 3] ‖·‖ = 3",
            "%5 = mul_scalar(%0; 2) [3, 3]",
            "    adjoint [3, 3] ‖·‖ = 3",
            "    %0 += [3, 3] ‖·‖ = 6",
            "%4 = add(%3, %2) [2]",
            "    no path to the root: skipped",
            "%3 = leaf [2]",
            "    no path to the root: skipped",
            "%2 = broadcast(%1; from=[]) [2]",
            "    no path to the root: skipped",
            "%1 = sum(%0; axes=[0, 1]) []",
            "    no path to the root: skipped",
            "%0 = leaf \"x\" [3, 3]",
            "    adjoint [3, 3] ‖·‖ = 6",
            "    x.grad += [3, 3] ‖·‖ = 6",
        ]
    );
    assert_eq!(unused.grad(), None);
}

#[test]
fn a_narrow_shows_its_contribution_at_its_input_shape() {
    // y = Σ x[1..3] of x = [1, 2, 3, 4]: ∂y/∂x = [0, 1, 1, 0], whichever way the sweep adds it.
    let x = Tensor::<f64>::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[4]).requires_grad();
    let trace = x.narrow(0, 1, 2).sum().backward_traced();
    let narrow = trace.step(1).unwrap();
    assert_eq!(narrow.line, "%1 = narrow(%0; axis=0, 1..3) [2]");
    assert_eq!(narrow.sent[0].1.to_string(), "[0, 1, 1, 0]");
    assert_eq!(trace.step(0).unwrap().param.as_deref(), Some(""));
    assert!(trace.to_string().ends_with("    grad += [0, 1, 1, 0]\n"));
}

#[test]
fn numbers_are_written_as_short_as_their_value_allows() {
    let cases = [
        (0.0, "0"),
        (-15.0, "-15"),
        (0.125, "0.125"),
        (1.0 / 3.0, "0.3333"),
        (0.03125, "0.03125"),
        (0.1, "0.1"),
        (123.456, "123.5"),
        (-2.5e5, "-250000"),
        (1.5e-7, "1.5e-7"),
        (-2.0e9, "-2e9"),
        (f64::NAN, "NaN"),
        (f64::NEG_INFINITY, "-inf"),
    ];
    for (x, text) in cases {
        assert_eq!(number(x), text, "{x}");
    }
}

#[test]
fn errors_are_those_of_backward() {
    let x = Tensor::<f64>::ones(&[2]).requires_grad();
    let err = (&x * 2.0).try_backward_traced().unwrap_err();
    assert!(matches!(err, TensorError::NotScalar { .. }), "{err}");
    let constant = Tensor::<f64>::ones(&[]);
    let err = constant.try_backward_traced().unwrap_err();
    assert!(matches!(err, TensorError::NotRecorded { .. }), "{err}");
    let loss = (&x * 2.0).sum();
    loss.backward();
    let err = loss.try_backward_traced().unwrap_err();
    assert!(matches!(err, TensorError::Consumed { .. }), "{err}");
}
