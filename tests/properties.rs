//! Property tests (proptest, the stable-toolchain stand-in for fuzzing): random shapes and
//! values, checked against invariants that must hold for all of them.

use proptest::prelude::*;
use tapegrad::tensor::gradcheck::gradcheck;
use tapegrad::tensor::shape::broadcast_shapes;
use tapegrad::Tensor;

/// A shape of rank 0–3 with dimensions 0–3.
fn shape() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(0usize..4, 0..4)
}

/// Two shapes that broadcast: start from one shape, then shorten the other and set some of
/// its dimensions to 1.
fn broadcastable_pair() -> impl Strategy<Value = (Vec<usize>, Vec<usize>)> {
    (shape(), any::<u8>(), any::<u8>()).prop_map(|(a, drop, ones)| {
        let keep = a.len() - (drop as usize % (a.len() + 1));
        let b: Vec<usize> = a[a.len() - keep..]
            .iter()
            .enumerate()
            .map(|(i, &d)| if ones >> i & 1 == 1 { 1 } else { d })
            .collect();
        if drop & 1 == 0 {
            (a, b)
        } else {
            (b, a)
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn broadcasting_is_symmetric_and_gradients_come_back_in_input_shapes(
        (a, b) in broadcastable_pair(),
        seed in 0u64..1000,
    ) {
        let out = broadcast_shapes("add", &a, &b).unwrap();
        prop_assert_eq!(&out, &broadcast_shapes("add", &b, &a).unwrap());
        let x = Tensor::<f64>::randn(&a, 0.0, 1.0, seed).requires_grad();
        let y = Tensor::<f64>::randn(&b, 0.0, 1.0, seed + 1).requires_grad();
        let z = &x * &y + &x;
        prop_assert_eq!(z.shape(), out.as_slice());
        if z.numel() > 0 {
            z.sum().backward();
            prop_assert_eq!(x.grad().unwrap().shape().to_vec(), a);
            prop_assert_eq!(y.grad().unwrap().shape().to_vec(), b);
        }
    }

    #[test]
    fn composite_expressions_pass_gradcheck((a, b) in broadcastable_pair(), seed in 0u64..1000) {
        let x = Tensor::<f64>::rand_uniform(&a, 0.5, 2.0, seed).to_array();
        let y = Tensor::<f64>::rand_uniform(&b, -1.0, 1.0, seed + 1).to_array();
        let f = |t: &[Tensor<f64>]| (&(&t[0] * &t[1]).exp() / &t[0]).tanh() - &t[1].powf(2.0);
        if let Err(e) = gradcheck("composite", f, &[x, y]) {
            prop_assert!(false, "{}", e);
        }
    }

    #[test]
    fn reshape_and_permute_round_trip(dims in prop::collection::vec(1usize..4, 1..4), seed in 0u64..1000) {
        let x = Tensor::<f32>::randn(&dims, 0.0, 1.0, seed);
        let flat = x.reshape(&[x.numel()]).reshape(&dims);
        prop_assert_eq!(flat.to_vec(), x.to_vec());
        let reversed: Vec<usize> = (0..dims.len()).rev().collect();
        let back = x.permute(&reversed).permute(&reversed);
        prop_assert_eq!(back.to_vec(), x.to_vec());
    }

    #[test]
    fn shape_errors_never_panic_in_try_forms(a in shape(), b in shape()) {
        let x = Tensor::<f32>::zeros(&a);
        let y = Tensor::<f32>::zeros(&b);
        // Whatever the shapes, try_ forms return Ok or a message naming the op.
        for (name, result) in [
            ("add", x.try_add(&y).map(drop)),
            ("matmul", x.try_matmul(&y).map(drop)),
            ("reshape", x.try_reshape(&b).map(drop)),
            ("broadcast_to", x.try_broadcast_to(&b).map(drop)),
        ] {
            if let Err(e) = result {
                prop_assert!(e.to_string().starts_with(name), "{}", e);
            }
        }
    }
}
