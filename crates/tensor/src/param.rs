//! Long-lived leaves: the parameters a model owns and an optimizer updates.
//!
//! A `Param` never lives on a tape. The first time an op uses it on a tape it is *lifted* onto
//! that tape as a leaf node, and the leaf's id is cached, so a weight used twice in one step is
//! one leaf whose gradient sums both uses. `backward` deposits the leaf's gradient into
//! [`Param::grad`], adding to what is there (PyTorch's accumulation semantics).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use ndarray::ArrayD;

use crate::error::{Result, TensorError};
use crate::tape::hooks::GradHook;
use crate::tape::{lock, NodeId};
use crate::{pool, Float};

/// A trainable value with a gradient slot. Cloning a `Param` clones the handle, not the data.
pub struct Param<F: Float = f32> {
    inner: Arc<ParamInner<F>>,
}

struct ParamInner<F: Float> {
    id: u64,
    name: String,
    shape: Box<[usize]>,
    value: RwLock<Arc<ArrayD<F>>>,
    grad: Mutex<Option<ArrayD<F>>>,
    /// (tape id, leaf id) of the tape this parameter was last lifted onto.
    leaf: Mutex<Option<(u64, NodeId)>>,
    /// Gradient hooks (id, hook), run by every sweep that reaches this parameter's leaf.
    hooks: Mutex<Vec<(u64, GradHook<F>)>>,
    /// Whether `hooks` is non-empty: a sweep reads only this unless it is.
    has_hooks: AtomicBool,
}

static NEXT_PARAM_ID: AtomicU64 = AtomicU64::new(0);

