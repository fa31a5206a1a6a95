//! The models crate end to end, through the `tapegrad` facade: regressions against known
//! answers, a network's autodiff gradients against finite differences, and weights that
//! survive a save and load bit for bit while bad files are refused.

use proptest::prelude::*;
use tapegrad::models::io::{load, save, IoError};
use tapegrad::models::least_squares::fit_with_bias;
use tapegrad::models::loss::cross_entropy;
use tapegrad::models::module::{Activation, Embedding, LayerNorm, Linear, Module, Sequential};
use tapegrad::models::{LinearRegression, LogisticRegression};
use tapegrad::optim::stop::{StopReason, StopRules};
use tapegrad::optim::{Adam, AdamConfig, Optimizer, Sgd, SgdConfig};
use tapegrad::{no_grad, Float, Param, Tensor};

fn regression_data() -> (Tensor<f64>, Tensor<f64>) {
    let x = Tensor::<f64>::randn(&[60, 3], 0.0, 1.0, 11);
    let y = x.matmul(&Tensor::from_vec(vec![0.5, -1.0, 2.0], &[3, 1]))
        + 1.5
        + Tensor::randn(&[60, 1], 0.0, 0.3, 12);
    (x, y)
}

type MakeOptimizer = Box<dyn Fn(Vec<Param<f64>>) -> Box<dyn Optimizer<f64>>>;

fn sgd(lr: f64, momentum: f64) -> impl Fn(Vec<Param<f64>>) -> Box<dyn Optimizer<f64>> {
    move |p| {
        Box::new(
            Sgd::new(
                p,
                SgdConfig {
                    lr,
                    momentum,
                    ..Default::default()
                },
            )
            .unwrap(),
        )
    }
}

#[test]
fn linear_regression_reaches_the_closed_form_from_sgd_momentum_and_adam() {
    let (x, y) = regression_data();
    let exact = fit_with_bias(&x, &y).unwrap();
    let adam = |p| -> Box<dyn Optimizer<f64>> {
        Box::new(
            Adam::new(
                p,
                AdamConfig {
                    lr: 0.05,
                    ..Default::default()
                },
            )
            .unwrap(),
        )
    };
    let makers: [(&str, MakeOptimizer); 3] = [
        ("SGD", Box::new(sgd(0.5, 0.0))),
        ("momentum", Box::new(sgd(0.2, 0.9))),
        ("Adam", Box::new(adam)),
    ];
    for (name, make) in makers {
        let model = LinearRegression::new(3);
        let mut optimizer = make(model.params());
        let rules = StopRules {
            max_iters: Some(20_000),
            grad_norm_below: Some(1e-10),
            ..Default::default()
        };
        let report = model.fit(&x, &y, optimizer.as_mut(), rules);
        assert!(
            matches!(report.reason, StopReason::GradientNorm { .. }),
            "{name}: {report:?}"
        );
        let got: Vec<f64> = model.weights().into_iter().chain([model.bias()]).collect();
        for (g, e) in got.iter().zip(&exact) {
            assert!(
                (g - e).abs() < 1e-6,
                "{name}: {got:?} vs {exact:?} ({report:?})"
            );
        }
    }
}

/// Three Gaussian blobs centred 4σ apart: every point is on its own centre's side of the
/// perpendicular bisectors, so a linear classifier can and must reach 100%.
#[test]
fn logistic_regression_separates_separable_blobs() {
    let centres = [(-4.0, 0.0), (4.0, 0.0), (0.0, 6.0)];
    let noise = Tensor::<f64>::randn(&[150, 2], 0.0, 0.5, 3).to_vec();
    let mut points = Vec::new();
    let mut labels = Vec::new();
    for (i, chunk) in noise.chunks(2).enumerate() {
        let class = i % 3;
        points.extend([centres[class].0 + chunk[0], centres[class].1 + chunk[1]]);
        labels.push(class);
    }
    let x = Tensor::from_vec(points, &[150, 2]);
    let rules = StopRules {
        max_iters: Some(300),
        ..Default::default()
    };
    for classes in [2, 3] {
        let keep: Vec<usize> = (0..150).filter(|&i| labels[i] < classes).collect();
        let (x, y): (Tensor<f64>, Vec<usize>) = (
            x.index_select(0, &keep),
            keep.iter().map(|&i| labels[i]).collect(),
        );
        let model = LogisticRegression::new(2, classes);
        let mut adam = Adam::new(
            model.params(),
            AdamConfig {
                lr: 0.1,
                ..Default::default()
            },
        )
        .unwrap();
        let report = model.fit(&x, &y, &mut adam, rules.clone());
        assert_eq!(model.accuracy(&x, &y), 1.0, "{classes} classes: {report:?}");
        let p = model.predict_proba(&x).to_vec();
        for row in p.chunks(classes) {
            assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        }
    }
}

/// Central differences of the loss in every parameter element, by perturbing the module's
/// own parameters: this checks the module's real forward pass, not a re-implementation.
fn finite_difference_gradients(
    module: &dyn Module<f64>,
    loss: &dyn Fn() -> Tensor<f64>,
) -> Vec<Vec<f64>> {
    let h = 1e-6;
    module
        .parameters()
        .iter()
        .map(|p| {
            let original = (*p.value()).clone();
            let mut grads = Vec::new();
            for i in 0..original.len() {
                let at = |delta: f64| {
                    let mut shifted = original.clone();
                    shifted.as_slice_mut().unwrap()[i] += delta;
                    p.set_value(shifted).unwrap();
                    no_grad(loss).item()
                };
                grads.push((at(h) - at(-h)) / (2.0 * h));
            }
            p.set_value(original).unwrap();
            grads
        })
        .collect()
}

