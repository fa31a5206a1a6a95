use ndarray::{Array1, ArrayD, Ix1, Ix2};
use tapegrad_tensor::gradcheck::{gradcheck_with, GradcheckConfig};

use super::*;

/// One vector per time step or per layer.
type Rows = Vec<Vec<f64>>;

fn sigmoid(v: f64) -> f64 {
    1.0 / (1.0 + (-v).exp())
}

/// The equations of the module docs, one sample at a time, with plain loops: the reference
/// the layers are checked against. `x` is `[T][in]`, states `[layer][H]`.
fn reference(
    cell: Cell,
    params: &[ArrayD<f64>],
    bias: bool,
    layers: usize,
    x: &[Vec<f64>],
    h0: &[Vec<f64>],
    c0: &[Vec<f64>],
) -> (Rows, Rows, Rows) {
    let per_layer = if bias { 4 } else { 2 };
    let mut seq = x.to_vec();
    let (mut h_n, mut c_n) = (Vec::new(), Vec::new());
    for l in 0..layers {
        let w = &params[l * per_layer..(l + 1) * per_layer];
        let w_ih = w[0].clone().into_dimensionality::<Ix2>().unwrap();
        let w_hh = w[1].clone().into_dimensionality::<Ix2>().unwrap();
        let rows = w_ih.nrows();
        let zeros = Array1::<f64>::zeros(rows);
        let b_ih = if bias {
            w[2].clone().into_dimensionality::<Ix1>().unwrap()
        } else {
            zeros.clone()
        };
        let b_hh = if bias {
            w[3].clone().into_dimensionality::<Ix1>().unwrap()
        } else {
            zeros
        };
        let hidden = w_hh.ncols();
        let (mut h, mut c) = (Array1::from(h0[l].clone()), Array1::from(c0[l].clone()));
        let mut out = Vec::new();
        for xt in &seq {
            let xi: Array1<f64> = w_ih.dot(&Array1::from(xt.clone())) + &b_ih;
            let hh: Array1<f64> = w_hh.dot(&h) + &b_hh;
            let gate = |v: &Array1<f64>, k: usize| {
                v.slice_axis(
                    ndarray::Axis(0),
                    ndarray::Slice::from(k * hidden..(k + 1) * hidden),
                )
                .to_owned()
            };
            match cell {
                Cell::Tanh => h = (&xi + &hh).mapv(f64::tanh),
                Cell::Lstm => {
                    let a = &xi + &hh;
                    let (i, f) = (gate(&a, 0).mapv(sigmoid), gate(&a, 1).mapv(sigmoid));
                    let (g, o) = (gate(&a, 2).mapv(f64::tanh), gate(&a, 3).mapv(sigmoid));
                    c = &f * &c + &i * &g;
                    h = &o * &c.mapv(f64::tanh);
                }
                Cell::Gru => {
                    let r = (gate(&xi, 0) + gate(&hh, 0)).mapv(sigmoid);
                    let z = (gate(&xi, 1) + gate(&hh, 1)).mapv(sigmoid);
                    let n = (gate(&xi, 2) + &r * &gate(&hh, 2)).mapv(f64::tanh);
                    h = (1.0 - &z) * &n + &z * &h;
                }
            }
            out.push(h.to_vec());
        }
        seq = out;
        h_n.push(h.to_vec());
        c_n.push(c.to_vec());
    }
    (seq, h_n, c_n)
}

fn close(got: &[f64], want: &[f64], tol: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}");
    for (k, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() <= tol, "{what}[{k}]: {g} vs {w}");
    }
}

/// A formula-made input: value k of a tensor is sin(0.37·k + phase).
fn wave(shape: &[usize], phase: f64) -> Tensor<f64> {
    let n = shape.iter().product();
    Tensor::from_vec(
        (0..n).map(|k| (0.37 * k as f64 + phase).sin()).collect(),
        shape,
    )
}

