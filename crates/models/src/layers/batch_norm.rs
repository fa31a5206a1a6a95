//! Batch normalisation (Ioffe & Szegedy, 2015): each channel (axis 1) normalised over the
//! batch and every other axis, then scaled and shifted by learned γ and β.
//!
//! ```text
//! training:    μ_c = mean of x[·, c, ·],   σ²_c = mean of (x[·, c, ·] − μ_c)²   (biased)
//!              y = (x − μ_c) / √(σ²_c + ε) · γ_c + β_c
//!              running_mean ← (1 − m)·running_mean + m·μ_c
//!              running_var  ← (1 − m)·running_var  + m·σ²_c · n/(n − 1)       (unbiased)
//! evaluation:  y = (x − running_mean_c) / √(running_var_c + ε) · γ_c + β_c
//! ```
//!
//! with n the number of values per channel (N, N·L or N·H·W) and m the momentum, 0.1 by
//! default; with momentum `None` the running statistics are the plain average of every batch
//! seen, m = 1/num_batches_tracked (PyTorch's cumulative average). Note the two variances:
//! the batch is normalised with the biased one, the running estimate takes the unbiased one —
//! PyTorch's (and the paper's) choice, kept so that statistics and saved files agree.
//!
//! The forward pass is a composite of tensor ops (mean, var, sqrt, broadcasting mul and add),
//! so the tape derives the backward rule, including the terms through μ and σ² that couple
//! every element of a channel, and second-order gradients come for free. The running
//! statistics are [buffers](crate::buffer): saved with the weights under PyTorch's names
//! `running_mean`, `running_var` and `num_batches_tracked`, never seen by an optimizer, and
//! updated behind `&self` (forward takes `&self`).

use ndarray::ArrayD;
use tapegrad_tensor::{no_grad, Float, Param, Tensor};

use crate::buffer::{Buffer, Counter};
use crate::module::Module;

/// How a batch normalisation layer behaves; `Default` gives PyTorch's defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BatchNormConfig {
    /// ε added to the variance before the square root (default 1e-5).
    pub eps: f64,
    /// The running statistics' update factor m (default `Some(0.1)`); `None` averages every
    /// batch seen equally (m = 1/num_batches_tracked).
    pub momentum: Option<f64>,
    /// Whether the layer learns γ (`weight`, initially 1) and β (`bias`, initially 0)
    /// (default true).
    pub affine: bool,
    /// Whether the layer keeps running statistics and uses them in evaluation mode (default
    /// true). Without them it normalises with the batch's statistics in both modes and has no
    /// buffers.
    pub track_running_stats: bool,
}

impl Default for BatchNormConfig {
    fn default() -> Self {
        BatchNormConfig {
            eps: 1e-5,
            momentum: Some(0.1),
            affine: true,
            track_running_stats: true,
        }
    }
}

/// Batch normalisation as a function: normalises `x` (shape `[N, C, ...]`) per channel of
/// axis 1, with the batch's own mean and biased variance when `running` is `None`, or with
/// the given `(mean, variance)` (each of shape `[C]`, taken as constants) otherwise; then
/// multiplies by `weight` and adds `bias` (shape `[C]`) when given. PyTorch's
/// `torch.nn.functional.batch_norm`, without the statistics update (the layers do that).
///
/// # Panics
/// When `x` has fewer than 2 axes, or a `[C]` argument does not match axis 1.
///
/// ```
/// use tapegrad_models::module::batch_norm;
/// use tapegrad_tensor::Tensor;
/// // One channel holding 1 and 3: μ = 2, σ² = 1, so y = [−1, 1]/√(1 + ε).
/// let x = Tensor::<f64>::from_vec(vec![1.0, 3.0], &[2, 1]);
/// let y = batch_norm(&x, None, None, None, 0.0);
/// assert_eq!(y.to_vec(), [-1.0, 1.0]);
/// ```
#[track_caller]
pub fn batch_norm<F: Float>(
    x: &Tensor<F>,
    running: Option<(&Tensor<F>, &Tensor<F>)>,
    weight: Option<&Tensor<F>>,
    bias: Option<&Tensor<F>>,
    eps: f64,
) -> Tensor<F> {
    assert!(
        x.ndim() >= 2,
        "batch_norm: x of shape {:?}; it needs a batch and a channel axis",
        x.shape()
    );
    let channels = x.shape()[1];
    let mut per_channel = vec![1; x.ndim()];
    per_channel[1] = channels;
    let along_channels = |t: &Tensor<F>, what: &str| {
        assert!(
            t.shape() == [channels],
            "batch_norm: {what} of shape {:?}; x of shape {:?} has {channels} channels",
            t.shape(),
            x.shape()
        );
        t.reshape(&per_channel)
    };
    let (mean, variance) = match running {
        Some((mean, variance)) => (
            along_channels(&mean.detach(), "running mean"),
            along_channels(&variance.detach(), "running variance"),
        ),
        None => {
            let axes: Vec<usize> = (0..x.ndim()).filter(|&a| a != 1).collect();
            (x.mean_axes(&axes, true), x.var_axes(&axes, 0, true))
        }
    };
    let mut y = (x - &mean) / variance.add_scalar(F::from_f64(eps)).sqrt();
    if let Some(weight) = weight {
        y = y * along_channels(weight, "weight");
    }
    if let Some(bias) = bias {
        y = y + along_channels(bias, "bias");
    }
    y
}

