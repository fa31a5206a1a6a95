//! Learning-rate schedulers against the rates torch.optim.lr_scheduler set, pinned from
//! `tests/pytorch/optim_reference.py` (torch 2.15). Every case drives a two-group SGD whose
//! groups start at 1.0 and 0.5, so each group must be scheduled from its own base rate; the
//! sequences hold the rates before the first step and after each `scheduler.step()`.

use tapegrad_optim::schedule::*;
use tapegrad_optim::{LrGroups, Optimizer, ParamGroup, Sgd, SgdConfig};
use tapegrad_tensor::Param;

const COSINE_ISSUE_0: [f64; 3] = [1.0, 0.0, 1.0];
const COSINE_0: [f64; 11] = [
    1.0,
    0.775,
    0.3250000000000001,
    0.1,
    0.32499999999999996,
    0.7750000000000005,
    1.0000000000000007,
    0.7750000000000007,
    0.3250000000000005,
    0.1,
    0.32499999999999996,
];
const COSINE_1: [f64; 11] = [
    0.5,
    0.4,
    0.20000000000000007,
    0.1,
    0.19999999999999998,
    0.40000000000000024,
    0.5000000000000003,
    0.40000000000000036,
    0.20000000000000026,
    0.1,
    0.19999999999999998,
];
const WARM_RESTARTS_0: [f64; 17] = [
    1.0,
    0.7625,
    0.2875000000000001,
    1.0,
    0.9363620667976085,
    0.7625,
    0.525,
    0.2875000000000001,
    0.11363793320239161,
    1.0,
    0.9838147674873075,
    0.9363620667976085,
    0.8608757210636101,
    0.7625,
    0.6479390464236974,
    0.525,
    0.40206095357630267,
];
const WARM_RESTARTS_1: [f64; 17] = [
    0.5,
    0.3875,
    0.16250000000000006,
    0.5,
    0.4698557158514987,
    0.3875,
    0.275,
    0.16250000000000006,
    0.08014428414850129,
    0.5,
    0.49233331091504035,
    0.4698557158514987,
    0.4340990257669732,
    0.3875,
    0.3332342851480672,
    0.275,
    0.21676571485193286,
];
const WARM_RESTARTS_1_0: [f64; 10] = [
    1.0,
    0.8535533905932737,
    0.5,
    0.14644660940672627,
    1.0,
    0.8535533905932737,
    0.5,
    0.14644660940672627,
    1.0,
    0.8535533905932737,
];
const WARM_RESTARTS_1_1: [f64; 10] = [
    0.5,
    0.42677669529663687,
    0.25,
    0.07322330470336313,
    0.5,
    0.42677669529663687,
    0.25,
    0.07322330470336313,
    0.5,
    0.42677669529663687,
];
const LINEAR_0: [f64; 8] = [0.25, 0.4375, 0.625, 0.8125, 1.0, 1.0, 1.0, 1.0];
const LINEAR_1: [f64; 8] = [0.125, 0.21875, 0.3125, 0.40625, 0.5, 0.5, 0.5, 0.5];
const LINEAR_DOWN_0: [f64; 6] = [
    1.0,
    0.7,
    0.39999999999999997,
    0.09999999999999999,
    0.09999999999999999,
    0.09999999999999999,
];
const LINEAR_DOWN_1: [f64; 6] = [
    0.5,
    0.35,
    0.19999999999999998,
    0.049999999999999996,
    0.049999999999999996,
    0.049999999999999996,
];
const ONE_CYCLE_0: [f64; 11] = [
    0.040000000000000036,
    0.52,
    1.0,
    0.9504846320134737,
    0.8117456539497631,
    0.6112620219362893,
    0.38874197806371075,
    0.18825834605023697,
    0.049519367986526286,
    4e-06,
    0.04951936798652623,
];
const ONE_CYCLE_1: [f64; 11] = [
    0.020000000000000018,
    0.26,
    0.5,
    0.47524231600673683,
    0.40587282697488153,
    0.30563101096814466,
    0.19437098903185537,
    0.09412917302511849,
    0.024759683993263143,
    2e-06,
    0.024759683993263115,
];
const ONE_CYCLE_3_LINEAR_0: [f64; 13] = [
    0.04,
    0.52,
    1.0,
    0.52,
    0.040000000000000036,
    0.034286285714285714,
    0.02857257142857143,
    0.022858857142857143,
    0.01714514285714286,
    0.011431428571428568,
    0.005717714285714284,
    3.9999999999970615e-06,
    -0.005709714285714283,
];
const ONE_CYCLE_3_LINEAR_1: [f64; 13] = [
    0.02,
    0.26,
    0.5,
    0.26,
    0.020000000000000018,
    0.017143142857142857,
    0.014286285714285715,
    0.011429428571428571,
    0.00857257142857143,
    0.005715714285714284,
    0.002858857142857142,
    1.9999999999985307e-06,
    -0.0028548571428571416,
];
const EXPONENTIAL_0: [f64; 5] = [1.0, 0.9, 0.81, 0.7290000000000001, 0.6561000000000001];
const EXPONENTIAL_1: [f64; 5] = [0.5, 0.45, 0.405, 0.36450000000000005, 0.32805000000000006];
const SEQUENTIAL_0: [f64; 11] = [
    0.1,
    0.39999999999999997,
    0.7,
    1.0,
    0.905463412215599,
    0.657963412215599,
    0.352036587784401,
    0.10453658778440104,
    0.01,
    0.104536587784401,
    0.35203658778440117,
];
const SEQUENTIAL_1: [f64; 11] = [
    0.05,
    0.19999999999999998,
    0.35,
    0.5,
    0.45320916362186214,
    0.33070916362186215,
    0.1792908363781379,
    0.0567908363781379,
    0.01,
    0.05679083637813787,
    0.17929083637813795,
];
const CHAINED_0: [f64; 8] = [
    0.5,
    0.5625,
    0.6074999999999999,
    0.637875,
    0.6560999999999999,
    0.59049,
    0.5314409999999999,
    0.47829689999999997,
];
const CHAINED_1: [f64; 8] = [
    0.25,
    0.28125,
    0.30374999999999996,
    0.3189375,
    0.32804999999999995,
    0.295245,
    0.26572049999999997,
    0.23914844999999998,
];
const PLATEAU_MIN_REL_0: [f64; 22] = [
    1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.25, 0.125, 0.125, 0.125,
    0.125, 0.0625, 0.0625, 0.0625, 0.0625, 0.05,
];
const PLATEAU_MIN_REL_1: [f64; 22] = [
    0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.125, 0.125, 0.125, 0.125, 0.0625, 0.0625,
    0.0625, 0.0625, 0.05, 0.05, 0.05, 0.05, 0.05,
];
const PLATEAU_MIN_ABS_0: [f64; 22] = [
    1.0, 1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.25, 0.125, 0.125, 0.125,
    0.125, 0.0625, 0.0625, 0.0625, 0.0625, 0.05,
];
const PLATEAU_MIN_ABS_1: [f64; 22] = [
    0.5, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.25, 0.125, 0.125, 0.125, 0.125, 0.0625, 0.0625,
    0.0625, 0.0625, 0.05, 0.05, 0.05, 0.05, 0.05,
];
const PLATEAU_MAX_REL_0: [f64; 22] = [
    1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.25, 0.125,
    0.125, 0.125, 0.125, 0.0625,
];
const PLATEAU_MAX_REL_1: [f64; 22] = [
    0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.125, 0.125, 0.125,
    0.125, 0.0625, 0.0625, 0.0625, 0.0625, 0.05,
];
const PLATEAU_MAX_ABS_0: [f64; 22] = [
    1.0, 1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.25, 0.125, 0.125, 0.125,
    0.125, 0.0625, 0.0625, 0.0625, 0.0625, 0.05,
];
const PLATEAU_MAX_ABS_1: [f64; 22] = [
    0.5, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.25, 0.125, 0.125, 0.125, 0.125, 0.0625, 0.0625,
    0.0625, 0.0625, 0.05, 0.05, 0.05, 0.05, 0.05,
];

