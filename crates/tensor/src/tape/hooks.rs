//! Gradient hooks and retained gradients: looking at (or changing) what flows backward.
//!
//! [`Tensor::register_hook`] attaches a function to a tensor; when a backward sweep reaches
//! the tensor's node, the function is shown the node's complete adjoint ∂root/∂tensor, and may
//! return a replacement that the sweep then uses instead — for the node's own rule and so for
//! everything upstream (PyTorch's `Tensor.register_hook`). A hook on an intermediate lives on
//! its tape (it goes when the step's tensors go); a hook on a parameter or a `requires_grad`
//! leaf lives on the parameter and fires in every later backward, before the gradient is added
//! to `.grad()`.
//!
//! [`Tensor::retain_grad`] asks a `backward` to keep an intermediate's adjoint, so that its
//! [`grad`](Tensor::grad) is filled afterwards (leaves keep theirs anyway).
//!
//! ```text
//!   x ──► h = f(x) ──► y = g(h) ──► loss          backward: grad[h] arrives complete,
//!                 ▲                                         the hook sees it, may return −grad[h],
//!          hook on h: |g| Some(−g)                          and f's rule gets what it returned
//! ```
//!
//! A sweep pays for hooks only when its tape has some: the tape keeps a flag, and a sweep
//! without hooks, retained gradients or anomaly mode runs the plain loop.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};

use ndarray::ArrayD;

use super::anomaly::{Anomaly, Origin};
use super::{lock, NodeId, TapeData};
use crate::error::{or_panic, Result, TensorError};
use crate::tensor::Repr;
use crate::{Float, Param, Tensor};

/// A gradient hook: shown a gradient, returns `None` to keep it or `Some(g)` to replace it
/// (`g` must have the same shape).
pub type GradHook<F> = Arc<dyn Fn(&Tensor<F>) -> Option<Tensor<F>> + Send + Sync>;

static NEXT_HOOK_ID: AtomicU64 = AtomicU64::new(1);

/// What a tape keeps beside its nodes: hooks and retained gradients of its intermediates.
pub(crate) struct Sidecar<F: Float> {
    /// (node, hook id, hook), in registration order.
    pub hooks: Vec<(NodeId, u64, GradHook<F>)>,
    /// Nodes whose adjoint a `backward` keeps.
    pub retain: Vec<NodeId>,
    /// The kept adjoints, summed over passes.
    pub retained: Vec<(NodeId, ArrayD<F>)>,
    /// Anomaly mode: where each node recorded in the mode was called from, by node.
    pub origins: Vec<(NodeId, Origin)>,
    /// Anomaly mode: the first op on this tape whose forward value was not finite.
    pub forward_anomaly: Option<Anomaly>,
}

impl<F: Float> Default for Sidecar<F> {
    fn default() -> Self {
        Sidecar {
            hooks: Vec::new(),
            retain: Vec::new(),
            retained: Vec::new(),
            origins: Vec::new(),
            forward_anomaly: None,
        }
    }
}

enum HookOwner<F: Float> {
    Param(Param<F>),
    Tape(Weak<TapeData<F>>),
}

/// Returned by [`Tensor::register_hook`]; [`remove`](HookHandle::remove) takes the hook off
/// again (dropping the handle keeps it, as in PyTorch).
pub struct HookHandle<F: Float = f32> {
    id: u64,
    owner: HookOwner<F>,
}

impl<F: Float> HookHandle<F> {
    /// Removes the hook: later sweeps no longer call it.
    pub fn remove(self) {
        match self.owner {
            HookOwner::Param(p) => p.remove_hook(self.id),
            HookOwner::Tape(weak) => {
                if let Some(data) = weak.upgrade() {
                    lock(&data.sidecar)
                        .hooks
                        .retain(|(_, id, _)| *id != self.id);
                }
            }
        }
    }
}

/// Runs `hooks` in order on `grad`, each seeing the last one's result. On a first-order pass
/// (`!create_graph`) a replacement is detached: nothing will differentiate it.
pub(crate) fn run_hooks<'h, F: Float + 'h>(
    hooks: impl IntoIterator<Item = &'h GradHook<F>>,
    mut grad: Tensor<F>,
    create_graph: bool,
) -> Result<Tensor<F>> {
    for hook in hooks {
        if let Some(replaced) = hook(&grad) {
            if replaced.shape() != grad.shape() {
                return Err(TensorError::ShapeMismatch {
                    op: "register_hook",
                    lhs: grad.shape().to_vec(),
                    rhs: replaced.shape().to_vec(),
                    rule: "a hook must return a gradient of the tensor's shape".into(),
                });
            }
            grad = if create_graph {
                replaced
            } else {
                replaced.detach()
            };
        }
    }
    Ok(grad)
}

fn needs_grad_error(op: &'static str, shape: &[usize]) -> TensorError {
    TensorError::InvalidArgument {
        op,
        shape: shape.to_vec(),
        rule: "the tensor requires no gradient, so no gradient will flow into it; call \
               requires_grad() on a leaf it depends on first"
            .into(),
    }
}

