//! Functional transforms: derivatives of a function, returned rather than accumulated into
//! `.grad()` — `torch.func` and JAX's `jax.vjp`, `jax.jvp`, `jax.jacrev`, …
//!
//! A function here is a closure over a slice of tensors, `Fn(&[Tensor<F>]) -> Tensor<F>`, so
//! any number of inputs is supported; every transform returns one result per input.
//!
//! | tapegrad | torch.func | torch.autograd.functional | JAX | computes |
//! |---|---|---|---|---|
//! | [`vjp`]`(f, xs, v)` | `vjp(f, *xs)` then `vjp_fn(v)` | `vjp(f, xs, v)` | `jax.vjp(f, *xs)` | (f(x), vᵀ·J), one cotangent per input, shaped like it |
//! | [`jvp`]`(f, xs, ẋs)` | `jvp(f, xs, ẋs)` | `jvp(f, xs, v)` | `jax.jvp(f, xs, ẋs)` | (f(x), J·ẋ), shaped like f(x), by forward mode |
//! | [`grad`]`(f, xs)` | `grad(f, argnums)` | — | `jax.grad(f, argnums)` | ∇f for a one-element f |
//! | [`jacrev`]`(f, xs)` | `jacrev(f, argnums)` | `jacobian(f, xs)` | `jax.jacrev` | J, reverse mode: one sweep per output element |
//! | [`jacfwd`]`(f, xs)` | `jacfwd(f, argnums)` | `jacobian(.., strategy="forward-mode")` | `jax.jacfwd` | J, forward mode: one pass per input element |
//! | [`hessian`]`(f, xs)` | `hessian(f, argnums)` | `hessian(f, xs)` | `jax.hessian` | `jacfwd(jacrev(f))` |
//! | [`hvp`]`(f, xs, v)` | `jvp(grad(f), xs, v)` | `hvp(f, xs, v)` | `jax.jvp(jax.grad(f), …)` | H·v, forward over reverse |
//!
//! Shapes follow `torch.func.jacrev`: the Jacobian of an output of shape `O` with respect to
//! an input of shape `I` has shape `O ++ I` (for a scalar output, `I`; for a scalar input,
//! `O`). The Hessian block for inputs i and j has shape `O ++ Iᵢ ++ Iⱼ`, so `hessian` returns
//! `h[i][j]`.
//!
//! `jvp`, `jacfwd` and `hvp` use forward mode ([`crate::forward`]): each primitive's own JVP
//! rule pushes the tangent through, never a double VJP. `hessian` is forward over reverse:
//! `jacfwd` of `jacrev`. The transforms compose: inside a transform, the inputs `f` sees are
//! tracked, and the transform's results stay on the tape, differentiable by the outer one;
//! at the top level (plain inputs) the results are returned as constants. Like `torch.func`,
//! the transforms record whatever an outer [`no_grad`](crate::no_grad) says.
//!
//! ```
//! use tapegrad_tensor::{func, Tensor};
//! // f(x) = Σ x³: ∇f = 3x², H = diag(6x).
//! let f = |xs: &[Tensor<f64>]| xs[0].powf(3.0).sum();
//! let x = Tensor::from_vec(vec![1.0, 2.0], &[2]);
//! assert_eq!(func::grad(f, &[x.clone()]).unwrap()[0].to_vec(), vec![3.0, 12.0]);
//! let h = func::hessian(f, &[x.clone()]).unwrap();
//! assert_eq!(h[0][0].shape(), &[2, 2]);
//! assert_eq!(h[0][0].to_vec(), vec![6.0, 0.0, 0.0, 12.0]);
//! let v = Tensor::from_vec(vec![1.0, 1.0], &[2]);
//! assert_eq!(func::hvp(f, &[x.clone()], &[v.clone()]).unwrap()[0].to_vec(), vec![6.0, 12.0]);
//! let (y, dy) = func::jvp(f, &[x.clone()], &[v]).unwrap(); // ẏ = Σ 3x²·ẋ = 15
//! assert_eq!((y.item(), dy.item()), (9.0, 15.0));
//! let j = func::jacfwd(|xs: &[Tensor<f64>]| xs[0].sin(), &[x.clone()]).unwrap();
//! assert_eq!(j[0].shape(), &[2, 2]); // output [2] ++ input [2]
//! ```
//!
//! # Errors
//! Every transform returns a [`TensorError`] naming itself: `ShapeMismatch` when a tangent or
//! cotangent does not have its input's (or the output's) shape, `InvalidArgument` when their
//! number differs from the inputs', `NotScalar` from `grad` and `hvp` when `f` does not return
//! one element, and whatever the tape reports.