/// Runs `stack` on x [T, N, in] with states, and the reference on each sample; compares.
fn matches_reference(stack: &Stack<f64>) {
    let (layers, hidden, input) = (stack.config.num_layers, stack.hidden_size, stack.input_size);
    let (steps, batch) = (4, 3);
    let x = wave(&[steps, batch, input], 0.0);
    let h0 = wave(&[layers, batch, hidden], 1.0).mul_scalar(0.5);
    let c0 = wave(&[layers, batch, hidden], 2.0);
    let lstm = stack.cell == Cell::Lstm;
    let (out, h_n, c_n) = stack.run(&stack.weights(), &x, Some(&h0), lstm.then_some(&c0));
    let params: Vec<ArrayD<f64>> = stack
        .params
        .iter()
        .map(|(_, p)| (*p.value()).clone())
        .collect();
    let (xa, ha, ca) = (x.to_array(), h0.to_array(), c0.to_array());
    for n in 0..batch {
        let xs: Vec<Vec<f64>> = (0..steps)
            .map(|t| (0..input).map(|i| xa[[t, n, i]]).collect())
            .collect();
        let hs: Vec<Vec<f64>> = (0..layers)
            .map(|l| (0..hidden).map(|j| ha[[l, n, j]]).collect())
            .collect();
        let cs: Vec<Vec<f64>> = (0..layers)
            .map(|l| (0..hidden).map(|j| ca[[l, n, j]]).collect())
            .collect();
        let (want_out, want_h, want_c) = reference(
            stack.cell,
            &params,
            stack.config.bias,
            layers,
            &xs,
            &hs,
            &cs,
        );
        let outa = out.to_array();
        for t in 0..steps {
            let got: Vec<f64> = (0..hidden).map(|j| outa[[t, n, j]]).collect();
            close(&got, &want_out[t], 1e-12, "output");
        }
        let (hna, cna) = (h_n.to_array(), c_n.as_ref().map(|c| c.to_array()));
        for l in 0..layers {
            let got: Vec<f64> = (0..hidden).map(|j| hna[[l, n, j]]).collect();
            close(&got, &want_h[l], 1e-12, "h_n");
            if let Some(cna) = &cna {
                let got: Vec<f64> = (0..hidden).map(|j| cna[[l, n, j]]).collect();
                close(&got, &want_c[l], 1e-12, "c_n");
            }
        }
    }
}

#[test]
fn every_cell_matches_its_equations_over_two_layers() {
    let two = RecurrentConfig {
        num_layers: 2,
        ..RecurrentConfig::default()
    };
    for cell in [Cell::Tanh, Cell::Gru, Cell::Lstm] {
        matches_reference(&Stack::new(cell, 3, 5, two, 1));
        let no_bias = RecurrentConfig { bias: false, ..two };
        matches_reference(&Stack::new(cell, 2, 4, no_bias, 2));
    }
}

#[test]
fn names_shapes_and_init_follow_pytorch() {
    let gru = Gru::<f64>::with_config(
        3,
        8,
        RecurrentConfig {
            num_layers: 2,
            ..RecurrentConfig::default()
        },
        7,
    );
    let got: Vec<(String, Vec<usize>)> = gru
        .named_parameters()
        .into_iter()
        .map(|(n, p)| (n, p.shape().to_vec()))
        .collect();
    let want = [
        ("weight_ih_l0", vec![24, 3]),
        ("weight_hh_l0", vec![24, 8]),
        ("bias_ih_l0", vec![24]),
        ("bias_hh_l0", vec![24]),
        ("weight_ih_l1", vec![24, 8]),
        ("weight_hh_l1", vec![24, 8]),
        ("bias_ih_l1", vec![24]),
        ("bias_hh_l1", vec![24]),
    ];
    assert_eq!(got, want.map(|(n, s)| (n.to_string(), s)));
    // U(−1/√8, 1/√8), a different draw per tensor, the same for the same seed.
    let k = 1.0 / 8f64.sqrt();
    let params = gru.parameters();
    assert!(params.iter().all(|p| p.value().iter().all(|v| v.abs() < k)));
    assert_ne!(
        params[0].value().iter().next(),
        params[4].value().iter().next()
    );
    let again = Gru::<f64>::with_config(3, 8, *gru.config(), 7);
    assert_eq!(again.parameters()[5].value(), params[5].value());
    let next = Gru::<f64>::with_config(3, 8, *gru.config(), 8);
    assert_ne!(
        next.parameters()[4].value(),
        params[5].value(),
        "seeds 7 and 8 draw apart"
    );
    let lstm = Lstm::<f32>::with_config(
        2,
        3,
        RecurrentConfig {
            bias: false,
            ..RecurrentConfig::default()
        },
        0,
    );
    let names: Vec<String> = lstm
        .named_parameters()
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(names, ["weight_ih_l0", "weight_hh_l0"]);
    assert_eq!(lstm.parameters()[0].shape(), &[12, 2]);
    assert_eq!(Rnn::<f32>::new(2, 3, 0).parameters()[1].shape(), &[3, 3]);
}

