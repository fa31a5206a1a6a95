//! The observer of a sweep on a tape with hooks or retained gradients, or in anomaly mode.
//!
//! The plain sweep runs with an observer whose methods are empty; only when the tape has
//! something to watch (or anomaly mode is on) does `sweep` wrap its observer in a [`Watch`],
//! which runs the hooks as each adjoint arrives, keeps the retained ones, and checks what each
//! rule sends.

use std::sync::atomic::Ordering;

use ndarray::ArrayD;

use super::anomaly::{self, Anomaly, Origin, Pass};
use super::hooks::{run_hooks, GradHook};
use super::trace::Observer;
use super::{lock, NodeId, Op, Tape};
use crate::error::{Result, TensorError};
use crate::{Float, Tensor};

pub(super) struct Watch<'o, F: Float, O> {
    inner: &'o mut O,
    /// (node, hook), in registration order.
    hooks: Vec<(NodeId, GradHook<F>)>,
    retain: Vec<NodeId>,
    /// Adjoints kept by this sweep, to add to the tape's once it is done.
    retained: Vec<(NodeId, ArrayD<F>)>,
    /// Whether the sweep delivers to `.grad()` (only `backward` retains).
    keep: bool,
    create_graph: bool,
    /// In anomaly mode: the tape's number and its nodes' origins, by node.
    anomaly: Option<(u64, Vec<(NodeId, Origin)>)>,
    /// In anomaly mode, keeps the sweep's rules from being checked as forward ops.
    _in_sweep: Option<anomaly::SweepGuard>,
}

impl<'o, F: Float, O: Observer<F>> Watch<'o, F, O> {
    /// Copies what the sweep needs out of the tape's sidecar. In anomaly mode, a forward
    /// anomaly at or below `root` is returned as the error: it came first.
    pub(super) fn new(
        tape: &Tape<F>,
        root: NodeId,
        inner: &'o mut O,
        keep: bool,
        create_graph: bool,
    ) -> Result<Self> {
        let sidecar = lock(&tape.data.sidecar);
        let anomaly = if anomaly::is_anomaly_enabled() {
            if let Some(found) = &sidecar.forward_anomaly {
                if found.node.is_some_and(|node| node <= root) {
                    anomaly::note(found);
                    return Err(TensorError::Anomaly(Box::new(found.clone())));
                }
            }
            Some((tape.id(), sidecar.origins.clone()))
        } else {
            None
        };
        Ok(Watch {
            _in_sweep: anomaly.is_some().then(anomaly::SweepGuard::new),
            inner,
            hooks: sidecar
                .hooks
                .iter()
                .filter(|(node, _, _)| *node <= root)
                .map(|(node, _, hook)| (*node, hook.clone()))
                .collect(),
            retain: sidecar.retain.clone(),
            retained: Vec::new(),
            keep,
            create_graph,
            anomaly,
        })
    }

    /// Adds this sweep's retained adjoints to the tape's.
    pub(super) fn finish(self, tape: &Tape<F>) {
        if self.retained.is_empty() {
            return;
        }
        let mut sidecar = lock(&tape.data.sidecar);
        for (node, g) in self.retained {
            match sidecar.retained.iter_mut().find(|(n, _)| *n == node) {
                Some((_, sum)) => *sum += &g,
                None => sidecar.retained.push((node, g)),
            }
        }
    }
}

/// Whether a sweep on `tape` needs a [`Watch`].
pub(super) fn needed<F: Float>(tape: &Tape<F>) -> bool {
    tape.data.watched.load(Ordering::Acquire) || anomaly::is_anomaly_enabled()
}

impl<F: Float, O: Observer<F>> Observer<F> for Watch<'_, F, O> {
    fn adjoint(&mut self, node: NodeId, adjoint: &Tensor<F>) {
        self.inner.adjoint(node, adjoint)
    }

    fn sent(&mut self, from: NodeId, to: NodeId, contribution: &Tensor<F>) {
        self.inner.sent(from, to, contribution)
    }

    fn sent_window(
        &mut self,
        from: NodeId,
        to: NodeId,
        window: &Tensor<F>,
        shape: &[usize],
        axis: usize,
        start: usize,
    ) {
        self.inner.sent_window(from, to, window, shape, axis, start)
    }

    fn arrive(&mut self, node: NodeId, adjoint: Tensor<F>) -> Result<Tensor<F>> {
        let hooks = self
            .hooks
            .iter()
            .filter(|(n, _)| *n == node)
            .map(|(_, hook)| hook);
        let adjoint = run_hooks(hooks, adjoint, self.create_graph)?;
        if self.keep && self.retain.contains(&node) {
            self.retained.push((node, adjoint.value().as_ref().clone()));
        }
        Ok(adjoint)
    }

    fn check_sent(&mut self, from: NodeId, op: &Op, input: usize, g: &Tensor<F>) -> Result<()> {
        let Some((tape, origins)) = &self.anomaly else {
            return Ok(());
        };
        let Some((index, value)) = anomaly::first_non_finite(&g.value()) else {
            return Ok(());
        };
        let origin = origins
            .binary_search_by_key(&from, |(node, _)| *node)
            .ok()
            .map(|k| &origins[k].1);
        let found = Anomaly {
            op: op.label(),
            node: Some(from),
            tape: Some(*tape),
            pass: Pass::Backward { input },
            index,
            value,
            input_shapes: origin.map_or_else(Vec::new, |o| o.input_shapes.clone()),
            location: origin.map(|o| o.location),
        };
        anomaly::note(&found);
        Err(TensorError::Anomaly(Box::new(found)))
    }
}