use crate::error::{Result, TensorError};
use crate::forward::{is_forward_ad_enabled, level, lift, make_dual, tangent};
use crate::tape::GradMode;
use crate::{Float, Tensor};

/// A function of several inputs with several outputs, as the transforms compose it.
type ManyFn<'a, F> = &'a dyn Fn(&[Tensor<F>]) -> Result<Vec<Tensor<F>>>;

/// Outputs and their tangents.
type Duals<F> = (Vec<Tensor<F>>, Vec<Tensor<F>>);

/// Whether the caller is itself being differentiated: then results stay on the tape.
fn nested<F: Float>(inputs: &[Tensor<F>]) -> bool {
    is_forward_ad_enabled() || inputs.iter().any(Tensor::is_tracked)
}

/// A result as handed back: kept on the tape inside another transform, a constant otherwise.
fn finish<F: Float>(t: Tensor<F>, nested: bool) -> Tensor<F> {
    if nested {
        t
    } else {
        t.detach()
    }
}

fn lift_all<F: Float>(inputs: &[Tensor<F>]) -> Result<Vec<Tensor<F>>> {
    inputs.iter().map(lift).collect()
}

/// The gradients of one-element `y` with respect to `xs` (zeros where `y` does not depend
/// on an input), kept differentiable.
fn tape_grad<F: Float>(y: &Tensor<F>, xs: &[Tensor<F>]) -> Result<Vec<Tensor<F>>> {
    if !y.is_tracked() {
        return Ok(xs.iter().map(|x| Tensor::zeros(x.shape())).collect());
    }
    let refs: Vec<&Tensor<F>> = xs.iter().collect();
    crate::tape::grad(y, &refs, true)
}

/// An error unless there is one `what` per input; it shows the inputs' shapes.
fn check_count<F: Float>(
    op: &'static str,
    what: &str,
    inputs: &[Tensor<F>],
    given: usize,
) -> Result<()> {
    if inputs.len() == given {
        return Ok(());
    }
    let shapes: Vec<&[usize]> = inputs.iter().map(Tensor::shape).collect();
    Err(TensorError::InvalidArgument {
        op,
        shape: inputs.first().map_or_else(Vec::new, |x| x.shape().to_vec()),
        rule: format!(
            "{given} {what} given for {} inputs (of shapes {shapes:?}); give one per input",
            inputs.len()
        ),
    })
}

fn check_shape(op: &'static str, what: &str, want: &[usize], got: &[usize]) -> Result<()> {
    if want == got {
        return Ok(());
    }
    Err(TensorError::ShapeMismatch {
        op,
        lhs: want.to_vec(),
        rhs: got.to_vec(),
        rule: format!("{what} must have the shape on the left"),
    })
}

