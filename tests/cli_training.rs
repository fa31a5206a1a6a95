//! The command line's training options end to end: validation split and curve, early
//! stopping, resuming a saved run bit for bit, the regression losses, weight decay,
//! schedules, `compare --optimizers --lr` with its validation column, and `inspect`.

mod common;

use common::{fails, folder, ok, plane};
use tapegrad::models::io::load;
use tapegrad::models::trainer::checkpoint;
use tapegrad::models::LinearRegression;

/// 120 rows of y = a + b plus as much noise: a wide MLP first learns the signal, then
/// memorises the noise, so its validation loss falls and then rises.
fn noise() -> String {
    let mut state = 12345u64;
    let mut next = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut csv = String::from("a,b,c,y\n");
    for _ in 0..120 {
        let (a, b, c) = (next(), next(), next());
        csv.push_str(&format!("{a},{b},{c},{}\n", a + b + next()));
    }
    csv
}

#[test]
fn a_resumed_run_saves_the_bytes_of_an_uninterrupted_one() {
    let (csv, _) = plane();
    let dir = folder(&[("plane.csv", &csv)]);
    // Shuffled mini-batches, Adam's moments and a validation split: all carried over.
    let common = "fit --csv plane.csv --target y --standardize --optimizer adam --batch-size 8 --val-split 0.2";
    ok(
        dir.path(),
        &format!("{common} --epochs 30 --save whole.safetensors"),
    );
    ok(
        dir.path(),
        &format!("{common} --epochs 15 --save part.safetensors"),
    );
    let out = ok(
        dir.path(),
        &format!("{common} --epochs 30 --resume part.safetensors --save part.safetensors"),
    );
    assert!(out.contains("30 epochs"), "{out}");
    let whole = std::fs::read(dir.path().join("whole.safetensors")).unwrap();
    let resumed = std::fs::read(dir.path().join("part.safetensors")).unwrap();
    assert!(
        whole == resumed,
        "15 + resume + 15 epochs differ from 30 in one go"
    );
    let info = checkpoint::read_info(dir.path().join("whole.safetensors")).unwrap();
    assert_eq!(info.epoch, 30);
    ok(
        dir.path(),
        &format!("{common} --epochs 30 --schedule cosine --save cosine.safetensors"),
    );
    let info = checkpoint::read_info(dir.path().join("cosine.safetensors")).unwrap();
    let lrs: Vec<f64> = info.history.epochs.iter().map(|r| r.lr).collect();
    assert_eq!(lrs[0], 0.01, "adam's default rate in the first epoch");
    assert!(lrs[29] < 1e-4, "cosine annealing to 0: {lrs:?}");
}

#[test]
fn resuming_needs_a_checkpoint_and_a_first_order_optimizer() {
    let (csv, _) = plane();
    let dir = folder(&[("plane.csv", &csv)]);
    ok(
        dir.path(),
        "fit --csv plane.csv --target y --optimizer lbfgs --save weights.safetensors",
    );
    fails(
        dir.path(),
        "fit --csv plane.csv --target y --resume weights.safetensors",
        "holds weights but no training state",
    );
    fails(
        dir.path(),
        "fit --csv plane.csv --target y --optimizer lbfgs --resume weights.safetensors",
        "L-BFGS runs cannot resume",
    );
    ok(
        dir.path(),
        "fit --csv plane.csv --target y --epochs 3 --save run.safetensors",
    );
    fails(
        dir.path(),
        "fit --csv plane.csv --target y --model mlp --epochs 6 --resume run.safetensors",
        "run.safetensors",
    );
}

#[test]
fn early_stopping_watches_the_validation_loss_and_keeps_the_best_epoch() {
    let dir = folder(&[("noise.csv", &noise())]);
    let out = ok(
        dir.path(),
        "fit --csv noise.csv --target y --task regression --model mlp --hidden 64,64 --optimizer adam --lr 0.01 --epochs 2000 --val-split 0.25 --patience 10 --save best.safetensors --plot curves.svg",
    );
    assert!(out.contains("stopped: early stopping at epoch"), "{out}");
    assert!(out.contains("its weights were restored"), "{out}");
    assert!(out.contains("val:   MSE"), "{out}");
    let info = checkpoint::read_info(dir.path().join("best.safetensors")).unwrap();
    let val = info.history.val_losses();
    let best = val.iter().copied().fold(f64::INFINITY, f64::min);
    let last_epoch = info.history.epochs.len();
    assert!(last_epoch < 2000, "stopped early");
    assert!(
        val[last_epoch] > best,
        "the last epoch is worse than the best"
    );
    let svg = std::fs::read_to_string(dir.path().join("curves.svg")).unwrap();
    assert!(svg.contains("training loss") && svg.contains("validation loss"));
    fails(
        dir.path(),
        "fit --csv noise.csv --target y --patience 5",
        "--patience watches the validation loss: give --val-split",
    );
    fails(
        dir.path(),
        "fit --csv noise.csv --target y --val-split 1.5",
        "--val-split 1.5: it must be in [0, 1)",
    );
}

