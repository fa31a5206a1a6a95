//! `var` and `std` with PyTorch's `correction` (default 1), values and gradients pinned from
//! PyTorch (float64, CPU).
//!
//! The numbers come from `tests/pytorch/var_std.py`, run once; its output is
//! `tests/pytorch/var_std_pinned.rs`. Inputs are `pattern(seed, shape)`, rebuilt here bit for
//! bit, and each case checks y and the gradient of L = Σ r ⊙ y, r = pattern(99, y's shape).

use tapegrad_tensor::Tensor;

mod support;

#[rustfmt::skip]
#[allow(clippy::all, dead_code)]
#[path = "pytorch/var_std_pinned.rs"]
mod pinned;

use pinned::*;
use support::{assert_close, pattern};

#[track_caller]
fn case(
    name: &str,
    (seed, shape): (usize, &[usize]),
    f: impl Fn(&Tensor<f64>) -> Tensor<f64>,
    (y_want, shape_want, grad_want): (&[f64], &[usize], &[f64]),
) {
    let x = pattern(seed, shape).requires_grad();
    let y = f(&x);
    assert_eq!(y.shape(), shape_want, "{name}: output shape");
    assert_close(&format!("{name} y"), &y.to_vec(), y_want);
    (&y * &pattern(99, y.shape())).sum().backward();
    assert_close(
        &format!("{name} grad"),
        &x.grad().unwrap().to_vec(),
        grad_want,
    );
}

#[test]
fn var_and_std_of_all_elements_use_correction_1_as_pytorch() {
    let all = (VAR_ALL_Y, VAR_ALL_Y_SHAPE, VAR_ALL_G);
    case("torch.var(x)", (1, &[3, 4]), |x| x.var(), all);
    let all = (STD_ALL_Y, STD_ALL_Y_SHAPE, STD_ALL_G);
    case("torch.std(x)", (2, &[3, 4]), |x| x.std(), all);
}

#[test]
fn var_over_axes_with_correction_and_keepdim() {
    case(
        "torch.var(x, dim=-1)",
        (3, &[2, 3, 5]),
        |x| x.var_axes(&[-1], 1, false),
        (VAR_LAST_Y, VAR_LAST_Y_SHAPE, VAR_LAST_G),
    );
    case(
        "torch.var(x, dim=(0, 2), correction=0, keepdim=True)",
        (4, &[2, 3, 5]),
        |x| x.var_axes(&[0, 2], 0, true),
        (VAR_POP_KEEP_Y, VAR_POP_KEEP_Y_SHAPE, VAR_POP_KEEP_G),
    );
}

#[test]
fn std_over_axes_with_correction_and_keepdim() {
    case(
        "torch.std(x, dim=-1, keepdim=True)",
        (5, &[4, 6]),
        |x| x.std_axes(&[-1], 1, true),
        (STD_LAST_KEEP_Y, STD_LAST_KEEP_Y_SHAPE, STD_LAST_KEEP_G),
    );
    case(
        "torch.std(x, dim=(1,), correction=2)",
        (6, &[3, 5, 2]),
        |x| x.std_axes(&[1], 2, false),
        (STD_CORR2_Y, STD_CORR2_Y_SHAPE, STD_CORR2_G),
    );
}
