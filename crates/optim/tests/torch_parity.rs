//! tapegrad against numbers torch.optim computed, in f64, pinned here so CI needs no Python.
//! The script that printed them is `tests/pytorch/optim_reference.py` (torch 2.15); each
//! constant below is one line of its output.

use tapegrad_optim::*;
use tapegrad_tensor::{Param, Tensor};

/// The script's problem: L(w, b) = mean((X·w + b − y)²) + 0.1·Σ w⁴.
struct Problem {
    x: Tensor<f64>,
    y: Tensor<f64>,
    w: Param<f64>,
    b: Param<f64>,
}

impl Problem {
    fn new() -> Self {
        let x = [
            1.0, 2.0, -1.0, 0.5, -1.5, 2.0, -2.0, 0.3, 1.0, 1.5, 1.0, 0.5,
        ];
        Problem {
            x: Tensor::from_vec(x.to_vec(), &[4, 3]),
            y: Tensor::from_vec(vec![1.0, -2.0, 0.5, 3.0], &[4, 1]),
            w: Param::new(
                "w",
                ndarray::Array::from_shape_vec(vec![3, 1], vec![0.5, -0.3, 0.8]).unwrap(),
            ),
            b: Param::new("b", ndarray::arr1(&[0.1]).into_dyn()),
        }
    }

    fn loss(&self) -> Tensor<f64> {
        let r = &(self.x.matmul(&self.w.tensor()) + self.b.tensor()) - &self.y;
        (&r * &r).mean() + self.w.tensor().powf(4.0).sum() * 0.1
    }

    /// `steps` steps of `opt` on `sign`·L; returns (w, b).
    fn run(&self, opt: &mut dyn Optimizer<f64>, steps: usize, sign: f64) -> (Vec<f64>, f64) {
        for _ in 0..steps {
            opt.zero_grad();
            (self.loss() * sign).backward();
            opt.step();
        }
        (self.w.value().iter().copied().collect(), self.b.value()[0])
    }

    fn params(&self) -> Vec<Param<f64>> {
        vec![self.w.clone(), self.b.clone()]
    }
}

/// Max relative difference, in units of 1e-12, so failures print something readable.
#[track_caller]
fn assert_close(name: &str, got: (Vec<f64>, f64), w: [f64; 3], b: f64) {
    let expected = [w[0], w[1], w[2], b];
    let got = [got.0[0], got.0[1], got.0[2], got.1];
    for (g, e) in got.iter().zip(expected) {
        assert!(
            (g - e).abs() <= 1e-12 * e.abs().max(1e-3),
            "{name}: got {got:?}, torch {expected:?}"
        );
    }
}

fn adam(config: AdamConfig) -> impl Fn(Vec<Param<f64>>) -> Box<dyn Optimizer<f64>> {
    move |p| Box::new(Adam::new(p, config.clone()).unwrap())
}

#[test]
fn nadam_matches_torch() {
    for (decoupled, wd, w, b) in [
        (
            false,
            0.01,
            [
                0.22397055722403378,
                0.6667028661993617,
                -0.06731778828320695,
            ],
            0.30769273128798635,
        ),
        (
            true,
            0.1,
            [0.22305290323936258, 0.6308183568245385, -0.100607144864301],
            0.34566447759951446,
        ),
    ] {
        let p = Problem::new();
        let config = NAdamConfig {
            lr: 0.05,
            weight_decay: wd,
            decoupled_weight_decay: decoupled,
            ..Default::default()
        };
        let mut opt = NAdam::new(p.params(), config).unwrap();
        assert_close("NAdam", p.run(&mut opt, 30, 1.0), w, b);
    }
}

#[test]
fn radam_matches_torch() {
    for (decoupled, wd, w, b) in [
        (
            false,
            0.01,
            [0.41720342498480384, 0.8690300033776579, 0.00968675442947633],
            0.12137269562408842,
        ),
        (
            true,
            0.1,
            [
                0.3570366017434922,
                0.7714877118043998,
                -0.0023297777552968866,
            ],
            0.1825095446128887,
        ),
    ] {
        let p = Problem::new();
        let config = RAdamConfig {
            lr: 0.05,
            weight_decay: wd,
            decoupled_weight_decay: decoupled,
            ..Default::default()
        };
        let mut opt = RAdam::new(p.params(), config).unwrap();
        assert_close("RAdam", p.run(&mut opt, 30, 1.0), w, b);
    }
}