impl<F: Float> Clone for Param<F> {
    fn clone(&self) -> Self {
        Param {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<F: Float> Param<F> {
    /// A parameter named `name` (the name shows in printed tapes and saved weights).
    pub fn new(name: impl Into<String>, value: ArrayD<F>) -> Self {
        crate::heap::keep_freed_memory();
        Param {
            inner: Arc::new(ParamInner {
                id: NEXT_PARAM_ID.fetch_add(1, Ordering::Relaxed),
                name: name.into(),
                shape: value.shape().into(),
                value: RwLock::new(Arc::new(value)),
                grad: Mutex::new(None),
                leaf: Mutex::new(None),
                hooks: Mutex::new(Vec::new()),
                has_hooks: AtomicBool::new(false),
            }),
        }
    }

    /// The name given at construction (may be empty).
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// A number unique to this parameter within the process.
    pub fn id(&self) -> u64 {
        self.inner.id
    }

    /// The parameter's shape; it never changes.
    pub fn shape(&self) -> &[usize] {
        &self.inner.shape
    }

    /// The current value (a cheap shared handle; later updates do not change it).
    pub fn value(&self) -> Arc<ArrayD<F>> {
        Arc::clone(&self.inner.value.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// The accumulated gradient, or `None` before any `backward` reached this parameter.
    pub fn grad(&self) -> Option<ArrayD<F>> {
        lock(&self.inner.grad).clone()
    }

    /// `f` of the accumulated gradient (`None` before any `backward` reached this parameter),
    /// read in place: [`grad`](Self::grad) copies it, which for a 1024² gradient costs more
    /// than reading a few of its elements.
    ///
    /// ```
    /// # use tapegrad_tensor::{ndarray, Param};
    /// let w = Param::new("w", ndarray::arr1(&[1.0f32, 2.0]).into_dyn());
    /// (w.tensor() * w.tensor()).sum().backward(); // d Σw² / dw = 2w
    /// assert_eq!(w.with_grad(|g| g.map(|g| g[[1]])), Some(4.0));
    /// ```
    pub fn with_grad<R>(&self, f: impl FnOnce(Option<&ArrayD<F>>) -> R) -> R {
        f(lock(&self.inner.grad).as_ref())
    }

    /// Forgets the accumulated gradient.
    pub fn zero_grad(&self) {
        let old = lock(&self.inner.grad).take();
        if let Some(old) = old {
            pool::recycle_array(old);
        }
    }

    /// Replaces the value.
    ///
    /// # Errors
    /// `set_value` when `value` has another shape than the parameter.
    pub fn set_value(&self, value: ArrayD<F>) -> Result<()> {
        if value.shape() != self.shape() {
            return Err(TensorError::ShapeMismatch {
                op: "set_value",
                lhs: self.shape().to_vec(),
                rhs: value.shape().to_vec(),
                rule: "a parameter keeps its shape".into(),
            });
        }
        *self.inner.value.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(value);
        Ok(())
    }

    /// Updates the value in place with `f(value, grad)`, for optimizers.
    ///
    /// The update is copy-on-write: when a live tape still holds the old value (saved for a
    /// backward pass that has not run), the value is copied first, so the tape never sees it
    /// change. Does nothing and returns `false` when the parameter has no gradient.
    pub fn update(&self, f: impl FnOnce(&mut ArrayD<F>, &ArrayD<F>)) -> bool {
        let grad = lock(&self.inner.grad);
        let Some(grad) = grad.as_ref() else {
            return false;
        };
        let mut value = self.inner.value.write().unwrap_or_else(|e| e.into_inner());
        f(Arc::make_mut(&mut value), grad);
        true
    }

    /// Changes the stored gradient in place (gradient clipping); does nothing and returns
    /// `false` when there is none.
    pub fn update_grad(&self, f: impl FnOnce(&mut ArrayD<F>)) -> bool {
        match lock(&self.inner.grad).as_mut() {
            Some(grad) => {
                f(grad);
                true
            }
            None => false,
        }
    }

    /// Adds `g` to the gradient (used by the backward sweep).
    pub(crate) fn accumulate_grad(&self, g: Arc<ArrayD<F>>) {
        let mut slot = lock(&self.inner.grad);
        match slot.as_mut() {
            Some(existing) => {
                *existing += &*g;
                pool::recycle(g);
            }
            None => *slot = Some(Arc::try_unwrap(g).unwrap_or_else(|g| (*g).clone())),
        }
    }

    pub(crate) fn add_hook(&self, id: u64, hook: GradHook<F>) {
        lock(&self.inner.hooks).push((id, hook));
        self.inner.has_hooks.store(true, Ordering::Release);
    }

    pub(crate) fn remove_hook(&self, id: u64) {
        let mut hooks = lock(&self.inner.hooks);
        hooks.retain(|(h, _)| *h != id);
        self.inner
            .has_hooks
            .store(!hooks.is_empty(), Ordering::Release);
    }

    /// The hooks, copied out of their lock (they may be slow); `None` when there are none.
    pub(crate) fn hooks(&self) -> Option<Vec<GradHook<F>>> {
        if !self.inner.has_hooks.load(Ordering::Acquire) {
            return None;
        }
        Some(
            lock(&self.inner.hooks)
                .iter()
                .map(|(_, h)| h.clone())
                .collect(),
        )
    }

    /// The leaf id on tape `tape_id`, if this parameter was lifted onto it.
    pub(crate) fn leaf_on(&self, tape_id: u64) -> Option<NodeId> {
        match *lock(&self.inner.leaf) {
            Some((t, id)) if t == tape_id => Some(id),
            _ => None,
        }
    }

    pub(crate) fn set_leaf(&self, tape_id: u64, id: NodeId) {
        *lock(&self.inner.leaf) = Some((tape_id, id));
    }

    /// Whether two handles point at the same parameter.
    pub fn same_as(&self, other: &Param<F>) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

impl<F: Float> std::fmt::Debug for Param<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Param")
            .field("name", &self.name())
            .field("shape", &self.shape())
            .field("has_grad", &lock(&self.inner.grad).is_some())
            .finish()
    }
}
