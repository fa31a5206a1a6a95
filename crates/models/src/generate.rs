//! Sampling text from an autoregressive model: [`generate`].
//!
//! A language model gives, for a sequence of tokens, the logits of the next one. Generation
//! is the loop every such model shares (GPT's, makemore's, an LSTM's):
//!
//! ```text
//! tokens = prompt
//! repeat at most max_len times:
//!     z = model.next_token_logits(the last context_len tokens) / temperature
//!     keep the top_k largest logits (the others become −∞)
//!     next ~ softmax(z)                  # a seeded multinomial draw
//!     stop if next is the end token; else append it
//! ```
//!
//! Temperature T rescales the logits: T < 1 sharpens the distribution towards the likeliest
//! tokens, T > 1 flattens it, and T = 0 is greedy decoding (always the arg-max, no draw).
//! A model is anything implementing [`Autoregressive`].
//!
//! ```
//! use tapegrad_models::generate::{generate, Autoregressive};
//! use tapegrad_tensor::Tensor;
//!
//! /// Counts to 3, then ends (token 0).
//! struct Counter;
//! impl Autoregressive<f64> for Counter {
//!     fn next_token_logits(&self, context: &[usize]) -> Tensor<f64> {
//!         let next = (context[context.len() - 1] + 1) % 4;
//!         Tensor::from_vec((0..4).map(|t| if t == next { 10.0 } else { 0.0 }).collect(), &[4])
//!     }
//!     fn end_token(&self) -> Option<usize> {
//!         Some(0)
//!     }
//! }
//! assert_eq!(generate(&Counter, &[0], 10, 0.0, None, 1), vec![1, 2, 3]); // greedy
//! assert_eq!(generate(&Counter, &[1], 10, 1.0, Some(1), 5), vec![2, 3]); // top-1 is greedy too
//! ```

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tapegrad_tensor::{no_grad, Float, Result, Tensor, TensorError};

/// A model that predicts the next token of a sequence.
pub trait Autoregressive<F: Float> {
    /// The logits of the token after `context` (at least one token, at most
    /// [`context_len`](Self::context_len)): a tensor of shape `[vocab]`.
    fn next_token_logits(&self, context: &[usize]) -> Tensor<F>;

    /// The longest context the model reads; [`generate`] passes only the last
    /// `context_len` tokens. `None` (the default): the whole sequence.
    fn context_len(&self) -> Option<usize> {
        None
    }

    /// The token that ends a sequence; generation stops when it is drawn (and does not
    /// return it). `None` (the default): generation always runs `max_len` tokens.
    fn end_token(&self) -> Option<usize> {
        None
    }
}

