//! No recursion anywhere on the graph: a chain of 1,000,000 ops is built, differentiated and
//! dropped on a thread with a 256 KiB stack (a recursive sweep or drop would overflow it).

use tapegrad::Tensor;

const OPS: usize = 1_000_000;

#[test]
fn backward_and_drop_of_a_million_op_chain_on_a_small_stack() {
    let worker = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(|| {
            let x0 = Tensor::<f64>::scalar(1.0).requires_grad();
            let mut x = x0.clone();
            // Alternately ×1.0001 and +0.0001: OPS/2 multiplications, so ∂x/∂x₀ = 1.0001^(OPS/2).
            for i in 0..OPS {
                x = if i % 2 == 0 { &x * 1.0001 } else { &x + 0.0001 };
            }
            let tape = x.tape().expect("recorded");
            assert_eq!(tape.len(), OPS + 1, "one leaf and one node per op");
            x.backward();
            let expected = 1.0001_f64.powi((OPS / 2) as i32);
            let grad = x0.grad().expect("a gradient").item();
            assert!(
                (grad - expected).abs() < 1e-9 * expected,
                "{grad} vs {expected}"
            );
            drop(x);
            // A second chain is dropped without any backward: the drop is flat too.
            let mut y = x0.clone();
            for _ in 0..OPS {
                y = &y * 1.0;
            }
            assert_eq!(y.tape().unwrap().len(), OPS + 1);
            drop(y);
        })
        .expect("spawn");
    worker
        .join()
        .expect("the worker neither overflowed its stack nor panicked");
}