/// Vector-Jacobian product: `(f(xs), vᵀ·J)` — reverse mode from the cotangent `v`, which
/// has `f`'s output shape (torch.autograd.functional.vjp). One result per input, shaped
/// like it.
///
/// ```text
/// (vᵀ·J)ᵢ = Σₖ vₖ · ∂fₖ/∂xᵢ
/// ```
///
/// # Errors
/// `ShapeMismatch` naming `vjp` when `v`'s shape is not the output's.
pub fn vjp<F: Float>(
    f: impl Fn(&[Tensor<F>]) -> Tensor<F>,
    inputs: &[Tensor<F>],
    v: &Tensor<F>,
) -> Result<(Tensor<F>, Vec<Tensor<F>>)> {
    const OP: &str = "vjp";
    let _grad = GradMode::set(true);
    let nested = nested(inputs);
    let xs = lift_all(inputs)?;
    let y = f(&xs);
    check_shape(
        OP,
        "the cotangent v (right) must match the output (left); it",
        y.shape(),
        v.shape(),
    )?;
    let gs = tape_grad(&y.mul(v).sum(), &xs).map_err(|e| e.in_op(OP))?;
    let gs = gs.into_iter().map(|g| finish(g, nested)).collect();
    Ok((finish(y, nested), gs))
}

/// Forward mode with a tangent for some inputs: the outputs and their tangents.
fn jvp_many<F: Float>(
    op: &'static str,
    f: ManyFn<F>,
    inputs: &[Tensor<F>],
    tangents: &[Option<Tensor<F>>],
) -> Result<Duals<F>> {
    check_count(op, "tangents", inputs, tangents.len())?;
    for (i, (x, t)) in inputs.iter().zip(tangents).enumerate() {
        if let Some(t) = t {
            let what = format!("tangent {i} (right) must match input {i} (left); it");
            check_shape(op, &what, x.shape(), t.shape())?;
        }
    }
    let nested = nested(inputs);
    // At the top level nothing differentiates a tangent: its rules need not be recorded.
    level(nested, || {
        let xs = inputs
            .iter()
            .zip(tangents)
            .map(|(x, t)| match t {
                Some(t) => make_dual(x, t),
                None => lift(x),
            })
            .collect::<Result<Vec<_>>>()?;
        let ys = f(&xs)?;
        let dys = ys
            .iter()
            .map(|y| tangent(y).unwrap_or_else(|| Tensor::zeros(y.shape())))
            .map(|dy| finish(dy, nested))
            .collect();
        let ys = ys.into_iter().map(|y| finish(y, nested)).collect();
        Ok((ys, dys))
    })
    .map_err(|e| e.in_op(op))?
    .map_err(|e: TensorError| e.in_op(op))
}

/// Jacobian-vector product by forward mode: `(f(xs), J·ẋ)`, where `tangents` holds one ẋᵢ
/// per input, shaped like it, and J·ẋ has the output's shape (torch.func.jvp).
///
/// ```text
/// J·ẋ = Σᵢ ∂f/∂xᵢ · ẋᵢ
/// ```
///
/// Every primitive pushes the tangent forward by its own JVP rule ([`crate::forward`]).
///
/// # Errors
/// `InvalidArgument` naming `jvp` when there are not as many tangents as inputs,
/// `ShapeMismatch` when a tangent's shape is not its input's, `InvalidArgument` when called
/// inside another forward-mode transform (forward over forward).
pub fn jvp<F: Float>(
    f: impl Fn(&[Tensor<F>]) -> Tensor<F>,
    inputs: &[Tensor<F>],
    tangents: &[Tensor<F>],
) -> Result<(Tensor<F>, Tensor<F>)> {
    let tangents: Vec<Option<Tensor<F>>> = tangents.iter().cloned().map(Some).collect();
    let (mut ys, mut dys) = jvp_many("jvp", &|xs| Ok(vec![f(xs)]), inputs, &tangents)?;
    Ok((ys.remove(0), dys.remove(0)))
}

fn grad_impl<F: Float>(
    op: &'static str,
    f: &dyn Fn(&[Tensor<F>]) -> Tensor<F>,
    inputs: &[Tensor<F>],
) -> Result<Vec<Tensor<F>>> {
    let _grad = GradMode::set(true);
    let nested = nested(inputs);
    let xs = lift_all(inputs)?;
    let y = f(&xs);
    if y.numel() != 1 {
        return Err(TensorError::NotScalar {
            op,
            shape: y.shape().to_vec(),
        });
    }
    let gs = tape_grad(&y, &xs).map_err(|e| e.in_op(op))?;
    Ok(gs.into_iter().map(|g| finish(g, nested)).collect())
}

