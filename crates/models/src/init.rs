//! Seeded weight initialisers. Every draw comes from a ChaCha8 generator seeded by the
//! caller (through `Tensor::rand_uniform`/`randn`), so the same seed gives the same weights
//! on every platform.
//!
//! ```text
//! Xavier/Glorot uniform:  U(−a, a),  a = √(6 / (fan_in + fan_out))   (Glorot & Bengio, 2010)
//! He/Kaiming normal:      N(0, σ²),  σ = √(2 / fan_in)               (He et al., 2015; for ReLU)
//! PyTorch's default:      U(−a, a),  a = 1/√fan_in   (kaiming_uniform(a=√5) for conv and linear
//!                                                     weights, and the same bound for biases)
//! ```

use ndarray::ArrayD;
use tapegrad_tensor::{Float, Tensor};

/// Xavier/Glorot uniform weights of shape `[fan_in, fan_out]`: keeps activations' variance
/// steady through tanh or sigmoid layers.
pub fn xavier_uniform<F: Float>(fan_in: usize, fan_out: usize, seed: u64) -> ArrayD<F> {
    let a = F::from_f64((6.0 / (fan_in + fan_out) as f64).sqrt());
    Tensor::rand_uniform(&[fan_in, fan_out], -a, a, seed).to_array()
}

/// He/Kaiming normal weights of shape `[fan_in, fan_out]`: keeps activations' variance
/// steady through ReLU layers, which zero half their inputs.
pub fn he_normal<F: Float>(fan_in: usize, fan_out: usize, seed: u64) -> ArrayD<F> {
    let std = F::from_f64((2.0 / fan_in as f64).sqrt());
    Tensor::randn(&[fan_in, fan_out], F::zero(), std, seed).to_array()
}

/// PyTorch's default initialisation of conv (and linear) layers: U(−a, a) with
/// a = 1/√fan_in, for an array of any `shape`. For weights this is PyTorch's
/// `kaiming_uniform_(w, a=√5)`, whose bound gain·√(3/fan_in) with gain = √(2/(1 + 5)) is
/// exactly 1/√fan_in; biases use the same bound. For a conv weight `[out, in/groups, kh, kw]`,
/// fan_in = in/groups·kh·kw.
pub fn pytorch_uniform<F: Float>(shape: &[usize], fan_in: usize, seed: u64) -> ArrayD<F> {
    let a = F::from_f64(1.0 / (fan_in.max(1) as f64).sqrt());
    Tensor::rand_uniform(shape, -a, a, seed).to_array()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_and_reproducibility() {
        let w = xavier_uniform::<f64>(300, 100, 1);
        let a = (6.0f64 / 400.0).sqrt();
        assert!(w.iter().all(|&x| x.abs() < a));
        let var = w.iter().map(|x| x * x).sum::<f64>() / w.len() as f64;
        assert!(
            (var - a * a / 3.0).abs() < 0.05 * a * a / 3.0,
            "uniform variance a²/3"
        );
        assert_eq!(
            w,
            xavier_uniform::<f64>(300, 100, 1),
            "same seed, same weights"
        );
        let u = pytorch_uniform::<f64>(&[16, 8, 3, 3], 72, 3);
        let bound = 1.0 / 72f64.sqrt();
        assert!(u.iter().all(|&x| x.abs() < bound));
        assert!(u.iter().any(|&x| x.abs() > 0.9 * bound), "fills the range");
        let h = he_normal::<f64>(200, 200, 2);
        let var = h.iter().map(|x| x * x).sum::<f64>() / h.len() as f64;
        assert!(
            (var - 0.01).abs() < 0.0005,
            "variance 2/fan_in = 0.01, got {var}"
        );
    }
}
