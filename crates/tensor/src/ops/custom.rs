//! `custom`: a differentiable op written outside the crate ([`CustomOp`]), recorded on the
//! tape like a primitive; [`Tensor::custom`] applies it.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use ndarray::ArrayD;

use crate::error::{or_panic, Result, TensorError};
use crate::forward::{Dots, JvpCtx};
use crate::tape::{record, BackwardCtx, InputGrads, Op, Saved};
use crate::{Float, Tensor};

/// A differentiable op defined by its user, recorded on the tape like a primitive.
///
/// Implement `CustomOp` — a name, a forward pass on ndarray arrays, and a backward rule
/// written with tensor ops — and apply it with [`Tensor::custom`]. The tape records one node
/// (`%4 = NAME(%2, %3)` when printed), saving the op's inputs and output; the sweep
/// calls your rule with them as tensors. Because the rule is made of tensor ops, a
/// `grad(.., create_graph = true)` pass records it, and second-order gradients work as they
/// do for the built-in ops (PyTorch's `torch.autograd.Function` with a differentiable
/// `backward`).
///
/// ```
/// use std::sync::Arc;
/// use tapegrad_tensor::{CustomCtx, CustomOp, Float, ndarray::ArrayD, Result, Tensor};
///
/// /// y = x³, with dy/dx = 3x².
/// struct Cube;
/// impl<F: Float> CustomOp<F> for Cube {
///     fn name(&self) -> &'static str {
///         "cube"
///     }
///     fn forward(&self, inputs: &[&ArrayD<F>]) -> Result<ArrayD<F>> {
///         Ok(inputs[0].mapv(|x| x * x * x))
///     }
///     fn backward(&self, ctx: &CustomCtx<F>, grad_out: &Tensor<F>) -> Vec<Option<Tensor<F>>> {
///         let x = ctx.input(0);
///         vec![Some(grad_out * &(&x * &x).mul_scalar(F::from_f64(3.0)))]
///     }
/// }
///
/// let x = Tensor::<f64>::scalar(2.0).requires_grad();
/// let y = Tensor::custom(Arc::new(Cube), &[&x]);
/// assert_eq!(y.item(), 8.0);
/// y.backward();
/// assert_eq!(x.grad().unwrap().item(), 12.0);
/// ```
pub trait CustomOp<F: Float>: Send + Sync + 'static {
    /// The op's name, shown on the printed tape (`%4 = NAME(%2, %3)`) and in error messages.
    fn name(&self) -> &'static str;

    /// The output value, computed from the inputs' values.
    ///
    /// # Errors
    /// Whatever the op rejects (shapes, values); the error is returned by
    /// [`Tensor::try_custom`].
    fn forward(&self, inputs: &[&ArrayD<F>]) -> Result<ArrayD<F>>;

    /// The backward rule: given ∂L/∂output, one entry per input — ∂L/∂input with the input's
    /// shape, or `None` for an input that gets no gradient (check
    /// [`CustomCtx::needs_grad`] to skip work). Write it with tensor ops on
    /// [`CustomCtx::input`] and [`CustomCtx::output`] so that it can be differentiated again.
    fn backward(&self, ctx: &CustomCtx<F>, grad_out: &Tensor<F>) -> Vec<Option<Tensor<F>>>;

    /// The forward-mode rule (Jacobian-vector product): given the inputs, the output and one
    /// tangent per input (`None` for a constant), the output's tangent. Optional; by default
    /// it reports that the op has none (`TensorError::NoForwardRule`).
    ///
    /// # Errors
    /// `NoForwardRule` unless the op implements it.
    fn jvp(
        &self,
        inputs: &[Tensor<F>],
        output: &Tensor<F>,
        tangents: &[Option<Tensor<F>>],
    ) -> Result<Tensor<F>> {
        let _ = (inputs, output, tangents);
        Err(TensorError::NoForwardRule { op: self.name() })
    }
}

/// What a [`CustomOp`]'s backward rule sees of its node.
pub struct CustomCtx<'a, 'b, F: Float> {
    ctx: &'a BackwardCtx<'b, F>,
    inputs: usize,
}

impl<F: Float> CustomCtx<'_, '_, F> {
    /// Input `k`'s value, as a tensor (linked to its node on a second-order pass).
    ///
    /// # Panics
    /// When `k` is not an input's index.
    #[track_caller]
    pub fn input(&self, k: usize) -> Tensor<F> {
        assert!(k < self.inputs, "custom op: input {k} of {}", self.inputs);
        self.ctx.saved(k)
    }

    /// The op's output value, as a tensor (linked to its node on a second-order pass).
    pub fn output(&self) -> Tensor<F> {
        self.ctx.saved(self.inputs)
    }

    /// How many inputs the op has.
    pub fn len(&self) -> usize {
        self.inputs
    }

