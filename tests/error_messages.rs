//! The errors a user meets name the op, the shapes or values, then the rule broken.

use tapegrad::{grad, Tensor, TensorError};

#[test]
fn matmul_inner_dimensions() {
    let err = Tensor::<f32>::zeros(&[3, 4])
        .try_matmul(&Tensor::zeros(&[5, 2]))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "matmul: [3, 4] x [5, 2]: inner dimensions 4 and 5 differ"
    );
}

#[test]
fn broadcasting() {
    let err = Tensor::<f32>::zeros(&[3, 4])
        .try_mul(&Tensor::zeros(&[2, 4]))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "mul: cannot broadcast [3, 4] with [2, 4]: dimension 0 is 3 vs 2"
    );
}

#[test]
fn backward_of_a_non_scalar() {
    let w = Tensor::<f32>::zeros(&[3, 1]).requires_grad();
    let err = (&w * 2.0).try_backward().unwrap_err();
    assert_eq!(
        err.to_string(),
        "backward: called on a tensor of shape [3, 1]; backward needs a scalar (or pass an output gradient)"
    );
}

#[test]
fn backward_twice() {
    let w = Tensor::<f32>::scalar(1.0).requires_grad();
    let loss = &w * 2.0;
    loss.backward();
    let err = loss.try_backward().unwrap_err();
    assert!(matches!(err, TensorError::Consumed { .. }));
    assert!(
        err.to_string()
            .starts_with("backward: graph already consumed (tape #"),
        "{err}"
    );
    assert!(err
        .to_string()
        .ends_with("use backward_retain to keep it for a second pass"));
}

#[test]
#[should_panic(expected = "backward: graph already consumed")]
fn backward_twice_panics_with_the_same_message() {
    let w = Tensor::<f32>::scalar(1.0).requires_grad();
    let loss = &w * 2.0;
    loss.backward();
    loss.backward();
}

#[test]
fn operands_from_two_live_tapes() {
    let w = Tensor::<f32>::scalar(1.0).requires_grad();
    let a = &w * 2.0;
    // A thread's first op with only parameters uses the thread's current tape, so build
    // the second operand on another thread to get a second live tape.
    let b = std::thread::spawn(move || &w * 3.0).join().unwrap();
    let (ta, tb) = (a.tape().unwrap().id(), b.tape().unwrap().id());
    let err = a.try_add(&b).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("add: operands were recorded on different tapes (#{ta} and #{tb}); detach the older one")
    );
    assert!(a.try_add(&b.detach()).is_ok(), "detach is the way out");
}

#[test]
fn backward_of_an_untracked_tensor_and_grad_of_a_constant() {
    let c = Tensor::<f32>::scalar(1.0);
    let err = c.try_backward().unwrap_err();
    assert_eq!(
        err.to_string(),
        "backward: the tensor was not recorded on a tape: no input of its graph requires a gradient"
    );
    let w = Tensor::<f32>::scalar(1.0).requires_grad();
    let err = grad(&(&w * 2.0), &[&c], false).unwrap_err();
    assert_eq!(
        err.to_string(),
        "grad: []: this input requires no gradient; call requires_grad() on it first"
    );
}

#[test]
fn panicking_forms_carry_the_try_forms_message() {
    // The panic's location (the caller's line, thanks to #[track_caller]) is printed by the
    // panic hook; the payload is the same message the try_ form returns.
    let payload =
        std::panic::catch_unwind(|| Tensor::<f32>::zeros(&[2]).reshape(&[3])).unwrap_err();
    let message = payload.downcast_ref::<String>().unwrap();
    assert_eq!(
        message,
        "reshape: cannot reshape [2] (2 elements) into [3] (3 elements)"
    );
}