/// The state both batch normalisation layers share; [`BatchNorm1d`] and [`BatchNorm2d`]
/// dereference to it for the accessors.
#[derive(Debug)]
pub struct BatchNorm<F: Float> {
    /// "BatchNorm1d" or "BatchNorm2d", for messages.
    layer: &'static str,
    /// The input ranks accepted.
    ranks: &'static [usize],
    channels: usize,
    config: BatchNormConfig,
    weight: Option<Param<F>>,
    bias: Option<Param<F>>,
    running_mean: Option<Param<F>>,
    running_var: Option<Param<F>>,
    num_batches_tracked: Option<Counter>,
    training: bool,
}

impl<F: Float> BatchNorm<F> {
    fn new(
        layer: &'static str,
        ranks: &'static [usize],
        channels: usize,
        config: BatchNormConfig,
    ) -> Self {
        let filled = |name: &str, v: f64| {
            Param::new(name, ArrayD::from_elem(vec![channels], F::from_f64(v)))
        };
        let (affine, track) = (config.affine, config.track_running_stats);
        BatchNorm {
            layer,
            ranks,
            channels,
            config,
            weight: affine.then(|| filled("weight", 1.0)),
            bias: affine.then(|| filled("bias", 0.0)),
            running_mean: track.then(|| filled("running_mean", 0.0)),
            running_var: track.then(|| filled("running_var", 1.0)),
            num_batches_tracked: track.then(|| Counter::new(0)),
            training: true,
        }
    }

    /// The number of channels C.
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// The configuration it was built with.
    pub fn config(&self) -> &BatchNormConfig {
        &self.config
    }

    /// γ, shape `[C]` (`None` without `affine`).
    pub fn weight(&self) -> Option<&Param<F>> {
        self.weight.as_ref()
    }

    /// β, shape `[C]` (`None` without `affine`).
    pub fn bias(&self) -> Option<&Param<F>> {
        self.bias.as_ref()
    }

    /// The running mean, shape `[C]` (`None` without `track_running_stats`).
    pub fn running_mean(&self) -> Option<ArrayD<F>> {
        self.running_mean.as_ref().map(|p| (*p.value()).clone())
    }

    /// The running (unbiased) variance, shape `[C]` (`None` without `track_running_stats`).
    pub fn running_var(&self) -> Option<ArrayD<F>> {
        self.running_var.as_ref().map(|p| (*p.value()).clone())
    }

    /// How many training batches updated the running statistics (`None` without
    /// `track_running_stats`).
    pub fn num_batches_tracked(&self) -> Option<i64> {
        self.num_batches_tracked.as_ref().map(Counter::get)
    }

    /// Whether the layer is in training mode (the initial mode).
    pub fn is_training(&self) -> bool {
        self.training
    }

    #[track_caller]
    fn forward(&self, x: &Tensor<F>) -> Tensor<F> {
        let channels = self.channels;
        let shape = x.shape();
        if !self.ranks.contains(&shape.len()) || shape[1] != channels {
            let expected = match self.ranks {
                [2, 3] => format!("[N, {channels}] or [N, {channels}, L]"),
                _ => format!("[N, {channels}, H, W]"),
            };
            panic!("{}: x of shape {shape:?}; expected {expected}", self.layer);
        }
        let n = x.numel() / channels;
        let (weight, bias) = (
            self.weight.as_ref().map(Param::tensor),
            self.bias.as_ref().map(Param::tensor),
        );
        let stats = match (&self.running_mean, &self.running_var) {
            (Some(mean), Some(var)) if !self.training => {
                Some((mean.tensor().detach(), var.tensor().detach()))
            }
            _ => None,
        };
        if self.training && n <= 1 {
            panic!(
                "{}: x of shape {shape:?} has {n} value per channel; training needs more than 1",
                self.layer
            );
        }
        let y = batch_norm(
            x,
            stats.as_ref().map(|(m, v)| (m, v)),
            weight.as_ref(),
            bias.as_ref(),
            self.config.eps,
        );
        if self.training {
            self.update_running_stats(x);
        }
        y
    }