/// SGD with one group per base rate.
fn sgd(bases: &[f64]) -> Sgd<f64> {
    let groups = bases
        .iter()
        .map(|&lr| {
            let p = Param::new("p", ndarray::arr1(&[0.0]).into_dyn());
            let config = SgdConfig {
                lr,
                ..Default::default()
            };
            ParamGroup::new(vec![p], config)
        })
        .collect();
    Sgd::with_groups(groups).unwrap()
}

/// Each group's rate now and after each of `steps` scheduler steps.
fn rates(opt: &mut Sgd<f64>, scheduler: &mut impl LrScheduler, steps: usize) -> Vec<Vec<f64>> {
    let mut seen = vec![opt.lrs()];
    for _ in 0..steps {
        opt.step();
        scheduler.step(opt);
        assert_eq!(scheduler.last_lrs(), opt.lrs().as_slice());
        seen.push(opt.lrs());
    }
    (0..opt.num_groups())
        .map(|g| seen.iter().map(|lrs| lrs[g]).collect())
        .collect()
}

#[track_caller]
fn assert_rates(name: &str, got: &[Vec<f64>], torch: &[&[f64]]) {
    for (g, (got, torch)) in got.iter().zip(torch).enumerate() {
        assert_eq!(got.len(), torch.len(), "{name}[{g}]");
        for (t, (a, b)) in got.iter().zip(torch.iter()).enumerate() {
            assert!(
                (a - b).abs() <= 1e-15 * b.abs().max(1.0),
                "{name}[{g}] at step {t}: {a} vs torch {b}\n got {got:?}\ntorch {torch:?}"
            );
        }
    }
}

