//! `gather` takes its index as an index array, as a tensor of whole numbers, or as a slice.

use tapegrad_tensor::gradcheck::gradcheck;
use tapegrad_tensor::ndarray::{arr1, arr2};
use tapegrad_tensor::Tensor;

/// Values and ∂(Σ c ⊙ gather(x))/∂x for one way of giving the index.
fn run(gather: impl Fn(&Tensor<f64>) -> Tensor<f64>) -> (Vec<f64>, Vec<f64>) {
    let x = Tensor::<f64>::from_vec(vec![0.1, 0.9, 0.7, 0.3, 0.5, -0.2], &[2, 3]).requires_grad();
    let y = gather(&x);
    let c = Tensor::<f64>::from_vec((1..=y.numel()).map(|k| k as f64).collect(), y.shape());
    (&y * &c).sum().backward();
    (y.to_vec(), x.grad().unwrap().to_vec())
}

#[test]
fn an_index_array_and_an_index_tensor_give_the_same_values_and_gradients() {
    // torch.gather(x, 1, [[2, 0, 2], [1, 1, 0]]): out[i][j] = x[i][index[i][j]].
    let index = arr2(&[[2usize, 0, 2], [1, 1, 0]]).into_dyn();
    let as_tensor = Tensor::<f64>::from_vec(vec![2.0, 0.0, 2.0, 1.0, 1.0, 0.0], &[2, 3]);
    let (values, grads) = run(|x| x.gather(1, &index));
    assert_eq!(values, vec![0.7, 0.1, 0.7, 0.5, 0.5, 0.3]);
    // ∂/∂x adds each c at the element it was picked from: row 0 gets c = 1, 2, 3 at 2, 0, 2
    // (x[0][0] += 2, x[0][2] += 1 + 3); row 1 gets c = 4, 5, 6 at 1, 1, 0.
    assert_eq!(grads, vec![2.0, 0.0, 4.0, 6.0, 9.0, 0.0]);
    assert_eq!(
        run(|x| x.gather(1, &as_tensor)),
        (values.clone(), grads.clone())
    );
    assert_eq!(run(|x| x.gather(-1, &as_tensor)), (values, grads));
}

#[test]
fn a_slice_is_a_one_dimensional_index() {
    // y = x[[2, 0, 2]], L = Σ 2y: ∂L/∂x = [2, 0, 2 + 2].
    let by = |pick: &dyn Fn(&Tensor<f64>) -> Tensor<f64>| {
        let x = Tensor::<f64>::from_vec(vec![10.0, 20.0, 30.0], &[3]).requires_grad();
        let y = pick(&x);
        (&y * 2.0).sum().backward();
        (y.to_vec(), x.grad().unwrap().to_vec())
    };
    let slice = by(&|x| x.gather(0, &[2, 0, 2]));
    assert_eq!(slice, (vec![30.0, 10.0, 30.0], vec![2.0, 0.0, 4.0]));
    assert_eq!(by(&|x| x.gather(0, &vec![2, 0, 2])), slice);
    assert_eq!(by(&|x| x.gather(0, &[2usize, 0, 2][..])), slice);
    let array = arr1(&[2usize, 0, 2]).into_dyn();
    assert_eq!(by(&|x| x.gather(0, &array)), slice);
}

#[test]
fn gather_by_an_index_tensor_passes_gradcheck() {
    let index = Tensor::<f64>::from_vec(vec![1.0, 0.0, 2.0, 2.0], &[2, 2]);
    let x = Tensor::<f64>::rand_uniform(&[2, 3], -1.0, 1.0, 3);
    gradcheck("gather", |t| t[0].gather(1, &index), &[x.to_array()]).unwrap();
}

#[test]
fn an_index_tensor_must_hold_whole_numbers() {
    let x = Tensor::<f64>::zeros(&[3]);
    let bad = Tensor::<f64>::from_vec(vec![1.0, 0.5], &[2]);
    let err = x.try_gather(0, &bad).unwrap_err().to_string();
    assert_eq!(
        err,
        "gather: [2]: the index tensor holds 0.5 at [1]; indices are whole numbers ≥ 0"
    );
    let negative = Tensor::<f64>::from_vec(vec![-1.0], &[1]);
    assert!(x.try_gather(0, &negative).is_err());
    let past_the_end = x.try_gather(0, &[3]).unwrap_err().to_string();
    assert!(past_the_end.starts_with("gather"), "{past_the_end}");
}