#[test]
fn losses_weight_decay_and_schedules_change_the_fit_as_they_should() {
    // One wild outlier: the mean absolute error and Huber pull the line less than MSE.
    let (mut csv, _) = plane();
    csv.push_str("0.5,0.5,1000\n");
    let dir = folder(&[("plane.csv", &csv)]);
    let fit = |extra: &str, name: &str| {
        ok(
            dir.path(),
            &format!("fit --csv plane.csv --target y --test-split 0 --optimizer adam --lr 0.05 --epochs 3000 {extra} --save {name}"),
        );
        let model = LinearRegression::<f64>::new(2);
        load(&model, dir.path().join(name)).unwrap();
        (model.weights(), model.bias())
    };
    let off = |(w, b): &(Vec<f64>, f64)| (w[0] - 2.0).abs() + (w[1] + 3.0).abs() + (b - 1.0).abs();
    let squared = fit("", "mse.safetensors");
    let absolute = fit("--loss mae", "mae.safetensors");
    let huber = fit("--loss huber", "huber.safetensors");
    assert!(
        off(&absolute) < off(&squared) / 10.0,
        "{absolute:?} vs {squared:?}"
    );
    assert!(
        off(&huber) < off(&squared) / 10.0,
        "{huber:?} vs {squared:?}"
    );
    let decayed = fit("--weight-decay 1", "decayed.safetensors");
    let norm = |(w, _): &(Vec<f64>, f64)| w.iter().map(|v| v * v).sum::<f64>();
    assert!(norm(&decayed) < 0.5 * norm(&squared), "{decayed:?}");
    let inspected = ok(dir.path(), "inspect mae.safetensors");
    assert!(inspected.contains("loss: mae"), "{inspected}");
    let step = fit("--schedule step", "step.safetensors");
    assert_ne!(step, squared);
    let info = checkpoint::read_info(dir.path().join("step.safetensors")).unwrap();
    let lr = |epoch: usize| info.history.epochs[epoch - 1].lr;
    assert_eq!((lr(1), lr(1000)), (0.05, 0.05));
    assert!((lr(1001) - 0.005).abs() < 1e-15 && (lr(2001) - 0.0005).abs() < 1e-15);
    fails(
        dir.path(),
        "fit --csv plane.csv --target y --model logistic --task classification --loss mae",
        "--loss applies to regression",
    );
    fails(
        dir.path(),
        "fit --csv plane.csv --target y --weight-decay -1",
        "--weight-decay -1: it must be a number ≥ 0",
    );
    fails(
        dir.path(),
        "fit --csv plane.csv --target y --optimizer lbfgs --schedule cosine",
        "--schedule: L-BFGS takes no learning rate",
    );
}

#[test]
fn inspect_shows_the_model_its_tensors_and_coefficients_in_the_data_units() {
    let (csv, _) = plane();
    let dir = folder(&[("plane.csv", &csv)]);
    ok(
        dir.path(),
        "fit --csv plane.csv --target y --standardize --optimizer lbfgs --save plane.safetensors",
    );
    let out = ok(dir.path(), "inspect plane.safetensors");
    assert!(out.contains("model: linear regression"), "{out}");
    assert!(out.contains("features: x1, x2"), "{out}");
    assert!(out.contains("training: weights only"), "{out}");
    assert!(out.contains("weight") && out.contains("[1, 2]"), "{out}");
    // y = 2·x1 − 3·x2 + 1, whatever the standardisation did to the stored weights.
    let coefficient = |name: &str| -> f64 {
        let line = out
            .lines()
            .find(|l| l.trim_start().starts_with(name) && !l.contains('['))
            .unwrap_or_else(|| panic!("no {name} line in {out}"));
        line.split_whitespace().last().unwrap().parse().unwrap()
    };
    assert!((coefficient("x1") - 2.0).abs() < 1e-6, "{out}");
    assert!((coefficient("x2") + 3.0).abs() < 1e-6, "{out}");
    assert!((coefficient("intercept") - 1.0).abs() < 1e-6, "{out}");

    ok(
        dir.path(),
        "fit --csv plane.csv --target y --epochs 5 --save run.safetensors",
    );
    let out = ok(dir.path(), "inspect run.safetensors");
    assert!(out.contains("training: 5 epochs"), "{out}");
    assert!(out.contains("optimizer.steps"), "{out}");
    fails(dir.path(), "inspect plane.csv", "plane.csv");
}

#[test]
fn compare_takes_a_list_of_optimizers_and_one_rate_and_shows_validation_loss() {
    let dir = folder(&[("noise.csv", &noise())]);
    let out = ok(
        dir.path(),
        "compare --csv noise.csv --target y --task regression --optimizers sgd,adam,lbfgs --lr 0.05 --epochs 50",
    );
    let header = out.lines().find(|l| l.starts_with("optimizer")).unwrap();
    assert!(
        header.contains("val loss") && header.contains("train loss"),
        "{out}"
    );
    let rows: Vec<&str> = out
        .lines()
        .filter(|l| {
            ["sgd", "adam", "lbfgs", "momentum"]
                .iter()
                .any(|n| l.starts_with(n))
        })
        .collect();
    assert_eq!(rows.len(), 3, "{out}");
    assert!(
        rows[0].contains("0.05") && rows[1].contains("0.05"),
        "{out}"
    );
    for row in &rows {
        let numbers: Vec<f64> = row
            .split_whitespace()
            .filter_map(|w| w.parse().ok())
            .filter(|v: &f64| v.fract() != 0.0 || *v > 100.0)
            .collect();
        assert!(!numbers.is_empty(), "{row}");
    }
    assert!(out.contains("validation rows"), "{out}");
}
