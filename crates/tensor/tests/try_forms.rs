//! Every fallible op has a `try_` twin whose error text is the panicking form's message.

use std::panic::{catch_unwind, AssertUnwindSafe};

use tapegrad_tensor::{Result, Tensor, TensorError};

/// Runs the `try_` form and the panicking form; asserts the error's text is the panic's
/// message and returns it.
#[track_caller]
fn same_message<T: std::fmt::Debug>(
    try_form: impl FnOnce() -> Result<T>,
    panicking: impl FnOnce() -> T,
) -> String {
    let err = try_form().expect_err("the try_ form fails").to_string();
    let payload = catch_unwind(AssertUnwindSafe(panicking)).expect_err("the plain form panics");
    let message = payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .expect("a text payload");
    assert_eq!(err, message);
    err
}

fn m(rows: usize, cols: usize) -> Tensor<f64> {
    Tensor::zeros(&[rows, cols])
}

#[test]
fn shape_errors() {
    let (a, b) = (m(3, 4), m(5, 2));
    let text = same_message(|| a.try_matmul(&b), || a.matmul(&b));
    assert_eq!(
        text,
        "matmul: [3, 4] x [5, 2]: inner dimensions 4 and 5 differ"
    );
    let text = same_message(|| a.try_add(&m(2, 4)), || a.add(&m(2, 4)));
    assert!(
        text.starts_with("add: cannot broadcast [3, 4] with [2, 4]"),
        "{text}"
    );
    let text = same_message(|| a.try_reshape(&[5, 2]), || a.reshape(&[5, 2]));
    assert!(
        text.starts_with("reshape: ") && text.contains("[3, 4]"),
        "{text}"
    );
    let v = Tensor::<f64>::zeros(&[3]);
    let text = same_message(|| v.try_t(), || v.t());
    assert_eq!(
        text,
        "t: [3]: the tensor has 1 axes; t needs exactly 2 \
         (for a batch of matrices, use mt() or transpose(-2, -1))"
    );
    let text = same_message(|| v.try_mt(), || v.mt());
    assert_eq!(text, "mt: [3]: the tensor has 1 axes; mt needs at least 2");
    // t is a matrix's transpose, as torch.t: a batch of matrices takes mt (torch's mT).
    let batch = Tensor::<f64>::zeros(&[2, 3, 4]);
    let text = same_message(|| batch.try_t(), || batch.t());
    assert_eq!(
        text,
        "t: [2, 3, 4]: the tensor has 3 axes; t needs exactly 2 \
         (for a batch of matrices, use mt() or transpose(-2, -1))"
    );
    assert_eq!(batch.try_mt().unwrap().shape(), &[2, 4, 3]);
}

#[test]
fn value_and_axis_errors() {
    let x = Tensor::<f64>::from_vec(vec![1.0, 2.0, 3.0], &[3]);
    let text = same_message(|| x.try_clamp(1.0, 0.0), || x.clamp(1.0, 0.0));
    assert_eq!(text, "clamp: [3]: the range [1, 0] is empty");
    let text = same_message(|| x.try_clamp(f64::NAN, 1.0), || x.clamp(f64::NAN, 1.0));
    assert!(text.contains("[NaN, 1] is empty"), "{text}");
    let text = same_message(|| x.try_sum_axes(&[1], false), || x.sum_axes(&[1], false));
    assert!(text.starts_with("sum"), "{text}");
    let text = same_message(|| x.try_softmax(-2), || x.softmax(-2));
    assert!(text.starts_with("softmax"), "{text}");
    let empty = Tensor::<f64>::zeros(&[0]);
    let text = same_message(|| empty.try_max(), || empty.max());
    assert!(text.starts_with("max: [0]: axis 0 is empty"), "{text}");
    let text = same_message(|| empty.try_min(), || empty.min());
    assert!(text.starts_with("min: [0]: axis 0 is empty"), "{text}");
    let text = same_message(|| empty.try_logsumexp(), || empty.logsumexp());
    assert!(text.starts_with("logsumexp"), "{text}");
    let text = same_message(
        || Tensor::<f64>::try_arange(0.0, 1.0, 0.0),
        || Tensor::<f64>::arange(0.0, 1.0, 0.0),
    );
    assert_eq!(text, "arange: []: step must be finite and non-zero, got 0");
    let index = ndarray::arr1(&[3usize]).into_dyn();
    let text = same_message(|| x.try_gather(0, &index), || x.gather(0, &index));
    assert!(text.starts_with("gather"), "{text}");
}

#[test]
fn graph_errors() {
    let w = Tensor::<f64>::scalar(2.0).requires_grad();
    let loss = (&w * &w).sum();
    loss.backward();
    let text = same_message(|| loss.try_backward(), || loss.backward());
    assert!(
        text.starts_with("backward: ") && text.contains("consumed"),
        "{text}"
    );
    let text = same_message(|| loss.try_backward_retain(), || loss.backward_retain());
    assert!(text.contains("consumed"), "{text}");
    let wide = &Tensor::<f64>::ones(&[2]).requires_grad() * 1.0;
    let text = same_message(|| wide.try_backward_retain(), || wide.backward_retain());
    assert_eq!(
        text,
        "backward: called on a tensor of shape [2]; backward needs a scalar (or pass an output gradient)"
    );
    let constant = Tensor::<f64>::ones(&[1]);
    let err = constant.try_backward().unwrap_err();
    assert!(
        matches!(err, TensorError::NotRecorded { op: "backward" }),
        "{err}"
    );
}
