use super::*;
use crate::loss::{cross_entropy, mse};
use crate::module::{Activation, Dropout, Linear, Sequential};
use std::path::Path;
use tapegrad_optim::schedule::{CosineAnnealingLR, PlateauConfig};
use tapegrad_optim::{Adam, AdamConfig, LbfgsConfig, Sgd, SgdConfig};

/// y = 3x₀ − 2x₁ + 0.5 plus a little seeded noise, on `n` rows.
fn regression(n: usize, seed: u64) -> DataLoader<f64, Tensor<f64>> {
    let x = Tensor::<f64>::randn(&[n, 2], 0.0, 1.0, seed);
    let noise = Tensor::<f64>::randn(&[n, 1], 0.0, 0.1, seed + 1);
    let w = Tensor::from_vec(vec![3.0, -2.0], &[2, 1]);
    let y = x.matmul(&w) + 0.5 + noise;
    DataLoader::new(x, y, n)
}

fn sgd(model: &dyn Module<f64>, lr: f64) -> Sgd<f64> {
    Sgd::new(
        model.parameters(),
        SgdConfig {
            lr,
            ..Default::default()
        },
    )
    .unwrap()
}

fn values(model: &dyn Module<f64>) -> Vec<Vec<f64>> {
    model
        .parameters()
        .iter()
        .map(|p| p.value().iter().copied().collect())
        .collect()
}

#[test]
fn full_batch_sgd_is_the_hand_written_loop_bit_for_bit() {
    let data = regression(30, 1);
    let mut model = Linear::<f64>::zeros(2, 1);
    let mut optimizer = sgd(&model, 0.1);
    let history = Trainer::new(25, mse)
        .fit(&mut model, &mut optimizer, &data, None)
        .unwrap();

    let by_hand = Linear::<f64>::zeros(2, 1);
    let mut optimizer = sgd(&by_hand, 0.1);
    let mut losses = Vec::new();
    for _ in 0..25 {
        optimizer.zero_grad();
        let loss = mse(&by_hand.forward(data.x()), data.y());
        loss.backward();
        losses.push(loss.item());
        optimizer.step();
    }
    assert_eq!(values(&model), values(&by_hand));
    // The running loss of a full-batch epoch is the loss at the weights it started from.
    assert_eq!(history.train_losses()[1..], losses[..]);
    assert_eq!(history.start.as_ref().unwrap().train_loss, losses[0]);
    assert_eq!(history.epochs.len(), 25);
    assert_eq!(history.stop, Some(Stop::EpochBudget { epochs: 25 }));
}

#[test]
fn evaluated_training_loss_is_the_loss_of_the_weights_at_the_epoch_end() {
    let data = regression(20, 2);
    let mut model = Linear::<f64>::zeros(2, 1);
    let mut optimizer = sgd(&model, 0.1);
    let history = Trainer::new(3, mse)
        .train_loss(TrainLoss::Evaluate)
        .fit(&mut model, &mut optimizer, &data, None)
        .unwrap();
    let now = no_grad(|| mse(&model.forward(data.x()), data.y()).item());
    assert_eq!(history.last().unwrap().train_loss, now);
}

/// An MLP with dropout, trained with Adam on shuffled mini-batches under a cosine schedule,
/// with early stopping and a validation set: every part a checkpoint must carry.
fn run(
    epochs: usize,
    checkpoint: Option<&Path>,
    resume: Option<&Path>,
) -> (Vec<Vec<f64>>, History) {
    let (train, val) = {
        let data = regression(48, 3);
        let loader = DataLoader::new(data.x().clone(), data.y().clone(), 10).shuffle(4);
        loader.split(0.25, 5)
    };
    let mut model = Sequential::<f64>::new(vec![
        Box::new(Linear::new(2, 16, 6)),
        Box::new(Activation::Tanh),
        Box::new(Dropout::new(0.2, 7)),
        Box::new(Linear::new(16, 1, 8)),
    ]);
    let mut adam = Adam::new(
        model.parameters(),
        AdamConfig {
            lr: 0.02,
            ..Default::default()
        },
    )
    .unwrap();
    let cosine = CosineAnnealingLR::new(&mut adam, 12, 1e-4).unwrap();
    let mut trainer = Trainer::new(epochs, mse)
        .schedule(Schedule::Epoch(Box::new(cosine)))
        .early_stopping(EarlyStopping::new(50))
        .clip(Clip::Norm(5.0));
    if let Some(path) = checkpoint {
        trainer = trainer.checkpoint(path, 1);
    }
    if let Some(path) = resume {
        trainer = trainer.resume(path);
    }
    let history = trainer
        .fit(&mut model, &mut adam, &train, Some(&val))
        .unwrap();
    (values(&model), history)
}

