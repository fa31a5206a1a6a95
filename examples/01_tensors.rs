//! # 01 — Tensors
//!
//! A tensor is an n-dimensional array with a shape. This example creates a few, combines them
//! with NumPy broadcasting (shapes are aligned from the right; a dimension of 1 stretches),
//! multiplies matrices, reduces over axes, and shows the error a shape mistake produces.
//! Nothing here is differentiated yet: these tensors are constants, and cost nothing extra.
//!
//! Run: `cargo run --example 01_tensors`

use tapegrad::Tensor;

fn main() {
    let a = Tensor::<f32>::arange(1.0, 7.0, 1.0).reshape(&[2, 3]);
    println!("a, shape {:?}:\n{a}\n", a.shape());

    let column = Tensor::<f32>::from_vec(vec![10.0, 20.0], &[2, 1]);
    let sum = &a + &column; // [2, 3] + [2, 1] → [2, 3]: the column stretches across
    println!("a + [[10], [20]] (broadcast [2, 1] over [2, 3]):\n{sum}\n");

    let product = a.matmul(&a.t()); // [2, 3] · [3, 2] → [2, 2]
    println!("a · aᵀ:\n{product}\n");

    let row_sums = a.sum_axes(&[1], false);
    let col_means = a.mean_axes(&[0], true);
    println!("row sums {row_sums}, column means (keepdim) {col_means}\n");

    let noise = Tensor::<f32>::randn(&[2, 3], 0.0, 1.0, 42);
    println!("seeded normal noise (the same on every machine):\n{noise}\n");

    match a.try_matmul(&a) {
        Ok(_) => unreachable!("[2, 3] · [2, 3] is not defined"),
        Err(e) => println!("a · a fails with: {e}"),
    }

    // Check: Σ(a·aᵀ) = Σᵢⱼ (row i)·(row j) = |Σ rows|² = |[5, 7, 9]|² = 155.
    let total = product.sum().item();
    assert_eq!(total, 155.0);
    println!("\ncheck: Σ(a·aᵀ) = {total} = |[5, 7, 9]|²");
}