impl<F: Float> Tensor<F> {
    /// Registers `hook` to be called with the gradient ∂root/∂self each time a backward
    /// sweep (`backward`, `backward_retain`, `grad`) reaches this tensor, once per sweep with
    /// the complete gradient. Returning `Some(g)` replaces the gradient — for this tensor's
    /// `.grad()` if it is a leaf, and for everything upstream of it; `None` keeps it.
    /// PyTorch's `Tensor.register_hook`.
    ///
    /// On an intermediate, the hook lives on the tensor's tape; on a leaf (a parameter or a
    /// `requires_grad` tensor) it lives on the parameter and fires in every later backward.
    /// Hooks run in registration order. On a first-order pass a hook runs with recording off
    /// (its result is a plain value); under `grad(.., create_graph = true)` it runs with
    /// recording on, so what it returns is differentiated too. A hook runs inside the sweep,
    /// which holds the tape's lock on a first-order pass: it must not start another backward
    /// on the same tape, nor ask the tape itself anything (`tape().len()`, printing it) —
    /// either would wait for that lock forever. Reading and returning tensors is fine.
    ///
    /// Gradient reversal (a domain-adversarial layer): the identity forward, −g backward.
    /// ```
    /// use tapegrad_tensor::Tensor;
    /// let x = Tensor::<f64>::from_vec(vec![1.0, 2.0], &[2]).requires_grad();
    /// let h = &x * 3.0;
    /// h.register_hook(|g| Some(-g));
    /// (&h * &h).sum().backward(); // ∂/∂h = 2h = [6, 12]; reversed, then ·3
    /// assert_eq!(x.grad().unwrap().to_vec(), vec![-18.0, -36.0]);
    /// ```
    ///
    /// # Panics
    /// With the message of [`try_register_hook`](Self::try_register_hook)'s error.
    #[track_caller]
    pub fn register_hook(
        &self,
        hook: impl Fn(&Tensor<F>) -> Option<Tensor<F>> + Send + Sync + 'static,
    ) -> HookHandle<F> {
        or_panic(self.try_register_hook(hook))
    }

    /// [`register_hook`](Self::register_hook), returning errors instead of panicking.
    ///
    /// # Errors
    /// `InvalidArgument` when the tensor requires no gradient (a constant), and `Consumed`
    /// when a `backward` already freed its tape.
    pub fn try_register_hook(
        &self,
        hook: impl Fn(&Tensor<F>) -> Option<Tensor<F>> + Send + Sync + 'static,
    ) -> Result<HookHandle<F>> {
        const OP: &str = "register_hook";
        let id = NEXT_HOOK_ID.fetch_add(1, Ordering::Relaxed);
        let hook: GradHook<F> = Arc::new(hook);
        match &self.repr {
            Repr::Constant(_) => Err(needs_grad_error(OP, self.shape())),
            Repr::Param(p) => {
                p.add_hook(id, hook);
                Ok(HookHandle {
                    id,
                    owner: HookOwner::Param(p.clone()),
                })
            }
            Repr::Recorded { tape, id: node, .. } => {
                if tape.is_consumed() {
                    return Err(TensorError::Consumed {
                        op: OP,
                        tape: tape.id(),
                    });
                }
                lock(&tape.data.sidecar).hooks.push((*node, id, hook));
                tape.data.watched.store(true, Ordering::Release);
                Ok(HookHandle {
                    id,
                    owner: HookOwner::Tape(Arc::downgrade(&tape.data)),
                })
            }
        }
    }

    /// Asks the next `backward` sweeps to keep this intermediate's gradient ∂root/∂self (after
    /// its hooks), so that [`grad`](Self::grad) returns it, summed over passes as a leaf's is.
    /// PyTorch's `Tensor.retain_grad`. On a leaf it does nothing: leaves keep theirs.
    ///
    /// ```
    /// use tapegrad_tensor::Tensor;
    /// let x = Tensor::<f64>::scalar(3.0).requires_grad();
    /// let h = &x * &x;
    /// h.retain_grad();
    /// (&h * 5.0).sum().backward();
    /// assert_eq!(h.grad().unwrap().item(), 5.0); // ∂(5h)/∂h
    /// assert_eq!(x.grad().unwrap().item(), 30.0); // 5 · 2x
    /// ```
    ///
    /// # Panics
    /// With the message of [`try_retain_grad`](Self::try_retain_grad)'s error.
    #[track_caller]
    pub fn retain_grad(&self) {
        or_panic(self.try_retain_grad())
    }

    /// [`retain_grad`](Self::retain_grad), returning errors instead of panicking.
    ///
    /// # Errors
    /// `InvalidArgument` on a tensor that requires no gradient, `Consumed` when a `backward`
    /// already freed its tape.
    pub fn try_retain_grad(&self) -> Result<()> {
        const OP: &str = "retain_grad";
        match &self.repr {
            Repr::Constant(_) => Err(needs_grad_error(OP, self.shape())),
            Repr::Param(_) => Ok(()),
            Repr::Recorded { tape, id, .. } => {
                if tape.is_consumed() {
                    return Err(TensorError::Consumed {
                        op: OP,
                        tape: tape.id(),
                    });
                }
                let mut sidecar = lock(&tape.data.sidecar);
                if !sidecar.retain.contains(id) {
                    sidecar.retain.push(*id);
                }
                tape.data.watched.store(true, Ordering::Release);
                Ok(())
            }
        }
    }

    /// The retained gradient of an intermediate (see [`retain_grad`](Self::retain_grad)).
    pub(crate) fn retained_grad(&self) -> Option<Tensor<F>> {
        let Repr::Recorded { tape, id, .. } = &self.repr else {
            return None;
        };
        let sidecar = lock(&tape.data.sidecar);
        let (_, g) = sidecar.retained.iter().find(|(node, _)| node == id)?;
        Some(Tensor::from_array(g.clone()))
    }
}