fn without_times(history: &History) -> Vec<EpochRecord> {
    history
        .records()
        .cloned()
        .map(|r| EpochRecord { seconds: 0.0, ..r })
        .collect()
}

#[test]
fn n_epochs_equal_half_then_resume_then_half_bit_for_bit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.safetensors");
    let (whole, whole_history) = run(12, None, None);
    let (_, first) = run(6, Some(&path), None);
    assert_eq!(first.epochs.len(), 6);
    let info = checkpoint::read_info(&path).unwrap();
    assert_eq!(info.epoch, 6);
    let (resumed, history) = run(12, None, Some(&path));
    assert_eq!(resumed, whole, "the weights differ after resuming");
    assert_eq!(without_times(&history), without_times(&whole_history));
    assert_eq!(history.stop, whole_history.stop);
    // The checkpoint's weights load as a plain weights file too.
    let fresh = Sequential::<f64>::new(vec![
        Box::new(Linear::new(2, 16, 60)),
        Box::new(Activation::Tanh),
        Box::new(Dropout::new(0.2, 70)),
        Box::new(Linear::new(16, 1, 80)),
    ]);
    crate::io::load(&fresh, &path).unwrap();
}

#[test]
fn resuming_from_plain_weights_says_what_the_file_is() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("weights.safetensors");
    let mut model = Linear::<f64>::zeros(2, 1);
    crate::io::save(&model, &path).unwrap();
    let mut optimizer = sgd(&model, 0.1);
    let err = Trainer::new(3, mse)
        .resume(&path)
        .fit(&mut model, &mut optimizer, &regression(10, 1), None)
        .unwrap_err();
    assert!(err.to_string().contains("not a checkpoint"), "{err}");
}

#[test]
fn early_stopping_restores_the_best_epoch() {
    // Validation targets of the opposite sign: the better the fit, the worse the
    // validation loss after the first few epochs.
    let train = regression(30, 9);
    let val = DataLoader::new(train.x().clone(), train.y() * -1.0, 30);
    let mut model = Linear::<f64>::zeros(2, 1);
    let mut optimizer = sgd(&model, 0.05);
    let history = Trainer::new(100, mse)
        .early_stopping(EarlyStopping::new(3))
        .fit(&mut model, &mut optimizer, &train, Some(&val))
        .unwrap();
    let Some(Stop::EarlyStopping {
        epoch,
        best_epoch,
        best,
        restored: true,
        ..
    }) = history.stop
    else {
        panic!("{:?}", history.stop)
    };
    assert_eq!(epoch, best_epoch + 3);
    assert_eq!(history.restored_epoch, Some(best_epoch));
    let now = no_grad(|| mse(&model.forward(val.x()), val.y()).item());
    assert_eq!(now, best);
    // The kept record describes the restored weights, not the last epoch's.
    let kept = history.kept().unwrap();
    assert_eq!((kept.epoch, kept.val_loss), (best_epoch, Some(now)));
    assert_ne!(history.last().unwrap().val_loss, Some(now));
}

#[test]
fn without_a_restore_the_kept_record_is_the_last() {
    let data = regression(20, 1);
    let mut model = Linear::<f64>::zeros(2, 1);
    let mut optimizer = sgd(&model, 0.1);
    let history = Trainer::new(4, mse)
        .fit(&mut model, &mut optimizer, &data, Some(&data))
        .unwrap();
    assert_eq!(history.kept(), history.last());
    assert_eq!(history.kept().unwrap().epoch, 4);
    let untrained = History {
        start: history.start.clone(),
        ..History::default()
    };
    assert_eq!(untrained.kept().unwrap().epoch, 0);
}

#[test]
fn callbacks_see_every_step_and_can_stop() {
    let data = DataLoader::new(
        regression(25, 1).x().clone(),
        regression(25, 1).y().clone(),
        10,
    );
    let mut model = Linear::<f64>::zeros(2, 1);
    let mut optimizer = sgd(&model, 0.1);
    let mut steps = Vec::new();
    let mut epochs_seen = Vec::new();
    let history = Trainer::new(10, mse)
        .callback(|event| match event {
            Event::Step { epoch, step, .. } => {
                steps.push((*epoch, *step));
                Control::Continue
            }
            Event::Epoch(record) if record.epoch == 2 => Control::Stop("enough".into()),
            Event::Epoch(record) => {
                epochs_seen.push(record.epoch);
                Control::Continue
            }
        })
        .fit(&mut model, &mut optimizer, &data, None)
        .unwrap();
    assert_eq!(epochs_seen, [0, 1]);
    assert_eq!(steps, [(1, 0), (1, 1), (1, 2), (2, 0), (2, 1), (2, 2)]);
    assert_eq!(
        history.stop,
        Some(Stop::Callback {
            epoch: 2,
            reason: "enough".into()
        })
    );
    assert_eq!(history.epochs.len(), 2);
}

