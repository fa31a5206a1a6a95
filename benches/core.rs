//! The costs a contributor needs to watch, measured with criterion (`cargo bench`):
//! recording one node, the backward sweep per node, `matmul` forward + backward at a few
//! sizes, the matrix-vector fast paths (X·w and Xᵀ·g at W1's shape), one elementwise op at a
//! few sizes, and one optimizer step. Compare runs with
//! `cargo bench -- --save-baseline before` and `--baseline before`.

use criterion::{
    black_box, criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput,
};
use tapegrad::optim::{Adam, AdamConfig, Optimizer};
use tapegrad::{Param, Tensor};

const CHAIN: usize = 10_000;

/// A scalar chain x ← x·1.0001 + 0.0001, CHAIN ops long, from a leaf.
fn chain(x0: &Tensor<f32>) -> Tensor<f32> {
    let mut x = x0.clone();
    for i in 0..CHAIN {
        x = if i % 2 == 0 { &x * 1.0001 } else { &x + 0.0001 };
    }
    x
}

fn tape(c: &mut Criterion) {
    let mut group = c.benchmark_group("tape");
    group.throughput(Throughput::Elements(CHAIN as u64));
    let x0 = Tensor::<f32>::scalar(1.0).requires_grad();
    group.bench_function("record node", |b| b.iter(|| black_box(chain(&x0))));
    // One chain at a time: chains built back to back would share the thread's current tape,
    // and the first backward would consume it for all of them.
    group.bench_function("backward per node", |b| {
        b.iter_batched(|| chain(&x0), |y| y.backward(), BatchSize::PerIteration)
    });
    group.finish();
}

fn matmul(c: &mut Criterion) {
    let mut group = c.benchmark_group("matmul fwd+bwd");
    for n in [16, 128, 512] {
        group.throughput(Throughput::Elements(6 * (n as u64).pow(3))); // flops
        let a = Param::new("a", Tensor::<f32>::randn(&[n, n], 0.0, 1.0, 1).to_array());
        let b = Param::new("b", Tensor::<f32>::randn(&[n, n], 0.0, 1.0, 2).to_array());
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |bench, _| {
            bench.iter(|| {
                a.tensor().matmul(&b.tensor()).sum().backward();
                a.zero_grad();
                b.zero_grad();
            })
        });
    }
    group.finish();
}

fn matrix_vector(c: &mut Criterion) {
    // W1's shapes: X [100000, 16] is a constant, w [16, 1] a parameter, so backward forms
    // Xᵀ·g (g = ∂L/∂(X·w)); forward X·w and backward Xᵀ·g each read X once.
    let mut group = c.benchmark_group("matrix-vector fwd+bwd");
    let (n, d) = (100_000, 16);
    group.throughput(Throughput::Bytes((2 * n * d * 4) as u64)); // X read twice
    let x = Tensor::<f32>::randn(&[n, d], 0.0, 1.0, 5);
    let w = Param::new("w", Tensor::<f32>::randn(&[d, 1], 0.0, 1.0, 6).to_array());
    group.bench_function("100000x16", |b| {
        b.iter(|| {
            x.matmul(&w.tensor()).sum().backward();
            w.zero_grad();
        })
    });
    group.finish();
}

fn elementwise(c: &mut Criterion) {
    let mut group = c.benchmark_group("mul with broadcast, fwd+bwd");
    for n in [1_000, 100_000, 1_000_000] {
        group.throughput(Throughput::Elements(n as u64));
        let x = Param::new("x", Tensor::<f32>::randn(&[n], 0.0, 1.0, 3).to_array());
        let s = Param::new("s", Tensor::<f32>::ones(&[1]).to_array());
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |bench, _| {
            bench.iter(|| {
                (x.tensor() * s.tensor()).sum().backward();
                x.zero_grad();
                s.zero_grad();
            })
        });
    }
    group.finish();
}

fn optimizer(c: &mut Criterion) {
    let mut group = c.benchmark_group("adam step");
    let n = 1_000_000;
    group.throughput(Throughput::Elements(n as u64));
    let w = Param::new("w", Tensor::<f32>::randn(&[n], 0.0, 1.0, 4).to_array());
    (w.tensor() * w.tensor()).sum().backward();
    let mut adam = Adam::new(vec![w.clone()], AdamConfig::default()).expect("valid settings");
    group.bench_function("1M parameters", |b| b.iter(|| adam.step()));
    group.finish();
}

criterion_group!(benches, tape, matmul, matrix_vector, elementwise, optimizer);
criterion_main!(benches);