/// The gradient ∇f of a one-element `f`, one tensor per input, shaped like it
/// (torch.func.grad, jax.grad).
///
/// # Errors
/// `NotScalar` naming `grad` when `f` returns more than one element.
pub fn grad<F: Float>(
    f: impl Fn(&[Tensor<F>]) -> Tensor<F>,
    inputs: &[Tensor<F>],
) -> Result<Vec<Tensor<F>>> {
    grad_impl("grad", &f, inputs)
}

/// Reverse-mode Jacobians for a function with several outputs: `[output][input]`.
fn jacrev_many<F: Float>(
    op: &'static str,
    f: ManyFn<F>,
    inputs: &[Tensor<F>],
) -> Result<Vec<Vec<Tensor<F>>>> {
    let _grad = GradMode::set(true);
    let nested = nested(inputs);
    let xs = lift_all(inputs)?;
    let mut jacobians = Vec::new();
    for y in f(&xs)? {
        let n = y.numel();
        let shape_of = |x: &Tensor<F>| [y.shape(), x.shape()].concat();
        if n == 0 || !y.is_tracked() {
            jacobians.push(xs.iter().map(|x| Tensor::zeros(&shape_of(x))).collect());
            continue;
        }
        // Every row's root is recorded before any sweep, so that each sweep starts below the
        // nodes the previous ones added.
        let flat = y.reshape(&[n]);
        let roots: Vec<Tensor<F>> = (0..n).map(|k| flat.narrow(0, k, 1).sum()).collect();
        let mut rows: Vec<Vec<Tensor<F>>> = vec![Vec::with_capacity(n); xs.len()];
        for root in &roots {
            for (i, g) in tape_grad(root, &xs)
                .map_err(|e| e.in_op(op))?
                .into_iter()
                .enumerate()
            {
                rows[i].push(g);
            }
        }
        jacobians.push(
            rows.iter()
                .zip(&xs)
                .map(|(rows, x)| {
                    let refs: Vec<&Tensor<F>> = rows.iter().collect();
                    finish(Tensor::stack(&refs, 0).reshape(&shape_of(x)), nested)
                })
                .collect(),
        );
    }
    Ok(jacobians)
}

/// The Jacobian of `f` by reverse mode, one reverse sweep per output element: for each
/// input, a tensor of shape `output ++ input` holding ∂fₖ/∂xᵢⱼ (torch.func.jacrev).
///
/// # Errors
/// Those of the tape's `grad`, named `jacrev`.
pub fn jacrev<F: Float>(
    f: impl Fn(&[Tensor<F>]) -> Tensor<F>,
    inputs: &[Tensor<F>],
) -> Result<Vec<Tensor<F>>> {
    let mut j = jacrev_many("jacrev", &|xs| Ok(vec![f(xs)]), inputs)?;
    Ok(j.remove(0))
}

