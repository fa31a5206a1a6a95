//! Anomaly mode: the first NaN or ±inf is reported with its op, node, input shapes and the
//! line of this file that called the op.

use tapegrad_tensor::tape::anomaly::Pass;
use tapegrad_tensor::{detect_anomaly, is_anomaly_enabled, Anomaly, Tensor, TensorError};

fn anomaly(err: TensorError) -> Anomaly {
    match err {
        TensorError::Anomaly(a) => *a,
        other => panic!("expected an anomaly, got {other}"),
    }
}

/// Asserts that `a` was called from this file at `line`.
#[track_caller]
fn at_line(a: &Anomaly, line: u32) {
    let location = a.location.expect("a location is captured in the mode");
    assert_eq!((location.file(), location.line()), (file!(), line), "{a}");
}

#[test]
fn log_of_zero_is_reported_at_the_forward_op_with_its_line() {
    let x = Tensor::<f64>::from_vec(vec![1.0, 0.0, 2.0], &[3]).requires_grad();
    let mut backward_result = None;
    let err = detect_anomaly(|| {
        let y = x.ln(); // ln 0 = −inf
        let line = line!() - 1;
        backward_result = Some(y.sum().try_backward());
        line
    })
    .unwrap_err();
    let a = anomaly(err.clone());
    assert_eq!((a.op, a.pass, a.node), ("ln", Pass::Forward, Some(1)));
    assert_eq!((a.index.clone(), a.value.as_str()), (vec![1], "-inf"));
    assert_eq!(a.input_shapes, vec![vec![3]]);
    let line = a.location.unwrap().line();
    at_line(&a, line);
    assert_eq!(line, line!() - 12, "the line of x.ln()");
    // try_backward in the mode returned the same anomaly (and did not sweep).
    assert_eq!(backward_result.unwrap().unwrap_err(), err);
    assert!(x.grad().is_none());
    let text = err.to_string();
    assert!(
        text.starts_with("anomaly: ln produced -inf at [1] (node %1 on tape #"),
        "{text}"
    );
    assert!(
        text.contains(&format!(", called at {}:{line}:", file!())),
        "{text}"
    );
    assert!(text.ends_with("; input shapes [3]"), "{text}");
}

#[test]
fn zero_over_zero_names_div() {
    let a = Tensor::<f64>::from_vec(vec![1.0, 0.0], &[2]).requires_grad();
    let b = Tensor::<f64>::from_vec(vec![2.0, 0.0], &[2]);
    let (err, div_line) = (detect_anomaly(|| (&a / &b).sum()).unwrap_err(), line!());
    let found = anomaly(err);
    assert_eq!(
        (found.op, found.value.as_str(), found.index.clone()),
        ("div", "NaN", vec![1])
    );
    at_line(&found, div_line);
    assert_eq!(found.input_shapes, vec![vec![2], vec![2]]);
}

#[test]
fn the_where_trap_forward_sqrt_of_a_negative_value_is_caught() {
    // y = where(x > 0, √x, 0): the NaN of √(−1) is never selected, so y is finite — but the
    // first op that made a NaN is sqrt, on this line.
    let x = Tensor::<f64>::from_vec(vec![4.0, -1.0], &[2]).requires_grad();
    let positive = x.value().mapv(|v| v > 0.0);
    let mut root_line = 0;
    let err = detect_anomaly(|| {
        let root = x.sqrt();
        root_line = line!() - 1;
        let y = Tensor::where_cond(&positive, &root, &Tensor::zeros(&[2]));
        assert!(y.to_vec().iter().all(|v| v.is_finite()));
        y.sum().try_backward()
    })
    .unwrap_err();
    let found = anomaly(err);
    assert_eq!(
        (found.op, found.pass, found.value.as_str()),
        ("sqrt", Pass::Forward, "NaN")
    );
    at_line(&found, root_line);
}

#[test]
fn the_where_trap_backward_nan_from_zero_times_infinity_is_caught() {
    // At x = 0, √x = 0 is fine going forward, but its rule divides the where's zero
    // gradient by 2√0: 0/0 = NaN, sent to sqrt's input. The sweep stops there.
    let x = Tensor::<f64>::from_vec(vec![4.0, 0.0], &[2]).requires_grad();
    let positive = x.value().mapv(|v| v > 0.0);
    let mut root_line = 0;
    let err = detect_anomaly(|| {
        let root = x.sqrt();
        root_line = line!() - 1;
        let y = Tensor::where_cond(&positive, &root, &Tensor::zeros(&[2]));
        y.sum().try_backward()
    })
    .unwrap_err();
    let found = anomaly(err.clone());
    assert_eq!(
        (found.op, found.pass),
        ("sqrt", Pass::Backward { input: 0 })
    );
    assert_eq!(
        (found.value.as_str(), found.index.clone()),
        ("NaN", vec![1])
    );
    assert_eq!(found.node, Some(1));
    at_line(&found, root_line);
    assert!(err.to_string().starts_with(
        "anomaly: the backward rule of sqrt produced NaN in the gradient of input 0 at [1]"
    ));
    // Outside the mode the same sweep runs through and leaves the NaN in the gradient.
    assert!(!is_anomaly_enabled());
    let y = Tensor::where_cond(&positive, &x.sqrt(), &Tensor::zeros(&[2]));
    y.sum().try_backward().unwrap();
    let g = x.grad().unwrap().to_vec();
    assert!(g[0] == 0.25 && g[1].is_nan(), "{g:?}");
}

#[test]
fn a_composite_reports_the_users_line_not_the_crates() {
    // mean of no elements is Σ/0 = 0·inf = NaN, made inside mean by mul_scalar: the location
    // is the line below that called mean, not crates/tensor/src/ops/mean.rs.
    let x = Tensor::<f64>::zeros(&[0]).requires_grad();
    let err = detect_anomaly(|| x.mean()).unwrap_err();
    let found = anomaly(err);
    assert_eq!(found.value, "NaN");
    assert!(found.op == "mul_scalar" || found.op == "div", "{found}");
    at_line(&found, line!() - 4);
}

#[test]
fn a_clean_run_returns_its_value_and_the_mode_is_scoped() {
    let x = Tensor::<f64>::from_vec(vec![1.0, 2.0], &[2]).requires_grad();
    let value = detect_anomaly(|| {
        assert!(is_anomaly_enabled());
        let loss = x.ln().sum();
        loss.try_backward().unwrap();
        loss.item()
    })
    .unwrap();
    assert_eq!(value, 2f64.ln());
    assert!(!is_anomaly_enabled());
    assert_eq!(x.grad().unwrap().to_vec(), vec![1.0, 0.5]); // d ln x = 1/x
                                                            // Ops on constants are checked too, with no node.
    let c = Tensor::<f64>::scalar(-1.0);
    let found = anomaly(detect_anomaly(|| c.sqrt()).unwrap_err());
    assert_eq!((found.op, found.node), ("sqrt", None));
}