    /// running ← (1 − m)·running + m·batch statistic, with the unbiased batch variance.
    fn update_running_stats(&self, x: &Tensor<F>) {
        let (Some(mean), Some(var), Some(count)) = (
            &self.running_mean,
            &self.running_var,
            &self.num_batches_tracked,
        ) else {
            return;
        };
        let seen = count.increment();
        let m = self.config.momentum.unwrap_or(1.0 / seen as f64);
        let (m, keep) = (F::from_f64(m), F::from_f64(1.0 - m));
        let axes: Vec<usize> = (0..x.ndim()).filter(|&a| a != 1).collect();
        let (batch_mean, batch_var) = no_grad(|| {
            let x = x.detach();
            (
                x.mean_axes(&axes, false).to_array(),
                x.var_axes(&axes, 1, false).to_array(),
            )
        });
        let blend = |param: &Param<F>, batch: ArrayD<F>| {
            let next = &*param.value() * keep + batch * m;
            param.set_value(next).expect("a [C] statistic");
        };
        blend(mean, batch_mean);
        blend(var, batch_var);
    }

    fn named_parameters(&self) -> Vec<(String, Param<F>)> {
        [("weight", &self.weight), ("bias", &self.bias)]
            .into_iter()
            .filter_map(|(name, p)| p.as_ref().map(|p| (name.to_string(), p.clone())))
            .collect()
    }

    fn named_buffers(&self) -> Vec<(String, Buffer<F>)> {
        let mut buffers = Vec::new();
        if let (Some(mean), Some(var), Some(count)) = (
            &self.running_mean,
            &self.running_var,
            &self.num_batches_tracked,
        ) {
            buffers.push(("running_mean".to_string(), Buffer::Float(mean.clone())));
            buffers.push(("running_var".to_string(), Buffer::Float(var.clone())));
            buffers.push((
                "num_batches_tracked".to_string(),
                Buffer::Count(count.clone()),
            ));
        }
        buffers
    }
}

macro_rules! batch_norm_layer {
    ($name:ident, $ranks:expr, $input:literal) => {
        #[doc = concat!("Batch normalisation of input ", $input, " over every axis but the channel axis C.")]
        ///
        /// Starts in training mode; see the module docs for the formulas.
        #[derive(Debug)]
        pub struct $name<F: Float>(BatchNorm<F>);

        impl<F: Float> $name<F> {
            /// A layer for `channels` channels with PyTorch's defaults (ε = 1e-5, momentum
            /// 0.1, affine, tracking running statistics).
            pub fn new(channels: usize) -> Self {
                Self::with_config(channels, BatchNormConfig::default())
            }

            /// A layer for `channels` channels configured by `config`.
            pub fn with_config(channels: usize, config: BatchNormConfig) -> Self {
                $name(BatchNorm::new(stringify!($name), $ranks, channels, config))
            }
        }

        impl<F: Float> std::ops::Deref for $name<F> {
            type Target = BatchNorm<F>;
            fn deref(&self) -> &BatchNorm<F> {
                &self.0
            }
        }

        impl<F: Float> Module<F> for $name<F> {
            /// Normalises `x`; in training mode also updates the running statistics.
            ///
            /// # Panics
            #[doc = concat!("When `x` is not ", $input, " with C channels, or in training mode when a channel holds a single value.")]
            #[track_caller]
            fn forward(&self, x: &Tensor<F>) -> Tensor<F> {
                self.0.forward(x)
            }

            /// `weight` (γ) and `bias` (β), PyTorch's names (none without `affine`).
            fn named_parameters(&self) -> Vec<(String, Param<F>)> {
                self.0.named_parameters()
            }

            /// `running_mean`, `running_var` and `num_batches_tracked` (none without
            /// `track_running_stats`).
            fn named_buffers(&self) -> Vec<(String, Buffer<F>)> {
                self.0.named_buffers()
            }

            fn set_training(&mut self, training: bool) {
                self.0.training = training;
            }
        }
    };
}