#[test]
fn cosine_annealing_lr_rises_past_t_max_as_torch() {
    let mut opt = sgd(&[1.0]);
    let mut s = CosineAnnealingLR::new(&mut opt, 1, 0.0).unwrap();
    assert_rates(
        "cosine_issue",
        &rates(&mut opt, &mut s, 2),
        &[&COSINE_ISSUE_0],
    );
    let mut opt = sgd(&[1.0, 0.5]);
    let mut s = CosineAnnealingLR::new(&mut opt, 3, 0.1).unwrap();
    assert_rates(
        "cosine",
        &rates(&mut opt, &mut s, 10),
        &[&COSINE_0, &COSINE_1],
    );
}

#[test]
fn warm_restarts_match_torch() {
    let mut opt = sgd(&[1.0, 0.5]);
    let mut s = CosineAnnealingWarmRestarts::new(&mut opt, 3, 2, 0.05).unwrap();
    let torch: [&[f64]; 2] = [&WARM_RESTARTS_0, &WARM_RESTARTS_1];
    assert_rates("warm_restarts", &rates(&mut opt, &mut s, 16), &torch);
    let mut opt = sgd(&[1.0, 0.5]);
    let mut s = CosineAnnealingWarmRestarts::new(&mut opt, 4, 1, 0.0).unwrap();
    let torch: [&[f64]; 2] = [&WARM_RESTARTS_1_0, &WARM_RESTARTS_1_1];
    assert_rates(
        "warm_restarts T_mult 1",
        &rates(&mut opt, &mut s, 9),
        &torch,
    );
}

#[test]
fn linear_lr_matches_torch() {
    let mut opt = sgd(&[1.0, 0.5]);
    let mut s = LinearLR::new(&mut opt, 0.25, 1.0, 4).unwrap();
    assert_rates(
        "linear",
        &rates(&mut opt, &mut s, 7),
        &[&LINEAR_0, &LINEAR_1],
    );
    let mut opt = sgd(&[1.0, 0.5]);
    let mut s = LinearLR::new(&mut opt, 1.0, 0.1, 3).unwrap();
    let torch: [&[f64]; 2] = [&LINEAR_DOWN_0, &LINEAR_DOWN_1];
    assert_rates("linear down", &rates(&mut opt, &mut s, 5), &torch);
}

#[test]
fn one_cycle_lr_matches_torch() {
    let mut opt = sgd(&[1.0, 0.5]);
    let config = OneCycleConfig {
        max_lr: vec![1.0, 0.5],
        ..OneCycleConfig::new(1.0, 10)
    };
    let mut s = OneCycleLR::new(&mut opt, config).unwrap();
    assert_rates(
        "one_cycle",
        &rates(&mut opt, &mut s, 10),
        &[&ONE_CYCLE_0, &ONE_CYCLE_1],
    );
    let mut opt = sgd(&[1.0, 0.5]);
    let config = OneCycleConfig {
        max_lr: vec![1.0, 0.5],
        pct_start: 0.25,
        anneal: Anneal::Linear,
        three_phase: true,
        ..OneCycleConfig::new(1.0, 12)
    };
    let mut s = OneCycleLR::new(&mut opt, config).unwrap();
    let torch: [&[f64]; 2] = [&ONE_CYCLE_3_LINEAR_0, &ONE_CYCLE_3_LINEAR_1];
    assert_rates(
        "one_cycle three-phase linear",
        &rates(&mut opt, &mut s, 12),
        &torch,
    );
}

