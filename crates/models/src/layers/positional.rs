//! Position information for attention, which on its own is blind to order (permuting the
//! positions of its input permutes its output the same way).
//!
//! **Sinusoidal** (Vaswani et al., 2017, §3.5): a fixed table, nothing to learn,
//!
//! ```text
//! PE[p, 2i]     = sin(p / 10000^(2i/d))
//! PE[p, 2i + 1] = cos(p / 10000^(2i/d))          p = 0 … len − 1, i = 0 … ⌈d/2⌉ − 1
//! ```
//!
//! computed in f64 as the PyTorch tutorial does, with 1/10000^(2i/d) = exp(2i·(−ln 10000/d));
//! an odd d ends on a sine column.
//!
//! **Learned** (GPT-2, BERT): an [`Embedding`](crate::module::Embedding) of `max_len` rows,
//! looked up at positions 0 … T − 1 and added to the token embeddings, torch's
//! `nn.Embedding(block_size, d)(torch.arange(T))`:
//!
//! ```
//! use tapegrad_models::module::{sinusoidal_positions, Embedding, Module};
//! use tapegrad_tensor::Tensor;
//! let (max_len, d) = (16, 8);
//! let tokens = Embedding::<f64>::new(100, d, 0);
//! let positions = Embedding::<f64>::new(max_len, d, 1);
//! let ids = Tensor::from_vec(vec![5.0, 9.0, 2.0, 5.0, 0.0, 1.0], &[2, 3]); // [N, T]
//! let t: Vec<usize> = (0..3).collect();
//! let h = tokens.forward(&ids) + positions.lookup(&t); // [2, 3, 8] + [3, 8]
//! assert_eq!(h.shape(), &[2, 3, 8]);
//! // or fixed: the same shapes, nothing trained.
//! let fixed = tokens.forward(&ids) + sinusoidal_positions::<f64>(3, d);
//! assert_eq!(fixed.shape(), &[2, 3, 8]);
//! ```

use tapegrad_tensor::{Float, Tensor};

/// The sinusoidal position table `[len, d]` of Vaswani et al. (see the module docs), a
/// constant tensor.
pub fn sinusoidal_positions<F: Float>(len: usize, d: usize) -> Tensor<F> {
    let rate = -(10000f64.ln()) / d as f64;
    let data = (0..len)
        .flat_map(|p| {
            (0..d).map(move |j| {
                let angle = p as f64 * ((j - j % 2) as f64 * rate).exp();
                F::from_f64(if j % 2 == 0 { angle.sin() } else { angle.cos() })
            })
        })
        .collect();
    Tensor::from_vec(data, &[len, d])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_by_hand() {
        // d = 4: frequencies 1 and 1/100. Row 0 is [0, 1, 0, 1]; row 1 is
        // [sin 1, cos 1, sin 0.01, cos 0.01].
        let pe = sinusoidal_positions::<f64>(3, 4).to_vec();
        assert_eq!(pe[..4], [0.0, 1.0, 0.0, 1.0]);
        let want = [1f64.sin(), 1f64.cos(), 0.01f64.sin(), 0.01f64.cos()];
        for (got, want) in pe[4..8].iter().zip(want) {
            assert!((got - want).abs() < 1e-15, "{got} vs {want}");
        }
        // An odd width ends on a sine; every value lies in [−1, 1].
        let odd = sinusoidal_positions::<f32>(5, 3);
        assert_eq!(odd.shape(), &[5, 3]);
        let want = [
            1f64.sin(),
            1f64.cos(),
            (1.0 / 10000f64.powf(2.0 / 3.0)).sin(),
        ];
        for (got, want) in odd.to_vec()[3..6].iter().zip(want) {
            assert!((f64::from(*got) - want).abs() < 1e-7, "{got} vs {want}");
        }
        assert!(odd.to_vec().iter().all(|v| v.abs() <= 1.0));
    }
}
