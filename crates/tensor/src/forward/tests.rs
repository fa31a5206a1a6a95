//! Every primitive's JVP rule against its VJP rule and against finite differences, and a
//! check that the table below exercises every primitive the tape knows.

use std::collections::BTreeSet;
use std::sync::Arc;

use ndarray::ArrayD;

use super::*;
use crate::gradcheck::{check_grads, Mode};
use crate::ops::test_util::{away_from_zero, uniform, uniform_in};
use crate::{func, no_grad, MaxPool2dOptions, Window};

type Case = (
    &'static str,
    Box<dyn Fn(&[Tensor<f64>]) -> Tensor<f64>>,
    Vec<ArrayD<f64>>,
);

fn case(
    label: &'static str,
    f: impl Fn(&[Tensor<f64>]) -> Tensor<f64> + 'static,
    inputs: Vec<ArrayD<f64>>,
) -> Case {
    (label, Box::new(f), inputs)
}

/// One case per primitive (several for some), each with inputs where the op is smooth.
fn cases() -> Vec<Case> {
    let u = uniform;
    let pos = |shape: &[usize], seed| uniform_in(shape, 0.5, 2.0, seed);
    let mm = |tl: bool, tr: bool| {
        move |t: &[Tensor<f64>]| t[0].matmul_same_batch(&t[1], tl, tr).unwrap()
    };
    let index = Arc::new(ndarray::arr2(&[[2usize, 0], [1, 1], [0, 2]]).into_dyn());
    let gather_index = index.clone();
    let scatter_index = index.clone();
    let window = Window::new([2, 2]).with_padding([[1, 0], [0, 1]]);
    let fold_window = window;
    let cond = ndarray::arr2(&[[true, false, true], [false, false, true]]).into_dyn();
    vec![
        case(
            "add",
            |t| t[0].add(&t[1]),
            vec![u(&[2, 3], 1), u(&[2, 3], 2)],
        ),
        case("mul", |t| t[0].mul(&t[1]), vec![u(&[2, 3], 3), u(&[3], 4)]),
        case("mul", |t| t[0].mul(&t[0]), vec![u(&[4], 5)]),
        case(
            "div",
            |t| t[0].div(&t[1]),
            vec![u(&[2, 3], 6), pos(&[2, 3], 7)],
        ),
        case("pow", |t| t[0].pow(&t[1]), vec![pos(&[5], 8), u(&[5], 9)]),
        case(
            "maximum",
            |t| t[0].maximum(&t[1]),
            vec![u(&[6], 10), u(&[6], 11)],
        ),
        case("add_scalar", |t| t[0].add_scalar(0.5), vec![u(&[3], 12)]),
        case("mul_scalar", |t| t[0].mul_scalar(-1.5), vec![u(&[3], 13)]),
        case("powf", |t| t[0].powf(2.5), vec![pos(&[4], 14)]),
        case("powf", |t| t[0].powf(0.0), vec![u(&[4], 15)]),
        case("exp", |t| t[0].exp(), vec![u(&[2, 2], 16)]),
        case("ln", |t| t[0].ln(), vec![pos(&[2, 2], 17)]),
        case(
            "log1p",
            |t| t[0].log1p(),
            vec![u(&[2, 2], 18).mapv(|x| x * 0.5)],
        ),
        case("sqrt", |t| t[0].sqrt(), vec![pos(&[2, 2], 19)]),
        case("abs", |t| t[0].abs(), vec![away_from_zero(&[5], 20)]),
        case("sin", |t| t[0].sin(), vec![uniform_in(&[5], -4.0, 4.0, 21)]),
        case("cos", |t| t[0].cos(), vec![uniform_in(&[5], -4.0, 4.0, 22)]),
        case("tanh", |t| t[0].tanh(), vec![u(&[5], 23)]),
        case("lstm_gates", |t| t[0].lstm_gates(), vec![u(&[2, 8], 63)]),
        case(
            "lstm_sequence",
            |t| t[0].lstm_sequence(&t[1], &t[2], &t[3]),
            vec![
                u(&[3, 2, 8], 64),
                u(&[8, 2], 65),
                u(&[2, 2], 66),
                u(&[2, 2], 67),
            ],
        ),
        case("relu", |t| t[0].relu(), vec![away_from_zero(&[6], 24)]),
        case(
            "add_channel_bias",
            |t| t[0].add_channel_bias(&t[1]),
            vec![u(&[2, 3, 4], 70), u(&[3], 71)],
        ),
        case("erf", |t| t[0].erf(), vec![u(&[5], 25)]),
        case(
            "sum",
            |t| t[0].sum_axes(&[1], false),
            vec![u(&[2, 3, 2], 26)],
        ),
        case(
            "sum",
            |t| t[0].sum_axes(&[0, 2], true),
            vec![u(&[2, 3, 2], 27)],
        ),
        case("max", |t| t[0].max_axes(&[1], false), vec![u(&[3, 4], 28)]),
        case("max", |t| t[0].max(), vec![u(&[3, 4], 29)]),
        case(
            "broadcast",
            |t| t[0].broadcast_to(&[2, 3, 4]),
            vec![u(&[3, 1], 30)],
        ),
        case("reshape", |t| t[0].reshape(&[3, 2]), vec![u(&[2, 3], 31)]),
        case(
            "permute",
            |t| t[0].permute(&[2, 0, 1]),
            vec![u(&[2, 3, 4], 32)],
        ),
        case(
            "matmul",
            mm(false, false),
            vec![u(&[2, 3], 33), u(&[3, 4], 34)],
        ),
        case(
            "matmul",
            mm(false, true),
            vec![u(&[2, 3], 35), u(&[4, 3], 36)],
        ),
        case(
            "matmul",
            mm(true, false),
            vec![u(&[3, 2], 37), u(&[3, 4], 38)],
        ),
        case(
            "matmul",
            mm(true, true),
            vec![u(&[2, 3, 2], 39), u(&[2, 4, 3], 40)],
        ),
        case(
            "matmul",
            |t| t[0].matmul(&t[1]),
            vec![u(&[3], 41), u(&[3], 42)],
        ),
        case("narrow", |t| t[0].narrow(1, 1, 2), vec![u(&[2, 4], 43)]),
        case("pad", |t| t[0].pad(0, 1, 2), vec![u(&[2, 3], 44)]),
        case(
            "concat",
            |t| Tensor::concat(&[&t[0], &t[1]], 1),
            vec![u(&[2, 1], 45), u(&[2, 3], 46)],
        ),
        case(
            "index_select",
            |t| t[0].index_select(0, &[2, 0, 2]),
            vec![u(&[3, 2], 47)],
        ),
        case(
            "index_add",
            |t| t[0].index_add(1, Arc::from(vec![0, 2, 0]), 4),
            vec![u(&[2, 3], 48)],
        ),
        case(
            "gather",
            move |t| t[0].gather(1, &*gather_index),
            vec![u(&[3, 3], 49)],
        ),
        case(
            "scatter_add",
            move |t| t[0].scatter_add(1, scatter_index.clone(), &[3, 3]),
            vec![u(&[3, 2], 50)],
        ),
        case(
            "unfold",
            move |t| t[0].unfold(&window),
            vec![u(&[1, 2, 3, 3], 51)],
        ),
        case(
            "fold",
            move |t| t[0].fold(&[3, 3], &fold_window),
            vec![u(&[1, 8, 9], 52)],
        ),
        case(
            "max_pool",
            |t| t[0].max_pool2d(MaxPool2dOptions::new([2, 2])),
            vec![u(&[2, 1, 4, 4], 53)],
        ),
        case(
            "where_cond",
            move |t| Tensor::where_cond(&cond, &t[0], &t[1]),
            vec![u(&[2, 3], 54), u(&[3], 55)],
        ),
    ]
}