#[test]
fn exponential_sequential_and_chained_match_torch() {
    let mut opt = sgd(&[1.0, 0.5]);
    let mut s = ExponentialLR::new(&mut opt, 0.9).unwrap();
    let torch: [&[f64]; 2] = [&EXPONENTIAL_0, &EXPONENTIAL_1];
    assert_rates("exponential", &rates(&mut opt, &mut s, 4), &torch);

    // SequentialLR([LinearLR(0.1, 1, 3), CosineAnnealingLR(5, 0.01)], milestones=[3])
    let mut opt = sgd(&[1.0, 0.5]);
    let warmup = LinearLR::new(&mut opt, 0.1, 1.0, 3).unwrap();
    let cosine = CosineAnnealingLR::new(&mut opt, 5, 0.01).unwrap();
    let mut s =
        SequentialLR::new(&mut opt, vec![Box::new(warmup), Box::new(cosine)], &[3]).unwrap();
    let torch: [&[f64]; 2] = [&SEQUENTIAL_0, &SEQUENTIAL_1];
    assert_rates("sequential", &rates(&mut opt, &mut s, 10), &torch);

    // ChainedScheduler([LinearLR(0.5, 1, 4), ExponentialLR(0.9)])
    let mut opt = sgd(&[1.0, 0.5]);
    let warmup = LinearLR::new(&mut opt, 0.5, 1.0, 4).unwrap();
    let decay = ExponentialLR::new(&mut opt, 0.9).unwrap();
    let mut s = ChainedScheduler::new(vec![Box::new(warmup), Box::new(decay)]).unwrap();
    let torch: [&[f64]; 2] = [&CHAINED_0, &CHAINED_1];
    assert_rates("chained", &rates(&mut opt, &mut s, 7), &torch);
}

#[test]
fn reduce_lr_on_plateau_matches_torch() {
    let metrics = [
        5.0, 4.0, 4.0, 3.97, 3.995, 4.1, 4.2, 3.0, 3.0, 3.0, 3.0, 2.9, 2.95, 3.1, 3.2, 3.3, 3.4,
        3.5, 3.6, 3.7, 3.8, 3.9,
    ];
    let cases: [(PlateauMode, ThresholdMode, [&[f64]; 2]); 4] = [
        (
            PlateauMode::Min,
            ThresholdMode::Rel,
            [&PLATEAU_MIN_REL_0, &PLATEAU_MIN_REL_1],
        ),
        (
            PlateauMode::Min,
            ThresholdMode::Abs,
            [&PLATEAU_MIN_ABS_0, &PLATEAU_MIN_ABS_1],
        ),
        (
            PlateauMode::Max,
            ThresholdMode::Rel,
            [&PLATEAU_MAX_REL_0, &PLATEAU_MAX_REL_1],
        ),
        (
            PlateauMode::Max,
            ThresholdMode::Abs,
            [&PLATEAU_MAX_ABS_0, &PLATEAU_MAX_ABS_1],
        ),
    ];
    for (mode, threshold_mode, torch) in cases {
        let mut opt = sgd(&[1.0, 0.5]);
        let config = PlateauConfig {
            mode,
            factor: 0.5,
            patience: 1,
            threshold: 0.01,
            threshold_mode,
            cooldown: 2,
            min_lr: 0.05,
            ..Default::default()
        };
        let mut s = ReduceLROnPlateau::new(&opt, config).unwrap();
        let sign = if mode == PlateauMode::Min { 1.0 } else { -1.0 };
        let mut seen = vec![];
        for m in metrics {
            s.step(sign * m, &mut opt);
            seen.push(opt.lrs());
        }
        let got: Vec<Vec<f64>> = (0..2)
            .map(|g| seen.iter().map(|l| l[g]).collect())
            .collect();
        assert_rates(
            &format!("plateau {mode:?} {threshold_mode:?}"),
            &got,
            &torch,
        );
    }
}

