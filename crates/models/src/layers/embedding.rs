//! Embedding: a learned vector for each of `count` tokens, looked up by index.
//!
//! ```text
//! y[i] = W[idᵢ]          ∂L/∂W[t] = Σ_{i : idᵢ = t} ∂L/∂y[i]
//! ```
//!
//! The lookup is the tape's `index_select` on the rows of W; its backward rule (`index_add`)
//! adds the gradients of every position that used the same token, and leaves rows never
//! looked up at zero.

use tapegrad_tensor::{Float, Param, Tensor};

use crate::module::Module;

/// A table W of shape [count, dim], initialised N(0, 1) with a seed (as PyTorch does).
#[derive(Clone, Debug)]
pub struct Embedding<F: Float> {
    weight: Param<F>,
}

impl<F: Float> Embedding<F> {
    /// `count` vectors of length `dim`, drawn from N(0, 1) with `seed`.
    pub fn new(count: usize, dim: usize, seed: u64) -> Self {
        let table = Tensor::randn(&[count, dim], F::zero(), F::one(), seed).to_array();
        Embedding {
            weight: Param::new("weight", table),
        }
    }

    /// The table W, `[count, dim]` (a handle: share it to tie an output projection to it,
    /// see [`TiedLinear`](crate::module::TiedLinear)).
    pub fn weight(&self) -> &Param<F> {
        &self.weight
    }

    /// The vectors of `ids`, stacked: shape [ids.len(), dim].
    ///
    /// # Panics
    /// When an id is not below `count`.
    #[track_caller]
    pub fn lookup(&self, ids: &[usize]) -> Tensor<F> {
        let count = self.weight.shape()[0];
        if let Some((position, id)) = ids.iter().enumerate().find(|(_, &id)| id >= count) {
            panic!(
                "Embedding: id {id} at position {position} is not below the table's {count} rows"
            );
        }
        self.weight.tensor().index_select(0, ids)
    }
}

impl<F: Float> Module<F> for Embedding<F> {
    /// Looks up every element of `x` (token ids stored as whole numbers): the output has
    /// shape `x.shape() + [dim]`.
    ///
    /// # Panics
    /// When an element of `x` is not a whole number in 0..count.
    #[track_caller]
    fn forward(&self, x: &Tensor<F>) -> Tensor<F> {
        let ids: Vec<usize> = x
            .to_vec()
            .iter()
            .enumerate()
            .map(|(position, v)| {
                let v = v.as_f64();
                if v >= 0.0 && v.fract() == 0.0 && v < usize::MAX as f64 {
                    v as usize
                } else {
                    panic!("Embedding: x[{position}] = {v} is not a token id (a whole number ≥ 0)")
                }
            })
            .collect();
        let mut shape = x.shape().to_vec();
        shape.push(self.weight.shape()[1]);
        self.lookup(&ids).reshape(&shape)
    }

    fn named_parameters(&self) -> Vec<(String, Param<F>)> {
        vec![("weight".into(), self.weight.clone())]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_returns_rows_and_forward_keeps_the_index_shape() {
        let embedding = Embedding::<f64>::new(5, 3, 1);
        let table = embedding.weight.value().clone();
        let rows = embedding.lookup(&[4, 0, 4]).to_array();
        assert_eq!(rows.shape(), &[3, 3]);
        let row = |a: &ndarray::ArrayD<f64>, i| a.index_axis(ndarray::Axis(0), i).to_owned();
        assert_eq!(row(&rows, 0), row(&table, 4));
        assert_eq!(row(&rows, 1), row(&table, 0));
        let ids = Tensor::<f64>::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[2, 2]);
        assert_eq!(embedding.forward(&ids).shape(), &[2, 2, 3]);
    }

    #[test]
    fn repeated_ids_add_their_gradients_and_unused_rows_get_none() {
        let embedding = Embedding::<f64>::new(4, 2, 2);
        // L = Σ y ⊙ c with c = [[1, 2], [3, 4], [5, 6]] for ids [1, 3, 1].
        let c = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[3, 2]);
        (embedding.lookup(&[1, 3, 1]) * c).sum().backward();
        let grad = embedding.weight.grad().unwrap();
        assert_eq!(
            grad.iter().copied().collect::<Vec<_>>(),
            [0.0, 0.0, 6.0, 8.0, 0.0, 0.0, 3.0, 4.0]
        );
    }

    #[test]
    #[should_panic(expected = "Embedding: id 4 at position 1 is not below the table's 4 rows")]
    fn an_id_past_the_table_names_it() {
        Embedding::<f64>::new(4, 2, 0).lookup(&[0, 4]);
    }

    #[test]
    #[should_panic(expected = "Embedding: x[1] = 1.5 is not a token id")]
    fn a_fractional_id_is_rejected() {
        Embedding::<f64>::new(4, 2, 0).forward(&Tensor::from_vec(vec![0.0, 1.5], &[2]));
    }
}