/// Σ a ⊙ b.
fn dot(a: &Tensor<f64>, b: &Tensor<f64>) -> f64 {
    a.to_vec().iter().zip(b.to_vec()).map(|(x, y)| x * y).sum()
}

/// The labels of the nodes `f` records that carry a tangent, with tangents on every input.
fn labels_with_tangents(
    f: &dyn Fn(&[Tensor<f64>]) -> Tensor<f64>,
    inputs: &[Tensor<f64>],
) -> BTreeSet<&'static str> {
    dual_level(|| {
        let xs: Vec<Tensor<f64>> = inputs
            .iter()
            .map(|x| make_dual(x, &Tensor::ones(x.shape())).unwrap())
            .collect();
        let y = f(&xs);
        let tape = y.tape().expect("recorded");
        let labels: Vec<&'static str> = tape.nodes().iter().map(|n| n.op.label()).collect();
        labels
            .into_iter()
            .enumerate()
            .filter(|&(id, _)| {
                with_table(|t: &mut Tangents<f64>| t.by_node.contains_key(&(tape.id(), id)))
                    .unwrap()
            })
            .map(|(_, label)| label)
            .collect()
    })
    .unwrap()
}

#[test]
fn every_jvp_rule_agrees_with_its_vjp_rule_and_with_finite_differences() {
    let mut covered = BTreeSet::new();
    for (k, (label, f, inputs)) in cases().into_iter().enumerate() {
        let xs: Vec<Tensor<f64>> = inputs.into_iter().map(Tensor::from_array).collect();
        let seed = 1000 + 10 * k as u64;
        let v: Vec<Tensor<f64>> = (0..xs.len())
            .map(|i| Tensor::from_array(uniform(xs[i].shape(), seed + i as u64)))
            .collect();
        let (y, jv) = func::jvp(&f, &xs, &v).unwrap();
        let u = Tensor::from_array(uniform(y.shape(), seed + 9));
        let (y2, vjp) = func::vjp(&f, &xs, &u).unwrap();
        assert_eq!(y.to_vec(), y2.to_vec(), "{label}: primal");
        assert_eq!(jv.shape(), y.shape(), "{label}: tangent shape");
        // ⟨u, J v⟩ two ways: forward with the JVP rules, reverse with the VJP rules.
        let forward = dot(&u, &jv);
        let reverse: f64 = vjp.iter().zip(&v).map(|(g, v)| dot(g, v)).sum();
        assert!(
            (forward - reverse).abs() <= 1e-12 * (1.0 + reverse.abs()),
            "{label} (case {k}): ⟨u, Jv⟩ = {forward} by jvp, {reverse} by vjp"
        );
        // J v ≈ (f(x + h v) − f(x − h v)) / 2h.
        let h = 1e-6;
        let shifted = |s: f64| -> Vec<f64> {
            let xs: Vec<Tensor<f64>> = xs.iter().zip(&v).map(|(x, v)| x + &(v * s)).collect();
            no_grad(|| f(&xs)).to_vec()
        };
        let (plus, minus) = (shifted(h), shifted(-h));
        for (i, &j) in jv.to_vec().iter().enumerate() {
            let fd = (plus[i] - minus[i]) / (2.0 * h);
            assert!(
                (j - fd).abs() <= 1e-6 * (1.0 + fd.abs()),
                "{label} (case {k}) element {i}: jvp {j}, finite difference {fd}"
            );
        }
        covered.extend(labels_with_tangents(&f, &xs));
        // And to second order, forward over reverse and reverse over reverse: the tangents
        // of the recorded backward rules are right too (what hvp and hessian rely on).
        let arrays: Vec<ArrayD<f64>> = xs.iter().map(Tensor::to_array).collect();
        if let Err(e) = check_grads(label, f, &arrays, 2, &[Mode::Fwd, Mode::Rev]) {
            panic!("case {k}: {e}");
        }
    }
    // Every label `Op::label` knows must have carried a tangent above: a primitive added
    // without a JVP rule does not compile (the dispatch is exhaustive), and one added without
    // a case here fails this.
    let source = include_str!("../tape/op.rs");
    let body = &source[source.find("pub fn label").unwrap()..source.find("pub fn params").unwrap()];
    let all: BTreeSet<&str> = body
        .lines()
        .filter_map(|line| line.split("=> \"").nth(1))
        .map(|rest| rest.trim_end_matches("\","))
        .filter(|label| !["leaf", "stale"].contains(label))
        .collect();
    assert!(all.len() >= 35, "parsed {all:?}");
    let missing: Vec<_> = all.difference(&covered).collect();
    assert!(missing.is_empty(), "no JVP test exercised {missing:?}");
}