#[test]
fn a_step_budget_ends_the_run_mid_epoch_and_counts_across_a_resume() {
    // 25 rows in batches of 10: three steps an epoch, so 7 steps end in epoch 3's first.
    let data = DataLoader::new(
        regression(25, 1).x().clone(),
        regression(25, 1).y().clone(),
        10,
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.safetensors");
    let train = |budget: usize, resume: bool, model: &mut Linear<f64>| {
        let mut optimizer = sgd(model, 0.1);
        let mut steps = Vec::new();
        let mut trainer = Trainer::new(10, mse)
            .max_steps(budget)
            .checkpoint(&path, 1)
            .callback(|event| {
                if let Event::Step { epoch, step, .. } = event {
                    steps.push((*epoch, *step));
                }
                Control::Continue
            });
        if resume {
            trainer = trainer.resume(&path);
        }
        let history = trainer.fit(model, &mut optimizer, &data, None).unwrap();
        drop(trainer);
        (history, steps)
    };
    let mut model = Linear::<f64>::zeros(2, 1);
    let (history, steps) = train(7, false, &mut model);
    assert_eq!(steps.len(), 7);
    assert_eq!(steps.last(), Some(&(3, 0)));
    assert_eq!(history.epochs.len(), 3, "the partial epoch is recorded");
    assert_eq!(history.stop, Some(Stop::StepBudget { steps: 7 }));
    assert!(history.stop.unwrap().to_string().contains("all 7 steps"));

    // Resumed with a budget of 9: two more steps, in epoch 4 (epoch 3's rest is skipped).
    let (history, steps) = train(9, true, &mut model);
    assert_eq!(steps, [(4, 0), (4, 1)]);
    assert_eq!(history.epochs.len(), 4);
    assert_eq!(history.stop, Some(Stop::StepBudget { steps: 9 }));
    // A budget already spent trains nothing.
    let before = values(&model);
    let (history, steps) = train(9, true, &mut model);
    assert!(steps.is_empty());
    assert_eq!((history.epochs.len(), values(&model)), (4, before));
}

#[test]
fn a_non_finite_batch_loss_stops_before_it_reaches_the_weights() {
    let data = regression(20, 1);
    let mut model = Linear::<f64>::zeros(2, 1);
    let mut optimizer = sgd(&model, 1e3);
    let history = Trainer::new(1000, mse)
        .fit(&mut model, &mut optimizer, &data, None)
        .unwrap();
    assert!(
        history.stop.as_ref().unwrap().diverged(),
        "{:?}",
        history.stop
    );
    assert!(values(&model).iter().flatten().all(|v| v.is_finite()));
}

#[test]
fn clipping_bounds_the_step_and_reports_the_norm() {
    let data = regression(20, 1);
    let mut model = Linear::<f64>::zeros(2, 1);
    let mut optimizer = sgd(&model, 1.0);
    let mut norms = Vec::new();
    Trainer::new(1, mse)
        .clip(Clip::Norm(0.01))
        .callback(|event| {
            if let Event::Step { grad_norm, .. } = event {
                norms.push(grad_norm.unwrap());
            }
            Control::Continue
        })
        .fit(&mut model, &mut optimizer, &data, None)
        .unwrap();
    assert!(norms[0] > 1.0);
    let moved: f64 = values(&model)
        .iter()
        .flatten()
        .map(|v| v * v)
        .sum::<f64>()
        .sqrt();
    assert!((moved - 0.01).abs() < 1e-6, "{moved}");
}

#[test]
fn a_plateau_schedule_lowers_the_rate_on_the_monitored_value() {
    let train = regression(30, 9);
    let val = DataLoader::new(train.x().clone(), train.y() * -1.0, 30);
    let mut model = Linear::<f64>::zeros(2, 1);
    let mut optimizer = sgd(&model, 0.05);
    let plateau = ReduceLROnPlateau::new(
        &optimizer,
        PlateauConfig {
            patience: 1,
            factor: 0.5,
            ..Default::default()
        },
    )
    .unwrap();
    let history = Trainer::new(12, mse)
        .schedule(Schedule::Plateau(plateau, Monitor::ValLoss))
        .fit(&mut model, &mut optimizer, &train, Some(&val))
        .unwrap();
    let lrs: Vec<f64> = history.epochs.iter().map(|r| r.lr).collect();
    assert_eq!(lrs[0], 0.05);
    assert!(lrs.last().unwrap() < &0.01, "{lrs:?}");
}

#[test]
fn settings_that_cannot_work_are_refused_before_training() {
    let data = regression(10, 1);
    let mut model = Linear::<f64>::zeros(2, 1);
    let mut optimizer = sgd(&model, 0.1);
    let err = Trainer::new(3, mse)
        .early_stopping(EarlyStopping::new(2))
        .fit(&mut model, &mut optimizer, &data, None)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Trainer: the validation loss is monitored but fit got no validation loader"
    );
    let err = Trainer::new(3, mse)
        .early_stopping(EarlyStopping::new(2).monitor(Monitor::Metric {
            name: "r2".into(),
            higher_is_better: true,
        }))
        .fit(&mut model, &mut optimizer, &data, Some(&data))
        .unwrap_err();
    assert!(err.to_string().contains("\"r2\""), "{err}");
    assert_eq!(
        values(&model),
        [vec![0.0, 0.0], vec![0.0]],
        "nothing trained"
    );
}