#[test]
fn adam_maximize_decoupled_and_adamw_match_torch() {
    // maximize on −L climbs −L, which descends L.
    let p = Problem::new();
    let make = adam(AdamConfig {
        lr: 0.05,
        maximize: true,
        ..Default::default()
    });
    assert_close(
        "Adam(maximize)",
        p.run(make(p.params()).as_mut(), 30, -1.0),
        [0.1421192086114097, 0.8563784976297633, -0.24810405728260815],
        0.35315987160139484,
    );
    let p = Problem::new();
    let make = adam(AdamConfig {
        lr: 0.05,
        weight_decay: 0.1,
        decoupled_weight_decay: true,
        amsgrad: true,
        ..Default::default()
    });
    assert_close(
        "Adam(decoupled, amsgrad)",
        p.run(make(p.params()).as_mut(), 30, 1.0),
        [0.15057117655260444, 0.8050976187343962, -0.2661003004744674],
        0.38555145469402285,
    );
    // torch.optim.AdamW(lr=0.05): weight decay 0.01 by default, here too.
    let adamw = [0.1430405527826205, 0.8510781593127252, -0.25017926122810713];
    let p = Problem::new();
    let config = AdamWConfig {
        lr: 0.05,
        ..Default::default()
    };
    let mut opt = AdamW::new(p.params(), config.clone()).unwrap();
    assert_close("AdamW", p.run(&mut opt, 30, 1.0), adamw, 0.3565791441282134);
    // … and the same through Adam's decoupled switch.
    let p = Problem::new();
    let mut opt = Adam::new(p.params(), AdamConfig::from(config)).unwrap();
    assert_close(
        "Adam(decoupled)",
        p.run(&mut opt, 30, 1.0),
        adamw,
        0.3565791441282134,
    );
}

#[test]
fn sgd_with_two_groups_matches_torch() {
    // torch.optim.SGD([{params: [w], lr: 0.05, momentum: 0.9, nesterov: True,
    // weight_decay: 0.01}, {params: [b], lr: 0.1, weight_decay: 0}])
    let p = Problem::new();
    let weights = SgdConfig {
        lr: 0.05,
        momentum: 0.9,
        nesterov: true,
        weight_decay: 0.01,
        ..Default::default()
    };
    let biases = SgdConfig {
        lr: 0.1,
        ..Default::default()
    };
    let mut opt = Sgd::with_groups(vec![
        ParamGroup::new(vec![p.w.clone()], weights),
        ParamGroup::new(vec![p.b.clone()], biases),
    ])
    .unwrap();
    assert_eq!(opt.lrs(), vec![0.05, 0.1]);
    assert_close(
        "SGD groups",
        p.run(&mut opt, 30, 1.0),
        [0.2337018970192035, 1.1388866645994355, 0.39147850125576433],
        -0.1666187368220737,
    );
}

#[test]
fn rmsprop_and_adagrad_maximize_match_torch() {
    let p = Problem::new();
    let config = RmsPropConfig {
        lr: 0.01,
        momentum: 0.5,
        centered: true,
        maximize: true,
        ..Default::default()
    };
    let mut opt = RmsProp::new(p.params(), config).unwrap();
    assert_close(
        "RMSprop(maximize)",
        p.run(&mut opt, 30, -1.0),
        [
            0.19364057349029415,
            0.8122213096483741,
            -0.045758729400698334,
        ],
        0.24251465762120317,
    );
    let p = Problem::new();
    let config = AdagradConfig {
        lr: 0.1,
        lr_decay: 0.01,
        weight_decay: 0.01,
        initial_accumulator_value: 0.1,
        maximize: true,
        ..Default::default()
    };
    let mut opt = Adagrad::new(p.params(), config).unwrap();
    assert_close(
        "Adagrad(maximize)",
        p.run(&mut opt, 30, -1.0),
        [0.3423619273022648, 0.41005847769104475, 0.13633262290431572],
        0.264671180816546,
    );
}