batch_norm_layer!(BatchNorm1d, &[2, 3], "`[N, C]` or `[N, C, L]`");
batch_norm_layer!(BatchNorm2d, &[4], "`[N, C, H, W]`");

#[cfg(test)]
mod tests {
    use super::*;
    use tapegrad_tensor::grad;
    use tapegrad_tensor::gradcheck::gradcheck;

    fn values(t: &Tensor<f64>) -> Vec<f64> {
        t.to_vec()
    }

    fn close(got: &[f64], want: &[f64], tol: f64) {
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() <= tol, "got {got:?}, want {want:?}");
        }
    }

    #[test]
    fn training_normalises_with_the_biased_variance_and_tracks_the_unbiased_one() {
        // Channel 0 holds 1, 3 (μ = 2, σ² = 1, unbiased 2); channel 1 holds 4, 4 (μ = 4, σ² = 0).
        let bn = BatchNorm1d::<f64>::new(2);
        let x = Tensor::from_vec(vec![1.0, 4.0, 3.0, 4.0], &[2, 2]);
        let y = bn.forward(&x);
        let s = (1.0f64 + 1e-5).sqrt();
        close(&values(&y), &[-1.0 / s, 0.0, 1.0 / s, 0.0], 1e-12);
        // running_mean = 0.9·0 + 0.1·μ; running_var = 0.9·1 + 0.1·unbiased σ².
        close(
            bn.running_mean().unwrap().as_slice().unwrap(),
            &[0.2, 0.4],
            1e-12,
        );
        close(
            bn.running_var().unwrap().as_slice().unwrap(),
            &[1.1, 0.9],
            1e-12,
        );
        assert_eq!(bn.num_batches_tracked(), Some(1));
    }

    #[test]
    fn evaluation_uses_the_running_statistics_and_changes_nothing() {
        let mut bn = BatchNorm2d::<f64>::new(3);
        let x = Tensor::randn(&[4, 3, 2, 2], 1.0, 2.0, 1);
        bn.forward(&x);
        Module::<f64>::set_training(&mut bn, false);
        let (mean, var) = (bn.running_mean().unwrap(), bn.running_var().unwrap());
        let y = bn.forward(&x);
        assert_eq!(bn.num_batches_tracked(), Some(1));
        assert_eq!(bn.running_mean().unwrap(), mean);
        // y[n, c, h, w] = (x − running_mean_c)/√(running_var_c + ε).
        let (xv, yv) = (x.to_array(), y.to_array());
        for ((idx, &xe), &ye) in xv.indexed_iter().zip(yv.iter()) {
            let c = idx[1];
            let want = (xe - mean[c]) / (var[c] + 1e-5).sqrt();
            assert!((ye - want).abs() < 1e-12);
        }
    }

    #[test]
    fn momentum_none_is_the_cumulative_average() {
        let bn = BatchNorm1d::<f64>::with_config(
            1,
            BatchNormConfig {
                momentum: None,
                ..BatchNormConfig::default()
            },
        );
        // Batch means 2, 10 and 0: the running mean is their average, 4; batch unbiased
        // variances 2, 8 and 0.5 average to 3.5.
        for batch in [[1.0, 3.0], [8.0, 12.0], [-0.5, 0.5]] {
            bn.forward(&Tensor::from_vec(batch.to_vec(), &[2, 1]));
        }
        close(
            bn.running_mean().unwrap().as_slice().unwrap(),
            &[4.0],
            1e-12,
        );
        close(bn.running_var().unwrap().as_slice().unwrap(), &[3.5], 1e-12);
        assert_eq!(bn.num_batches_tracked(), Some(3));
    }

    #[test]
    fn parameters_and_buffers_follow_the_configuration() {
        let bn = BatchNorm1d::<f32>::new(4);
        let names = |v: Vec<String>| v;
        assert_eq!(
            names(bn.named_parameters().into_iter().map(|(n, _)| n).collect()),
            ["weight", "bias"]
        );
        assert_eq!(
            names(bn.named_buffers().into_iter().map(|(n, _)| n).collect()),
            ["running_mean", "running_var", "num_batches_tracked"]
        );
        assert_eq!(bn.parameters().len(), 2, "an optimizer sees only γ and β");
        let bare = BatchNorm2d::<f32>::with_config(
            4,
            BatchNormConfig {
                affine: false,
                track_running_stats: false,
                ..BatchNormConfig::default()
            },
        );
        assert!(bare.named_parameters().is_empty() && bare.named_buffers().is_empty());
        // Without running statistics, evaluation still normalises with the batch's.
        let mut bare = bare;
        Module::<f32>::set_training(&mut bare, false);
        let y = bare.forward(&Tensor::randn(&[3, 4, 2, 2], 5.0, 1.0, 2));
        assert!(y.mean().item().abs() < 1e-5);
        // With affine, [3, 4, 5] input: 1d with a length axis.
        assert_eq!(bn.forward(&Tensor::zeros(&[3, 4, 5])).shape(), &[3, 4, 5]);
    }

    #[test]
    fn gradients_pass_gradcheck_in_training_and_evaluation() {
        // [3, 2, 4]: the batch statistics couple all 12 values of a channel.
        let x = Tensor::<f64>::randn(&[3, 2, 4], 0.5, 2.0, 1).to_array();
        let gamma = Tensor::<f64>::randn(&[2], 1.0, 0.5, 2).to_array();
        let beta = Tensor::<f64>::randn(&[2], 0.0, 0.5, 3).to_array();
        gradcheck(
            "batch_norm train",
            |t| batch_norm(&t[0], None, Some(&t[1]), Some(&t[2]), 1e-5),
            &[x.clone(), gamma.clone(), beta.clone()],
        )
        .unwrap();
        let (mean, var) = (
            Tensor::from_vec(vec![0.3, -0.2], &[2]),
            Tensor::from_vec(vec![1.5, 0.7], &[2]),
        );
        gradcheck(
            "batch_norm eval",
            |t| batch_norm(&t[0], Some((&mean, &var)), Some(&t[1]), Some(&t[2]), 1e-5),
            &[x.clone(), gamma, beta],
        )
        .unwrap();
        // Second order: the Hessian-vector product H·v of L = Σ (y ⊙ w)² from the tape
        // matches the central difference of the tape's gradient, (∇L(x + hv) − ∇L(x − hv))/2h.
        let w = Tensor::<f64>::randn(&[4, 2, 3], 0.0, 1.0, 5);
        let v = Tensor::<f64>::randn(&[4, 2, 3], 0.0, 1.0, 6);
        let gradient = |x: &Tensor<f64>, create: bool| {
            let x = x.detach().requires_grad();
            let loss = (batch_norm(&x, None, None, None, 1e-5) * &w)
                .powf(2.0)
                .sum();
            (grad(&loss, &[&x], create).unwrap().remove(0), x)
        };
        let x0 = Tensor::<f64>::randn(&[4, 2, 3], 0.0, 1.0, 4);
        let (g, x) = gradient(&x0, true);
        let hv = grad(&(g * &v).sum(), &[&x], false).unwrap().remove(0);
        let h = 1e-5;
        let (plus, _) = gradient(&(&x0 + &(&v * h)), false);
        let (minus, _) = gradient(&(&x0 - &(&v * h)), false);
        let numerical = ((plus - minus) / (2.0 * h)).to_vec();
        close(&hv.to_vec(), &numerical, 1e-5);
        assert!(
            hv.to_vec().iter().any(|v| v.abs() > 0.1),
            "H·v is not trivially zero"
        );
    }

    #[test]
    fn the_layer_gradient_reaches_gamma_and_beta() {
        // L = Σ y with y = x̂·γ + β: ∂L/∂β_c = number of values in channel c (6), and
        // ∂L/∂γ_c = Σ x̂ = 0 (a normalised channel sums to zero).
        let bn = BatchNorm2d::<f64>::new(2);
        bn.forward(&Tensor::randn(&[3, 2, 1, 2], 0.0, 1.0, 7))
            .sum()
            .backward();
        close(
            bn.bias().unwrap().grad().unwrap().as_slice().unwrap(),
            &[6.0, 6.0],
            1e-12,
        );
        close(
            bn.weight().unwrap().grad().unwrap().as_slice().unwrap(),
            &[0.0, 0.0],
            1e-12,
        );
    }

    #[test]
    #[should_panic(expected = "BatchNorm2d: x of shape [2, 3, 4]; expected [N, 3, H, W]")]
    fn a_wrong_rank_names_the_shapes() {
        BatchNorm2d::<f64>::new(3).forward(&Tensor::zeros(&[2, 3, 4]));
    }

    #[test]
    #[should_panic(expected = "BatchNorm1d: x of shape [1, 3] has 1 value per channel")]
    fn training_on_one_value_per_channel_is_refused() {
        BatchNorm1d::<f64>::new(3).forward(&Tensor::zeros(&[1, 3]));
    }
}