#[test]
fn batch_first_and_unbatched_inputs_are_the_same_maths() {
    let config = RecurrentConfig {
        num_layers: 2,
        ..RecurrentConfig::default()
    };
    let lstm = Lstm::<f64>::with_config(3, 4, config, 5);
    let first = Lstm::<f64>::with_config(
        3,
        4,
        RecurrentConfig {
            batch_first: true,
            ..config
        },
        5,
    );
    let x = wave(&[6, 2, 3], 0.3);
    let (h0, c0) = (wave(&[2, 2, 4], 1.0), wave(&[2, 2, 4], 2.0));
    let (out, (h_n, c_n)) = lstm.forward_with_state(&x, Some((&h0, &c0)));
    let (out_bf, (h_bf, c_bf)) = first.forward_with_state(&x.transpose(0, 1), Some((&h0, &c0)));
    assert_eq!(out_bf.shape(), &[2, 6, 4]);
    assert_eq!(out_bf.transpose(0, 1).to_vec(), out.to_vec());
    assert_eq!((h_bf.to_vec(), c_bf.to_vec()), (h_n.to_vec(), c_n.to_vec()));
    // Sample 1 alone, unbatched: [T, in] with states [layers, H].
    let x1 = x.narrow(1, 1, 1).squeeze(1);
    let (s_h, s_c) = (h0.narrow(1, 1, 1).squeeze(1), c0.narrow(1, 1, 1).squeeze(1));
    let (out1, (h1, c1)) = lstm.forward_with_state(&x1, Some((&s_h, &s_c)));
    assert_eq!(out1.shape(), &[6, 4]);
    close(
        &out1.to_vec(),
        &out.narrow(1, 1, 1).to_vec(),
        1e-15,
        "unbatched output",
    );
    close(
        &h1.to_vec(),
        &h_n.narrow(1, 1, 1).to_vec(),
        1e-15,
        "unbatched h_n",
    );
    close(
        &c1.to_vec(),
        &c_n.narrow(1, 1, 1).to_vec(),
        1e-15,
        "unbatched c_n",
    );
    // The last output step is the top layer's h_n, and forward starts from zeros.
    assert_eq!(out.narrow(0, 5, 1).to_vec(), h_n.narrow(0, 1, 1).to_vec());
    let zero = lstm.forward_with_state(&x, None).0;
    assert_eq!(lstm.forward(&x).to_vec(), zero.to_vec());
}

#[test]
fn gradients_pass_gradcheck_for_inputs_states_and_every_parameter() {
    // Inputs of the checked function: x, h0, (c0), then the 8 parameter arrays of two layers.
    let config = RecurrentConfig {
        num_layers: 2,
        ..RecurrentConfig::default()
    };
    let tolerances = GradcheckConfig {
        atol: 1e-7,
        rtol: 1e-5,
        ..GradcheckConfig::default()
    };
    for cell in [Cell::Tanh, Cell::Gru, Cell::Lstm] {
        let stack = Stack::<f64>::new(cell, 2, 3, config, 11);
        let lstm = cell == Cell::Lstm;
        let mut inputs = vec![
            wave(&[3, 2, 2], 0.1).to_array(),
            wave(&[2, 2, 3], 0.7).to_array(),
        ];
        if lstm {
            inputs.push(wave(&[2, 2, 3], 1.3).to_array());
        }
        let states = inputs.len();
        inputs.extend(stack.params.iter().map(|(_, p)| (*p.value()).clone()));
        let f = |t: &[Tensor<f64>]| {
            let (out, h_n, c_n) = stack.run(&t[states..], &t[0], Some(&t[1]), lstm.then(|| &t[2]));
            // Every output and both final states feed the checked scalar.
            let mut parts = vec![out.flatten(), h_n.flatten()];
            parts.extend(c_n.map(|c| c.flatten()));
            Tensor::concat(&parts.iter().collect::<Vec<_>>(), 0)
        };
        gradcheck_with(cell.name(), f, &inputs, &tolerances).unwrap();
    }
}

#[test]
fn a_thousand_steps_train_and_drop_on_a_test_thread() {
    // Default test threads have 2 MiB of stack: backward through 1,000 steps (~20,000 tape
    // nodes) and dropping them must not recurse.
    let lstm = Lstm::<f32>::new(3, 4, 1);
    let x = Tensor::<f32>::from_vec(
        (0..1000 * 2 * 3).map(|k| (0.37 * k as f32).sin()).collect(),
        &[1000, 2, 3],
    );
    let (out, (h_n, _)) = lstm.forward_with_state(&x, None);
    assert_eq!(out.shape(), &[1000, 2, 4]);
    let loss = h_n.sum() + out.mean();
    loss.backward();
    drop((out, h_n, loss));
    for p in lstm.parameters() {
        let g = p.grad().expect("every parameter gets a gradient");
        assert!(g.iter().all(|v| v.is_finite()));
        assert!(g.iter().any(|&v| v != 0.0), "{p:?}");
    }
    let gru = Gru::<f32>::new(3, 4, 2);
    gru.forward(&x).sum().backward();
    assert!(gru.parameters()[1]
        .grad()
        .unwrap()
        .iter()
        .all(|v| v.is_finite()));
}

#[test]
#[should_panic(expected = "Lstm: x of shape [5, 2, 4]; expected [T, N, 3] or, unbatched, [T, 3]")]
fn a_wrong_feature_count_names_the_shapes() {
    Lstm::<f64>::new(3, 2, 0).forward(&Tensor::zeros(&[5, 2, 4]));
}

#[test]
#[should_panic(
    expected = "Gru: h0 of shape [1, 3, 2]; expected [1, 2, 2] for x of shape [5, 2, 3]"
)]
fn a_wrong_state_shape_names_the_shapes() {
    let h0 = Tensor::zeros(&[1, 3, 2]);
    Gru::<f64>::new(3, 2, 0).forward_with_state(&Tensor::zeros(&[5, 2, 3]), Some(&h0));
}