#[test]
fn a_two_layer_mlp_with_layer_norm_passes_gradcheck() {
    let mlp = Sequential::<f64>::new(vec![
        Box::new(Linear::new(3, 5, 1)),
        Box::new(LayerNorm::new(5)),
        Box::new(Activation::Tanh),
        Box::new(Linear::new(5, 3, 2)),
    ]);
    let x = Tensor::<f64>::randn(&[6, 3], 0.0, 1.0, 3);
    let labels = [0, 1, 2, 2, 1, 0];
    let loss = || cross_entropy(&mlp.forward(&x), &labels);
    loss().backward();
    let numeric = finite_difference_gradients(&mlp, &loss);
    for ((name, p), numeric) in mlp.named_parameters().iter().zip(numeric) {
        let tape = p.grad().unwrap();
        for (t, n) in tape.iter().zip(&numeric) {
            let scale = t.abs().max(n.abs()).max(1.0);
            assert!(
                (t - n).abs() < 1e-7 * scale,
                "{name}: tape {t} vs numeric {n}"
            );
        }
    }
}

fn network<F: Float>(seed: u64) -> Sequential<F> {
    Sequential::new(vec![
        Box::new(Embedding::new(10, 4, seed)),
        Box::new(Linear::new(4, 8, seed + 1)),
        Box::new(LayerNorm::new(8)),
        Box::new(Activation::Relu),
        Box::new(Linear::new(8, 2, seed + 2)),
    ])
}

fn temporary(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("tapegrad-models-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("model.safetensors")
}

/// Trains a little so that no parameter is at its initial value, saves, loads into a
/// differently seeded network, and compares every bit of every parameter and prediction.
fn round_trip<F: Float>(name: &str) {
    let path = temporary(name);
    let trained = network::<F>(1);
    let ids = Tensor::<F>::from_vec((0..10).map(|i| F::from_f64(i as f64)).collect(), &[10]);
    let mut adam = Adam::new(
        trained.parameters(),
        AdamConfig {
            lr: 0.01,
            ..Default::default()
        },
    )
    .unwrap();
    for _ in 0..5 {
        cross_entropy(&trained.forward(&ids), &[0, 1, 0, 1, 0, 1, 0, 1, 0, 1]).backward();
        adam.step();
        adam.zero_grad();
    }
    save(&trained, &path).unwrap();
    let restored = network::<F>(50);
    load(&restored, &path).unwrap();
    for ((n1, p1), (n2, p2)) in trained
        .named_parameters()
        .iter()
        .zip(restored.named_parameters())
    {
        assert_eq!(n1, &n2);
        let bits = |p: &Param<F>| {
            p.value()
                .iter()
                .map(|v| v.as_f64().to_bits())
                .collect::<Vec<_>>()
        };
        assert_eq!(bits(p1), bits(&p2), "{n1}");
    }
    let predictions = |m: &Sequential<F>| no_grad(|| m.forward(&ids)).to_vec();
    assert_eq!(predictions(&trained), predictions(&restored));
    std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
}

#[test]
fn save_then_load_is_bit_exact_in_f64_and_f32() {
    round_trip::<f64>("f64");
    round_trip::<f32>("f32");
}

#[test]
fn every_truncation_of_a_file_is_a_typed_error_and_changes_nothing() {
    let path = temporary("truncated");
    save(&network::<f64>(1), &path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let model = network::<f64>(2);
    let before: Vec<_> = model
        .parameters()
        .iter()
        .map(|p| (*p.value()).clone())
        .collect();
    for len in 0..bytes.len() {
        std::fs::write(&path, &bytes[..len]).unwrap();
        let error = load(&model, &path).expect_err("a truncated file must not load");
        assert!(
            matches!(error, IoError::Format { .. }),
            "{len} bytes: {error}"
        );
    }
    let after: Vec<_> = model
        .parameters()
        .iter()
        .map(|p| (*p.value()).clone())
        .collect();
    assert_eq!(before, after);
    std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
}

#[test]
fn a_file_for_another_model_names_the_tensor() {
    let path = temporary("mismatch");
    save(&Linear::<f64>::new(4, 8, 1), &path).unwrap();
    let error = load(&network::<f64>(2), &path).unwrap_err();
    assert!(
        matches!(&error, IoError::Missing { name, .. } if name == "0.weight"),
        "{error}"
    );
    assert!(error.to_string().contains("0.weight"), "{error}");
    let error = load(&Linear::<f64>::new(3, 8, 1), &path).unwrap_err();
    assert!(
        matches!(&error, IoError::Shape { name, .. } if name == "weight"),
        "{error}"
    );
    std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Fuzz-style: arbitrary bytes, and a valid file with a few bytes overwritten, load as an
    /// error or as a well-formed model, never as a panic.
    #[test]
    fn arbitrary_or_corrupted_bytes_never_panic(
        garbage in proptest::collection::vec(any::<u8>(), 0..200),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
    ) {
        let path = temporary(&format!("fuzz-{}", garbage.len()));
        let model = Linear::<f64>::new(3, 2, 1);
        std::fs::write(&path, &garbage).unwrap();
        let _ = load(&model, &path);
        save(&model, &path).unwrap();
        let mut bytes = std::fs::read(&path).unwrap();
        for (at, value) in &flips {
            let i = at.index(bytes.len());
            bytes[i] = *value;
        }
        std::fs::write(&path, &bytes).unwrap();
        if load(&model, &path).is_ok() {
            let weight = &model.parameters()[0];
            prop_assert_eq!(weight.shape(), &[2, 3]);
        }
        std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }
}
