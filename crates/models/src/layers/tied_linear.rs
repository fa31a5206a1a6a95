//! `TiedLinear`: an output projection that shares its weight with an embedding, the weight
//! tying of language models (Press & Wolf, 2017; Inan et al., 2017), as GPT-2 ties its
//! `lm_head` to its token embedding `wte`:
//!
//! ```text
//! y = h·Eᵀ (+ b)        E [vocab, d]: the embedding table itself, h [..., d] → y [..., vocab]
//! ∂L/∂E = Σ (∂L/∂y)ᵀ·h  from this use, plus the rows the embedding looked up
//! ```
//!
//! The weight is the embedding's [`Param`] (a handle, not a copy), so there is one leaf on the
//! tape and its gradient is the sum of both uses; an optimizer step moves both at once.
//!
//! **What is saved.** [`named_parameters`](Module::named_parameters) lists only `bias` (when
//! there is one): the shared weight belongs to the embedding and appears once, under the
//! embedding's name, so [`io::save`](crate::io::save) writes it once and optimizers (which
//! refuse a parameter given twice) see it once. PyTorch's `state_dict` lists a tied tensor under
//! both names (`tok_emb.weight` and `lm_head.weight`); tapegrad loads such a file (saved as
//! `{k: v.clone() for k, v in model.state_dict().items()}`, since `safetensors.torch.save_file`
//! refuses shared tensors) by reading the embedding's entry and ignoring the other.
//! `safetensors.torch.save_model` instead keeps one name of each shared group, the first in
//! sorted order (`lm_head.weight` before `tok_emb.weight`): rename it to the embedding's name
//! before loading here. In the other direction, torch reads tapegrad's file with
//! `safetensors.torch.load_model(model, path)`, or `load_state_dict(…, strict=False)`, which
//! reports the head's name missing while the tie fills it.
//!
//! ```
//! use tapegrad_models::module::{Embedding, Module, TiedLinear};
//! use tapegrad_tensor::Tensor;
//! let embedding = Embedding::<f64>::new(10, 4, 0);      // 10 tokens, width 4
//! let head = TiedLinear::new(embedding.weight(), false); // logits over the same 10 tokens
//! let h = embedding.lookup(&[3, 7]);                     // [2, 4]
//! let logits = head.forward(&h);
//! assert_eq!(logits.shape(), &[2, 10]);
//! assert!(head.named_parameters().is_empty());           // the weight is the embedding's
//! logits.sum().backward();                               // both uses reach one gradient
//! assert_eq!(embedding.weight().grad().unwrap().shape(), &[10, 4]);
//! ```

use ndarray::ArrayD;
use tapegrad_tensor::{Float, Param, Tensor};

use crate::module::Module;

/// y = h·Wᵀ (+ b) with W another layer's parameter, shared (see the module docs).
#[derive(Clone, Debug)]
pub struct TiedLinear<F: Float> {
    weight: Param<F>,
    bias: Option<Param<F>>,
}

impl<F: Float> TiedLinear<F> {
    /// A projection through `weight` (`[out, in]`, e.g. an embedding table `[vocab, d]`),
    /// with a zero bias `[out]` of its own when `bias` (GPT-2's head has none).
    ///
    /// # Panics
    /// When `weight` is not a matrix.
    #[track_caller]
    pub fn new(weight: &Param<F>, bias: bool) -> Self {
        let &[out, _] = weight.shape() else {
            panic!(
                "TiedLinear: the weight has shape {:?}; it must be a matrix [out, in]",
                weight.shape()
            )
        };
        TiedLinear {
            weight: weight.clone(),
            bias: bias.then(|| Param::new("bias", ArrayD::zeros(vec![out]))),
        }
    }

    /// The shared weight (the same parameter as its owner's).
    pub fn weight(&self) -> &Param<F> {
        &self.weight
    }

    /// The layer's own bias, if it has one.
    pub fn bias(&self) -> Option<&Param<F>> {
        self.bias.as_ref()
    }
}

impl<F: Float> Module<F> for TiedLinear<F> {
    /// h·Wᵀ (+ b) for h `[..., in]`.
    #[track_caller]
    fn forward(&self, x: &Tensor<F>) -> Tensor<F> {
        let bias = self.bias.as_ref().map(Param::tensor);
        x.linear(&self.weight.tensor(), bias.as_ref())
    }

    /// Only `bias`: the weight is listed by the layer that owns it.
    fn named_parameters(&self) -> Vec<(String, Param<F>)> {
        self.bias
            .iter()
            .map(|b| ("bias".to_string(), b.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::module::Embedding;

    #[test]
    fn the_gradient_sums_both_uses_of_the_one_table() {
        // Ids [1], E = [[1, 0], [0, 2], [1, 1]]: h = E[1] = [0, 2], y = h·Eᵀ = [0, 4, 2].
        let embedding = Embedding::<f64>::new(3, 2, 0);
        embedding
            .weight()
            .set_value(
                ArrayD::from_shape_vec(vec![3, 2], vec![1.0, 0.0, 0.0, 2.0, 1.0, 1.0]).unwrap(),
            )
            .unwrap();
        let head = TiedLinear::new(embedding.weight(), true);
        let y = head.forward(&embedding.lookup(&[1]));
        assert_eq!(y.to_vec(), vec![0.0, 4.0, 2.0]);
        // L = Σ y = h·Σ_rows E = [0, 2]·[2, 3] = 6. Through the head, ∂L/∂E[t] = h for every
        // row t: [0, 2] each; through the lookup, ∂L/∂E[1] += Σ_rows E = [2, 3].
        y.sum().backward();
        let g = embedding.weight().grad().unwrap();
        assert_eq!(
            g.iter().copied().collect::<Vec<_>>(),
            vec![0.0, 2.0, 2.0, 5.0, 0.0, 2.0]
        );
        assert_eq!(
            head.bias().unwrap().grad().unwrap().iter().sum::<f64>(),
            3.0
        );
        assert!(head.weight().same_as(embedding.weight()));
        let names: Vec<String> = head
            .named_parameters()
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert_eq!(names, ["bias"]);
    }

    #[test]
    #[should_panic(
        expected = "TiedLinear: the weight has shape [3]; it must be a matrix [out, in]"
    )]
    fn a_vector_is_not_a_weight() {
        TiedLinear::new(&Param::<f64>::new("w", ArrayD::zeros(vec![3])), false);
    }
}
