//! Grad of grad: backward rules are tensor ops, so gradients can be differentiated again.

use tapegrad::{grad, Tensor};

#[test]
fn second_derivative_of_x_cubed_is_6x() {
    let x = Tensor::<f64>::from_vec(vec![-2.0, 0.5, 3.0], &[3]).requires_grad();
    let y = x.powf(3.0).sum();
    let dy = grad(&y, &[&x], true).unwrap().remove(0); // 3x²
    assert_eq!(dy.to_vec(), vec![12.0, 0.75, 27.0]);
    let d2y = grad(&dy.sum(), &[&x], true).unwrap().remove(0); // 6x
    assert_eq!(d2y.to_vec(), vec![-12.0, 3.0, 18.0]);
    let d3y = grad(&d2y.sum(), &[&x], false).unwrap().remove(0); // 6
    assert_eq!(d3y.to_vec(), vec![6.0; 3]);
}

#[test]
fn hessian_vector_product_of_a_quadratic_is_a_times_v() {
    // f(x) = ½xᵀAx with A symmetric: ∇f = Ax and the Hessian is A, so H·v = A·v.
    let a = Tensor::<f64>::from_vec(vec![4.0, 1.0, 0.5, 1.0, 3.0, -1.0, 0.5, -1.0, 2.0], &[3, 3]);
    let x = Tensor::<f64>::from_vec(vec![0.3, -1.2, 2.0], &[3, 1]).requires_grad();
    let v = Tensor::<f64>::from_vec(vec![1.0, 2.0, -0.5], &[3, 1]);

    let f = x.t().matmul(&a).matmul(&x).sum() * 0.5;
    let g = grad(&f, &[&x], true).unwrap().remove(0);
    let expected_g = a.matmul(&x.detach()).to_vec();
    for (got, want) in g.to_vec().iter().zip(&expected_g) {
        assert!((got - want).abs() < 1e-12, "∇f = Ax: {got} vs {want}");
    }

    let hv = grad(&(&g * &v).sum(), &[&x], false).unwrap().remove(0);
    let expected_hv = a.matmul(&v).to_vec();
    for (got, want) in hv.to_vec().iter().zip(&expected_hv) {
        assert!((got - want).abs() < 1e-12, "Hv = Av: {got} vs {want}");
    }
}

#[test]
fn grad_without_create_graph_records_nothing_extra() {
    let x = Tensor::<f64>::from_vec(vec![1.0, 2.0], &[2]).requires_grad();
    let y = (&x * &x).sum();
    let nodes_before = y.tape().unwrap().len();
    let g = grad(&y, &[&x], false).unwrap().remove(0);
    assert_eq!(g.to_vec(), vec![2.0, 4.0]);
    assert!(!g.is_tracked(), "a first-order gradient is a plain value");
    assert!(nodes_before > 0 && y.tape().unwrap().is_consumed());
    assert!(
        x.grad().is_none(),
        "grad() returns gradients; it does not accumulate them"
    );
}

#[test]
fn create_graph_keeps_the_tape_and_appends_above_the_root() {
    let x = Tensor::<f64>::scalar(2.0).requires_grad();
    let y = x.exp().sum();
    let tape = y.tape().unwrap();
    let before = tape.len();
    let g = grad(&y, &[&x], true).unwrap().remove(0);
    assert!(tape.len() > before, "the rule's ops were recorded");
    assert!(g.node_id().unwrap() >= before, "above the root");
    assert!((g.item() - 2f64.exp()).abs() < 1e-12);
}

#[test]
fn grad_of_an_output_that_does_not_use_an_input_says_which_input() {
    // y = x² uses x but neither z (lifted nowhere) nor h (recorded, but not on y's path).
    let x = Tensor::<f64>::scalar(3.0).requires_grad();
    let z = Tensor::<f64>::ones(&[2]).requires_grad();
    let h = &x * 5.0;
    let y = &x * &x;
    let err = grad(&y, &[&x, &z], false).unwrap_err().to_string();
    assert_eq!(
        err,
        "grad: [2]: input 1 (of 2) was not used to compute the output, so it has no gradient; \
         set GradOptions::allow_unused to get None for it, or materialize_grads to get zeros"
    );
    let y = &x * &x;
    let err = grad(&y, &[&h, &x], true).unwrap_err().to_string();
    assert!(err.starts_with("grad: []: input 0 (of 2)"), "{err}");
}

#[test]
fn allow_unused_gives_none_and_materialize_grads_gives_zeros() {
    use tapegrad::{grad_with, GradOptions};
    let x = Tensor::<f64>::scalar(3.0).requires_grad();
    let z = Tensor::<f64>::ones(&[2, 1]).requires_grad();
    let y = &x * &x; // ∂y/∂x = 2x = 6, ∂y/∂z = 0
    let allow = GradOptions {
        allow_unused: true,
        ..GradOptions::default()
    };
    let g = grad_with(&y, &[&x, &z], allow).unwrap();
    assert_eq!(g[0].as_ref().unwrap().item(), 6.0);
    assert!(g[1].is_none());
    let y = &x * &x;
    let zeros = GradOptions {
        materialize_grads: true,
        create_graph: true,
        ..GradOptions::default()
    };
    let g = grad_with(&y, &[&z, &x], zeros).unwrap();
    assert_eq!(g[0].as_ref().unwrap().shape(), &[2, 1]);
    assert_eq!(g[0].as_ref().unwrap().to_vec(), vec![0.0, 0.0]);
    // With create_graph the used input's gradient is on the tape: ∂(2x)/∂x = 2.
    let d2 = grad(g[1].as_ref().unwrap(), &[&x], false).unwrap();
    assert_eq!(d2[0].item(), 2.0);
}