#[test]
fn scheduler_and_optimizer_state_round_trip_with_groups() {
    // Train 4 epochs under SequentialLR(LinearLR, CosineAnnealingLR), save optimizer and
    // scheduler state, keep going 6 more; a fresh pair loaded from the save must follow the
    // same rates and reach the same weights bit for bit.
    let build = || {
        let w = Param::new("w", ndarray::arr1(&[1.0, -2.0]).into_dyn());
        let b = Param::new("b", ndarray::arr1(&[0.5]).into_dyn());
        let base = SgdConfig {
            lr: 0.1,
            momentum: 0.9,
            weight_decay: 0.01,
            ..Default::default()
        };
        let biases = SgdConfig {
            lr: 0.05,
            weight_decay: 0.0,
            ..base.clone()
        };
        let mut opt = Sgd::with_groups(vec![
            ParamGroup::new(vec![w.clone()], base),
            ParamGroup::new(vec![b.clone()], biases),
        ])
        .unwrap();
        let warmup = LinearLR::new(&mut opt, 0.1, 1.0, 3).unwrap();
        let cosine = CosineAnnealingLR::new(&mut opt, 6, 0.001).unwrap();
        let s =
            SequentialLR::new(&mut opt, vec![Box::new(warmup), Box::new(cosine)], &[3]).unwrap();
        (w, b, opt, s)
    };
    let epoch = |w: &Param<f64>, b: &Param<f64>, opt: &mut Sgd<f64>, s: &mut SequentialLR| {
        opt.zero_grad();
        (w.tensor().powf(2.0).sum() + (b.tensor() * w.tensor().sin()).sum()).backward();
        opt.step();
        s.step(opt);
    };
    let (w, b, mut opt, mut s) = build();
    for _ in 0..4 {
        epoch(&w, &b, &mut opt, &mut s);
    }
    let (saved_opt, saved_sched) = (opt.state(), s.state());
    assert_eq!(saved_opt.groups.len(), 2);
    assert_eq!(saved_opt.groups[1].initial_lr, 0.05);
    let (w_saved, b_saved) = ((*w.value()).clone(), (*b.value()).clone());
    for _ in 0..6 {
        epoch(&w, &b, &mut opt, &mut s);
    }

    let (w2, b2, mut opt2, mut s2) = build();
    w2.set_value(w_saved).unwrap();
    b2.set_value(b_saved).unwrap();
    opt2.load_state(saved_opt.clone()).unwrap();
    s2.load_state(&saved_sched).unwrap();
    assert_eq!(
        opt2.lrs(),
        saved_opt.groups.iter().map(|g| g.lr).collect::<Vec<_>>()
    );
    for _ in 0..6 {
        epoch(&w2, &b2, &mut opt2, &mut s2);
    }
    assert_eq!(opt2.lrs(), opt.lrs());
    assert_eq!(*w2.value(), *w.value());
    assert_eq!(*b2.value(), *b.value());

    // A state for other groups does not load.
    let w3 = Param::new("w", ndarray::arr1(&[1.0, -2.0]).into_dyn());
    let b3 = Param::new("b", ndarray::arr1(&[0.5]).into_dyn());
    let config = SgdConfig {
        lr: 0.1,
        momentum: 0.9,
        ..Default::default()
    };
    let mut one_group = Sgd::new(vec![w3, b3], config).unwrap();
    let err = one_group.load_state(saved_opt).unwrap_err();
    assert_eq!(
        err.to_string(),
        "SGD: load_state: groups of [1, 1] parameters, the optimizer has [2]"
    );

    // ReduceLROnPlateau's counters survive too.
    let mut opt = sgd(&[1.0]);
    let mut p = ReduceLROnPlateau::new(
        &opt,
        PlateauConfig {
            patience: 2,
            ..Default::default()
        },
    )
    .unwrap();
    for m in [3.0, 2.0, 2.5] {
        p.step(m, &mut opt);
    }
    let mut q = ReduceLROnPlateau::new(
        &opt,
        PlateauConfig {
            patience: 2,
            ..Default::default()
        },
    )
    .unwrap();
    q.load_state(&p.state()).unwrap();
    assert_eq!(q, p);
}