#[test]
fn lbfgs_reaches_the_least_squares_solution_through_its_closure() {
    let data = regression(40, 11);
    let mut model = Linear::<f64>::zeros(2, 1);
    let mut config = LbfgsConfig::default();
    config.step.tolerance_grad = 1e-12;
    config.step.tolerance_change = 0.0;
    config.step.line_search_fn = tapegrad_optim::LineSearchFn::StrongWolfe;
    let mut lbfgs = Lbfgs::new(model.parameters(), config).unwrap();
    let history = Trainer::new(30, mse)
        .stop_rules(StopRules {
            grad_norm_below: Some(1e-10),
            ..Default::default()
        })
        .fit_lbfgs(&mut model, &mut lbfgs, &data, None)
        .unwrap();
    assert!(
        history.stop.as_ref().unwrap().converged(),
        "{:?} {:?}",
        history.stop,
        history.epochs
    );
    let exact = crate::least_squares::fit_with_bias(data.x(), data.y()).unwrap();
    let w = model.weight().value();
    for (got, want) in [w[[0, 0]], w[[0, 1]], model.bias().value()[0]]
        .iter()
        .zip(exact.iter())
    {
        assert!(
            (got - want).abs() < 1e-7,
            "{got} vs {want} {:?} {:?}",
            history.stop,
            history
                .epochs
                .iter()
                .map(|r| (r.train_loss, r.grad_norm))
                .collect::<Vec<_>>()
        );
    }
}

#[test]
fn metrics_are_measured_on_the_validation_data() {
    let x = Tensor::<f64>::randn(&[40, 2], 0.0, 1.0, 1);
    let labels: Vec<usize> = x
        .value()
        .rows()
        .into_iter()
        .map(|r| usize::from(r[0] > r[1]))
        .collect();
    let loader = DataLoader::new(x, labels, 8).shuffle(2);
    let (train, val) = loader.stratified_split(0.25, 3);
    let mut model = Linear::<f64>::zeros(2, 2);
    let mut optimizer = sgd(&model, 0.5);
    let accuracy = |logits: &Tensor<f64>, y: &Vec<usize>| {
        let predicted: Vec<usize> = logits
            .value()
            .rows()
            .into_iter()
            .map(|r| usize::from(r[1] > r[0]))
            .collect();
        crate::metrics::accuracy(y, &predicted)
    };
    let history = Trainer::new(30, |logits: &Tensor<f64>, y: &Vec<usize>| {
        cross_entropy(logits, y)
    })
    .metric("accuracy", accuracy)
    .fit(&mut model, &mut optimizer, &train, Some(&val))
    .unwrap();
    let last = history.last().unwrap();
    let logits = no_grad(|| model.forward(val.x()));
    assert_eq!(last.metrics["accuracy"], accuracy(&logits, val.y()));
    assert!(last.metrics["accuracy"] >= 0.9, "{last:?}");
    assert_eq!(
        history.metric("accuracy").len(),
        31,
        "epoch 0 is measured too"
    );
}