    /// Whether the op has no inputs.
    pub fn is_empty(&self) -> bool {
        self.inputs == 0
    }

    /// Whether input `k` wants a gradient (a constant does not).
    pub fn needs_grad(&self, k: usize) -> bool {
        self.ctx.needs_grad(k)
    }

    /// Whether the rule is being recorded (a `create_graph` pass).
    pub fn create_graph(&self) -> bool {
        self.ctx.create_graph()
    }
}

/// A [`CustomOp`] as the tape holds it: the op behind `Any` (the tape's `Op` is not generic
/// over the element type), with its name kept beside it.
#[derive(Clone)]
pub struct CustomRef {
    name: &'static str,
    op: Arc<dyn Any + Send + Sync>,
}

impl CustomRef {
    /// The op's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    fn get<F: Float>(&self) -> &Arc<dyn CustomOp<F>> {
        self.op
            .downcast_ref::<Arc<dyn CustomOp<F>>>()
            .expect("a custom op's node is on a tape of its element type")
    }
}

impl fmt::Debug for CustomRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CustomRef({})", self.name)
    }
}

impl PartialEq for CustomRef {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.op, &other.op)
    }
}

impl<F: Float> Tensor<F> {
    /// Applies the user-defined `op` to `inputs` and records it (see [`CustomOp`]).
    ///
    /// # Panics
    /// With the message of [`try_custom`](Self::try_custom)'s error.
    #[track_caller]
    pub fn custom(op: Arc<dyn CustomOp<F>>, inputs: &[&Tensor<F>]) -> Tensor<F> {
        or_panic(Self::try_custom(op, inputs))
    }

    /// [`custom`](Self::custom), returning errors instead of panicking.
    ///
    /// # Errors
    /// The op's own forward errors, `DifferentTapes` when inputs are on two live tapes, and
    /// `Consumed` when their tape was consumed.
    #[track_caller]
    pub fn try_custom(op: Arc<dyn CustomOp<F>>, inputs: &[&Tensor<F>]) -> Result<Tensor<F>> {
        let values: Vec<Arc<ArrayD<F>>> = inputs.iter().map(|t| t.value()).collect();
        let refs: Vec<&ArrayD<F>> = values.iter().map(|v| v.as_ref()).collect();
        let out = op.forward(&refs)?;
        let name = op.name();
        let mut saved: Vec<Saved> = (0..inputs.len()).map(Saved::Input).collect();
        saved.push(Saved::Output);
        let custom = CustomRef {
            name,
            op: Arc::new(op),
        };
        record(Op::Custom(custom), inputs, out, &saved)
    }
}

/// The op's forward-mode rule, for the forward-mode engine to call.
///
/// # Errors
/// `NoForwardRule` when the op has none.
pub fn custom_jvp<F: Float>(
    op: &CustomRef,
    inputs: &[Tensor<F>],
    output: &Tensor<F>,
    tangents: &[Option<Tensor<F>>],
) -> Result<Tensor<F>> {
    op.get::<F>().jvp(inputs, output, tangents)
}

// ẏ = the user's rule, `CustomOp::jvp`. An op without one stops forward mode with its
// `NoForwardRule` error as the panic message, naming the op (as a bad shape would).
pub(crate) fn jvp<F: Float>(ctx: &JvpCtx<F>, dots: &Dots<F>) -> Option<Tensor<F>> {
    let Op::Custom(custom) = ctx.op else {
        unreachable!("custom::jvp runs for Op::Custom nodes")
    };
    let inputs: Vec<Tensor<F>> = (0..dots.len()).map(|i| ctx.input(i).clone()).collect();
    Some(or_panic(custom_jvp(custom, &inputs, ctx.output(), dots)))
}

// The user's rule, checked: one gradient per input, each of its input's shape.
pub(crate) fn backward<F: Float>(ctx: &BackwardCtx<F>, grad_out: &Tensor<F>) -> InputGrads<F> {
    let Op::Custom(custom) = ctx.op else {
        unreachable!("custom::backward runs for Op::Custom nodes")
    };
    let inputs = ctx.saved_len() - 1;
    let user = CustomCtx { ctx, inputs };
    let grads = custom.get::<F>().backward(&user, grad_out);
    assert_eq!(
        grads.len(),
        inputs,
        "custom op {}: backward returned {} gradients for {inputs} inputs",
        custom.name,
        grads.len()
    );
    for (k, g) in grads.iter().enumerate() {
        if let Some(g) = g {
            let shape = ctx.saved_shape(k);
            assert!(
                g.shape() == shape,
                "custom op {}: backward returned a gradient of shape {:?} for input {k} of shape {:?}",
                custom.name,
                g.shape(),
                shape
            );
        }
    }
    grads.into_iter().collect()
}