#[test]
fn inputs_without_tangent_cost_no_rule() {
    // Only x is dual: the nodes computed from the constant-like parameter w alone carry no
    // tangent (absent = zero, the rule skipped), those depending on x do.
    let w = Tensor::<f64>::from_vec(vec![0.5, -1.0], &[2]).requires_grad();
    dual_level(|| {
        let x = make_dual(&Tensor::from_vec(vec![1.0, 2.0], &[2]), &Tensor::ones(&[2])).unwrap();
        let w2 = w.exp();
        assert!(tangent(&w2).is_none());
        let y = (&x * &w2).sum();
        // ẏ = Σ ẋ ⊙ eʷ
        let want: f64 = [0.5f64, -1.0].iter().map(|w| w.exp()).sum();
        assert!((tangent(&y).unwrap().item() - want).abs() < 1e-15);
    })
    .unwrap();
    assert!(!is_forward_ad_enabled());
}

#[test]
fn levels_do_not_nest_and_duals_need_a_level() {
    let x = Tensor::<f64>::zeros(&[2]);
    let err = make_dual(&x, &x).unwrap_err();
    assert!(err.to_string().starts_with("make_dual: "), "{err}");
    let err = dual_level(|| dual_level(|| ()).unwrap_err()).unwrap();
    assert!(err.to_string().contains("do not nest"), "{err}");
    let err = dual_level(|| make_dual(&x, &Tensor::zeros(&[3])).unwrap_err()).unwrap();
    assert_eq!(
        err.to_string(),
        "make_dual: [2] and [3]: the tangent must have the primal's shape"
    );
}