/// Forward-mode Jacobians for a function with several outputs: `[output][input]`.
fn jacfwd_many<F: Float>(
    op: &'static str,
    f: ManyFn<F>,
    inputs: &[Tensor<F>],
) -> Result<Vec<Vec<Tensor<F>>>> {
    // columns[output][input][element]
    let mut columns: Vec<Vec<Vec<Tensor<F>>>> = Vec::new();
    let mut out_shapes: Vec<Vec<usize>> = Vec::new();
    for (i, x) in inputs.iter().enumerate() {
        for e in 0..x.numel() {
            let mut basis = vec![F::zero(); x.numel()];
            basis[e] = F::one();
            let mut tangents: Vec<Option<Tensor<F>>> = vec![None; inputs.len()];
            tangents[i] = Some(Tensor::from_vec(basis, x.shape()));
            let (ys, dys) = jvp_many(op, f, inputs, &tangents)?;
            if columns.is_empty() {
                out_shapes = ys.iter().map(|y| y.shape().to_vec()).collect();
                columns = vec![vec![Vec::new(); inputs.len()]; ys.len()];
            }
            for (k, dy) in dys.into_iter().enumerate() {
                columns[k][i].push(dy);
            }
        }
    }
    if columns.is_empty() {
        // No input has an element: f's outputs still decide the Jacobians' shapes.
        let _grad = GradMode::set(true);
        out_shapes = f(inputs)?.iter().map(|y| y.shape().to_vec()).collect();
        columns = vec![vec![Vec::new(); inputs.len()]; out_shapes.len()];
    }
    Ok(columns
        .into_iter()
        .zip(&out_shapes)
        .map(|(per_input, out)| {
            per_input
                .into_iter()
                .zip(inputs)
                .map(|(cols, x)| {
                    let shape = [out.as_slice(), x.shape()].concat();
                    if cols.is_empty() {
                        return Tensor::zeros(&shape);
                    }
                    let refs: Vec<&Tensor<F>> = cols.iter().collect();
                    Tensor::stack(&refs, out.len()).reshape(&shape)
                })
                .collect()
        })
        .collect())
}

/// The Jacobian of `f` by forward mode, one forward pass per input element: for each input,
/// a tensor of shape `output ++ input` (torch.func.jacfwd). Equal to [`jacrev`]'s; cheaper
/// when inputs have fewer elements than the output.
///
/// # Errors
/// As for [`jvp`], named `jacfwd`.
pub fn jacfwd<F: Float>(
    f: impl Fn(&[Tensor<F>]) -> Tensor<F>,
    inputs: &[Tensor<F>],
) -> Result<Vec<Tensor<F>>> {
    let mut j = jacfwd_many("jacfwd", &|xs| Ok(vec![f(xs)]), inputs)?;
    Ok(j.remove(0))
}

/// The Hessian of `f`, forward over reverse (`jacfwd(jacrev(f))`, as torch.func.hessian):
/// `h[i][j]` holds ∂²f/∂xᵢ∂xⱼ, of shape `output ++ inputᵢ ++ inputⱼ`.
///
/// # Errors
/// As for [`jacfwd`] and [`jacrev`], named `hessian`.
pub fn hessian<F: Float>(
    f: impl Fn(&[Tensor<F>]) -> Tensor<F>,
    inputs: &[Tensor<F>],
) -> Result<Vec<Vec<Tensor<F>>>> {
    const OP: &str = "hessian";
    let jacobian = |xs: &[Tensor<F>]| -> Result<Vec<Tensor<F>>> {
        let mut j = jacrev_many(OP, &|xs| Ok(vec![f(xs)]), xs)?;
        Ok(j.remove(0))
    };
    jacfwd_many(OP, &jacobian, inputs)
}

/// Hessian-vector product H·v of a one-element `f`, forward over reverse: the tangent of ∇f
/// pushed forward along `v` (one tensor per input, shaped like it), with no Hessian formed.
///
/// ```text
/// (H·v)ᵢ = Σⱼ ∂²f/∂xᵢ∂xⱼ · vⱼ
/// ```
///
/// # Errors
/// `NotScalar` naming `hvp` when `f` returns more than one element; as for [`jvp`] when `v`
/// does not match the inputs.
pub fn hvp<F: Float>(
    f: impl Fn(&[Tensor<F>]) -> Tensor<F>,
    inputs: &[Tensor<F>],
    v: &[Tensor<F>],
) -> Result<Vec<Tensor<F>>> {
    const OP: &str = "hvp";
    let v: Vec<Option<Tensor<F>>> = v.iter().cloned().map(Some).collect();
    let gradient = |xs: &[Tensor<F>]| grad_impl(OP, &f, xs);
    Ok(jvp_many(OP, &gradient, inputs, &v)?.1)
}
