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

/// f(x) = ½xᵀAx − bᵀx, the script's quadratic.
fn quadratic(x: &Param<f64>) -> Tensor<f64> {
    let a = Tensor::from_vec(vec![3.0, 1.0, 0.0, 1.0, 2.0, 0.5, 0.0, 0.5, 1.0], &[3, 3]);
    let b = Tensor::from_vec(vec![1.0, -2.0, 0.5], &[3, 1]);
    let x = x.tensor();
    (&x * &a.matmul(&x)).sum() * 0.5 - (&b * &x).sum()
}

/// (1 − x)² + 100(y − x²)².
fn rosenbrock(p: &Param<f64>) -> Tensor<f64> {
    let v = p.tensor();
    let (x, y) = (v.narrow(0, 0, 1), v.narrow(0, 1, 1));
    let a = 1.0 - &x;
    let b = &y - &(&x * &x);
    (&a * &a + &b * &b * 100.0).sum()
}

/// Calls `step` once per entry of `torch_x`; checks the returned first loss, the
/// evaluation count and the parameters after each call against torch's.
#[track_caller]
fn check_lbfgs(
    name: &str,
    x0: &[f64],
    f: fn(&Param<f64>) -> Tensor<f64>,
    config: LbfgsConfig,
    first_losses: &[f64],
    evals: &[usize],
    torch_x: &[&[f64]],
) {
    let shape = if x0.len() == 3 { vec![3, 1] } else { vec![2] };
    let x = Param::new(
        "x",
        ndarray::ArrayD::from_shape_vec(shape, x0.to_vec()).unwrap(),
    );
    let mut lbfgs = Lbfgs::new(vec![x.clone()], config).unwrap();
    for (call, expected) in torch_x.iter().enumerate() {
        let first = lbfgs.step(|| f(&x));
        let got: Vec<f64> = x.value().iter().copied().collect();
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-10 * b.abs().max(1.0);
        assert!(
            close(first, first_losses[call]),
            "{name} call {call}: loss {first} vs torch {}",
            first_losses[call]
        );
        assert_eq!(
            lbfgs.func_evals(),
            evals[call],
            "{name} call {call}: evaluations"
        );
        assert!(
            got.iter().zip(expected.iter()).all(|(&a, &b)| close(a, b)),
            "{name} call {}: x = {got:?}, torch {expected:?}",
            call + 1
        );
    }
}

#[test]
fn lbfgs_step_matches_torch_with_a_fixed_step() {
    // torch.optim.LBFGS([x], lr=0.5, max_iter=4, history_size=3), 4 calls.
    let config = LbfgsConfig {
        history_size: 3,
        step: LbfgsStepConfig {
            lr: 0.5,
            max_iter: 4,
            ..Default::default()
        },
        ..Default::default()
    };
    check_lbfgs(
        "quadratic",
        &[1.0, 1.0, 1.0],
        quadratic,
        config,
        &[
            5.0,
            -2.3792841645038,
            -2.6450144953317167,
            -2.6470515031252733,
        ],
        &[4, 8, 12, 16],
        &[
            &[0.7258932122818958, -1.239229501517927, 0.8946092459549521],
            &[0.9234679310066238, -1.782965307409446, 1.3501908883703109],
            &[0.939178936572134, -1.8224989665863705, 1.4090293706343129],
            &[0.9410512803028721, -1.8234645862298338, 1.4115942595949427],
        ],
    );
    // LBFGS([x], lr=0.1, max_iter=5, history_size=10) on Rosenbrock from (−1.2, 1).
    let config = LbfgsConfig {
        step: LbfgsStepConfig {
            lr: 0.1,
            max_iter: 5,
            ..Default::default()
        },
        ..Default::default()
    };
    check_lbfgs(
        "rosenbrock",
        &[-1.2, 1.0],
        rosenbrock,
        config,
        &[
            24.199999999999996,
            7.112951020506721,
            5.2304978915741485,
            4.528083064213277,
        ],
        &[5, 10, 15, 20],
        &[
            &[-1.0989030589182796, 1.0430413750577954],
            &[-1.0731883206935724, 1.0551729273427284],
            &[-1.0563511151413298, 1.0611507969969873],
            &[-1.0447137409906535, 1.0623660990391661],
        ],
    );
}

#[test]
fn lbfgs_step_matches_torch_with_strong_wolfe() {
    // LBFGS([x], max_iter=3, history_size=5, line_search_fn="strong_wolfe"), 3 calls.
    let config = LbfgsConfig {
        history_size: 5,
        step: LbfgsStepConfig {
            max_iter: 3,
            line_search_fn: LineSearchFn::StrongWolfe,
            ..Default::default()
        },
        ..Default::default()
    };
    check_lbfgs(
        "quadratic, strong Wolfe",
        &[1.0, 1.0, 1.0],
        quadratic,
        config,
        &[5.0, -2.1433238565835717, -2.634943175969181],
        &[3, 6, 9],
        &[
            &[0.44144259941043973, -1.143203069880899, 0.7134738191524419],
            &[0.9260819454185948, -1.811786497503126, 1.252072084999389],
            &[0.9424169070554715, -1.8232569363883833, 1.4115043595075603],
        ],
    );
    // LBFGS([x], max_iter=5, history_size=10, line_search_fn="strong_wolfe"), 6 calls.
    let config = LbfgsConfig {
        step: LbfgsStepConfig {
            max_iter: 5,
            line_search_fn: LineSearchFn::StrongWolfe,
            ..Default::default()
        },
        ..Default::default()
    };
    check_lbfgs(
        "rosenbrock, strong Wolfe",
        &[-1.2, 1.0],
        rosenbrock,
        config,
        &[
            24.199999999999996,
            4.111816451757751,
            3.423165462292753,
            1.6576993608388542,
            0.6550058611893452,
            0.2420628752048101,
        ],
        &[6, 12, 19, 26, 32, 38],
        &[
            &[-1.0276177663827242, 1.0584120782656612],
            &[-0.7745797354515831, 0.5476256792320806],
            &[-0.25600484511812704, 0.03722749524505698],
            &[0.2157306529495921, 0.06652156950754587],
            &[0.5135357050699878, 0.2563600040463876],
            &[0.8235346142444435, 0.6658080748008967],
        ],
    );
}