/// Up to `max_len` tokens drawn after `prompt` (see the [module docs](self)): the new
/// tokens only, without the end token. Temperature 0 decodes greedily; `top_k` keeps the k
/// likeliest tokens at each step (ties with the k-th are kept too). The same `seed` gives
/// the same tokens. Runs under `no_grad`; put a model with dropout in evaluation mode first.
///
/// # Errors
/// `generate` when the prompt is empty, the temperature is negative or not finite, `top_k`
/// is 0, or the model returns logits that are not `[vocab]` with every entry below +∞
/// (−∞ entries are tokens the model rules out).
pub fn try_generate<F: Float, M: Autoregressive<F> + ?Sized>(
    model: &M,
    prompt: &[usize],
    max_len: usize,
    temperature: f64,
    top_k: Option<usize>,
    seed: u64,
) -> Result<Vec<usize>> {
    let invalid = |shape: &[usize], rule: String| TensorError::InvalidArgument {
        op: "generate",
        shape: shape.to_vec(),
        rule,
    };
    if prompt.is_empty() {
        return Err(invalid(
            &[0],
            "the prompt is empty: start it with the model's start token".into(),
        ));
    }
    if !(temperature.is_finite() && temperature >= 0.0) {
        return Err(invalid(
            &[],
            format!("temperature = {temperature}; it must be finite and ≥ 0"),
        ));
    }
    if top_k == Some(0) {
        return Err(invalid(&[], "top_k = 0 leaves no token to draw".into()));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut tokens = prompt.to_vec();
    no_grad(|| {
        for _ in 0..max_len {
            let start = model
                .context_len()
                .map_or(0, |c| tokens.len().saturating_sub(c.max(1)));
            let logits = model.next_token_logits(&tokens[start..]);
            let vocab = match *logits.shape() {
                [v] if v > 0 => v,
                _ => {
                    return Err(invalid(
                        logits.shape(),
                        "next_token_logits must return a non-empty [vocab] tensor".into(),
                    ))
                }
            };
            if logits
                .value()
                .iter()
                .any(|z| z.is_nan() || *z == F::infinity())
            {
                return Err(invalid(
                    logits.shape(),
                    "the model's logits hold NaN or +∞".into(),
                ));
            }
            let next = if temperature == 0.0 {
                logits.argmax(0)[[]]
            } else {
                let mut z = logits.mul_scalar(F::from_f64(1.0 / temperature));
                if let Some(k) = top_k.filter(|&k| k < vocab) {
                    let (largest, _) = z.topk(k, 0, true, true);
                    let kth = largest.value()[[k - 1]];
                    z = z.masked_fill(&z.lt_scalar(kth), F::neg_infinity());
                }
                let probs = z.softmax(0);
                probs.try_multinomial(1, true, rng.next_u64())?[[0]]
            };
            if model.end_token() == Some(next) {
                break;
            }
            tokens.push(next);
        }
        Ok(tokens.split_off(prompt.len()))
    })
}

/// Panicking form of [`try_generate`].
#[track_caller]
pub fn generate<F: Float, M: Autoregressive<F> + ?Sized>(
    model: &M,
    prompt: &[usize],
    max_len: usize,
    temperature: f64,
    top_k: Option<usize>,
    seed: u64,
) -> Vec<usize> {
    try_generate(model, prompt, max_len, temperature, top_k, seed).unwrap_or_else(|e| panic!("{e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fixed next-token distribution over 4 tokens, whatever the context; remembers the
    /// longest context it was shown.
    struct Fixed {
        logits: Vec<f64>,
        window: Option<usize>,
        end: Option<usize>,
        longest: std::cell::Cell<usize>,
    }

    impl Fixed {
        fn new(probs: [f64; 4]) -> Self {
            Fixed {
                logits: probs.iter().map(|p| p.ln()).collect(),
                window: None,
                end: None,
                longest: std::cell::Cell::new(0),
            }
        }
    }

    impl Autoregressive<f64> for Fixed {
        fn next_token_logits(&self, context: &[usize]) -> Tensor<f64> {
            self.longest.set(self.longest.get().max(context.len()));
            Tensor::from_vec(self.logits.clone(), &[4])
        }
        fn context_len(&self) -> Option<usize> {
            self.window
        }
        fn end_token(&self) -> Option<usize> {
            self.end
        }
    }

    fn frequencies(tokens: &[usize]) -> [f64; 4] {
        let mut f = [0.0; 4];
        for &t in tokens {
            f[t] += 1.0 / tokens.len() as f64;
        }
        f
    }

    #[test]
    fn draws_follow_the_softmax_at_temperature_one() {
        let model = Fixed::new([0.1, 0.2, 0.3, 0.4]);
        let tokens = generate(&model, &[0], 20_000, 1.0, None, 3);
        assert_eq!(tokens.len(), 20_000);
        // Each frequency is within 4 standard errors (≤ 0.0035·4) of its probability.
        for (f, p) in frequencies(&tokens).iter().zip([0.1, 0.2, 0.3, 0.4]) {
            assert!((f - p).abs() < 0.014, "{f} against {p}");
        }
    }

    #[test]
    fn temperature_sharpens_and_flattens() {
        // At T, p_i ∝ p_i^(1/T): T = 0.5 squares the probabilities, T = 2 takes their root.
        let probs = [0.1, 0.2, 0.3, 0.4];
        for (temperature, power) in [(0.5, 2.0), (2.0, 0.5)] {
            let model = Fixed::new(probs);
            let tokens = generate(&model, &[0], 20_000, temperature, None, 4);
            let norm: f64 = probs.iter().map(|p: &f64| p.powf(power)).sum();
            for (f, p) in frequencies(&tokens).iter().zip(probs) {
                let expected = p.powf(power) / norm;
                assert!(
                    (f - expected).abs() < 0.015,
                    "T = {temperature}: {f} against {expected}"
                );
            }
        }
    }

    #[test]
    fn top_k_never_draws_outside_the_k_likeliest() {
        let model = Fixed::new([0.4, 0.1, 0.3, 0.2]);
        let tokens = generate(&model, &[0], 5_000, 1.0, Some(2), 5);
        let f = frequencies(&tokens);
        assert_eq!((f[1], f[3]), (0.0, 0.0));
        // Renormalised over the two kept: 4/7 and 3/7.
        assert!((f[0] - 4.0 / 7.0).abs() < 0.03, "{f:?}");
        // k at or above the vocabulary keeps everything.
        let all = generate(&model, &[0], 5_000, 1.0, Some(4), 5);
        assert_eq!(all, generate(&model, &[0], 5_000, 1.0, None, 5));
    }

    #[test]
    fn greedy_seeds_windows_and_the_end_token() {
        let mut model = Fixed::new([0.1, 0.2, 0.3, 0.4]);
        assert_eq!(generate(&model, &[0], 5, 0.0, None, 9), vec![3; 5]);
        assert_eq!(
            generate(&model, &[0], 50, 0.8, Some(3), 7),
            generate(&model, &[0], 50, 0.8, Some(3), 7)
        );
        assert_ne!(
            generate(&model, &[0], 50, 0.8, None, 7),
            generate(&model, &[0], 50, 0.8, None, 8)
        );
        model.window = Some(3);
        model.longest.set(0);
        generate(&model, &[0, 1], 20, 1.0, None, 1);
        assert_eq!(model.longest.get(), 3);
        model.end = Some(3);
        assert_eq!(generate(&model, &[0], 5, 0.0, None, 1), Vec::<usize>::new());
    }

    #[test]
    fn bad_arguments_are_errors_naming_generate() {
        let model = Fixed::new([0.25; 4]);
        for (prompt, temperature, top_k, needle) in [
            (&[][..], 1.0, None, "prompt is empty"),
            (&[0][..], -1.0, None, "temperature = -1"),
            (&[0][..], f64::NAN, None, "temperature = NaN"),
            (&[0][..], 1.0, Some(0), "top_k = 0"),
        ] {
            let e = try_generate(&model, prompt, 3, temperature, top_k, 0).unwrap_err();
            let text = e.to_string();
            assert!(text.contains("generate") && text.contains(needle), "{text}");
        }
        struct Bad;
        impl Autoregressive<f64> for Bad {
            fn next_token_logits(&self, _: &[usize]) -> Tensor<f64> {
                Tensor::zeros(&[2, 2])
            }
        }
        let text = try_generate(&Bad, &[0], 3, 1.0, None, 0)
            .unwrap_err()
            .to_string();
        assert!(
            text.contains("[vocab]") && text.contains("[2, 2]"),
            "{text}"
        );
    }
}
