//! Showing the tape to a learner: as a numbered list, and as a Graphviz DOT graph.

use std::fmt::{self, Write};

use super::{Node, Op, Tape};
use crate::error::ShapeFmt;
use crate::Float;

fn inputs_text<F: Float>(node: &Node<F>) -> String {
    let inputs: Vec<String> = node
        .inputs
        .iter()
        .map(|i| i.map_or_else(|| "const".to_string(), |i| format!("%{i}")))
        .collect();
    inputs.join(", ")
}

fn leaf_name<F: Float>(node: &Node<F>) -> String {
    match &node.param {
        Some(p) if !p.name().is_empty() => format!(" \"{}\"", p.name()),
        _ => String::new(),
    }
}

/// One line per node, in recording order: `%3 = matmul(const, %0) [100, 1]`.
///
/// ```
/// use tapegrad_tensor::{Param, Tensor};
/// let w = Param::<f64>::new("w", ndarray::arr1(&[1.0, 2.0]).into_dyn());
/// let loss = (w.tensor() * 3.0).sum();
/// assert_eq!(
///     loss.tape().unwrap().to_string().lines().skip(1).collect::<Vec<_>>(),
///     ["%0 = leaf \"w\" [2]", "%1 = mul_scalar(%0; 3) [2]", "%2 = sum(%1; axes=[0]) []"],
/// );
/// ```
impl<F: Float> fmt::Display for Tape<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let nodes = self.nodes();
        let state = if self.is_consumed() { ", consumed" } else { "" };
        writeln!(f, "tape #{} ({} nodes{state})", self.id(), nodes.len())?;
        for (i, node) in nodes.iter().enumerate() {
            writeln!(f, "{}", node_line(i, node))?;
        }
        Ok(())
    }
}

/// Node `i`'s line of the printed tape, without the newline: `%3 = matmul(const, %0) [100, 1]`.
/// The trace of a backward sweep heads each step with the same line.
pub(super) fn node_line<F: Float>(i: usize, node: &Node<F>) -> String {
    let label = node.op.label();
    let shape = ShapeFmt(&node.shape);
    let params = node.op.params();
    match &node.op {
        Op::Leaf | Op::Stale { .. } if params.is_empty() => {
            format!("%{i} = {label}{} {shape}", leaf_name(node))
        }
        Op::Leaf | Op::Stale { .. } => format!("%{i} = {label} ({params}) {shape}"),
        _ if params.is_empty() => format!("%{i} = {label}({}) {shape}", inputs_text(node)),
        _ => format!("%{i} = {label}({}; {params}) {shape}", inputs_text(node)),
    }
}

impl<F: Float> fmt::Debug for Tape<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl<F: Float> Tape<F> {
    /// The graph in Graphviz DOT: one box per node with its op, parameters and shape, an edge
    /// from each input to its user, and for parameter leaves the gradient when one is stored
    /// (its values when it has at most 6 elements, else its norm). Constants are not drawn.
    ///
    /// Render it with `dot -Tsvg tape.dot > tape.svg`.
    pub fn to_dot(&self) -> String {
        let nodes = self.nodes();
        let mut dot = String::new();
        let _ = writeln!(
            dot,
            "digraph tape_{} {{\n  rankdir=BT;\n  node [shape=box, fontname=\"monospace\"];",
            self.id()
        );
        for (i, node) in nodes.iter().enumerate() {
            let mut label = format!(
                "%{i} {}{}",
                node.op.label(),
                leaf_name(node).replace('"', "\\\"")
            );
            let params = node.op.params();
            if !params.is_empty() {
                let _ = write!(label, "\\n{params}");
            }
            let _ = write!(label, "\\n{}", ShapeFmt(&node.shape));
            let grad = node.param.as_ref().and_then(|p| p.grad());
            if let Some(g) = grad {
                if g.len() <= 6 {
                    let values: Vec<String> = g.iter().map(|x| format!("{x:.4}")).collect();
                    let _ = write!(label, "\\ngrad [{}]", values.join(", "));
                } else {
                    let norm = g
                        .iter()
                        .map(|x| x.as_f64() * x.as_f64())
                        .sum::<f64>()
                        .sqrt();
                    let _ = write!(label, "\\ngrad ‖·‖ = {norm:.4}");
                }
            }
            let style = if node.param.is_some() {
                ", style=filled, fillcolor=lightblue"
            } else {
                ""
            };
            let _ = writeln!(dot, "  n{i} [label=\"{label}\"{style}];");
            for input in node.inputs.iter().flatten() {
                let _ = writeln!(dot, "  n{input} -> n{i};");
            }
        }
        dot.push_str("}\n");
        dot
    }
}
