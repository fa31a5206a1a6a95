//! # The peer benchmark's five workloads, in tapegrad
//!
//! `../shared/bench` runs the same five autodiff workloads in PyTorch, JAX, numpy, candle,
//! burn and dfdx; this example is tapegrad's entry in that table. It builds exactly the
//! peers' data (the splitmix64 stream of `bench/peers/rust/common`, re-implemented here bit for
//! bit), runs the same maths, and prints one JSON line per workload in the peers' schema:
//!
//! | id | what | value |
//! |---|---|---|
//! | w1_linreg | X 100000×16, full-batch GD on MSE, 200 steps | ms/step |
//! | w2_mlp | 784 → 256 → ReLU → 10, softmax cross-entropy, batch 128, 200 steps | ms/step |
//! | w3_tiny | 2 → 16 → tanh → 16 → tanh → 1, MSE, batch 32, 2000 steps | µs/step |
//! | w4_chain | 100000 scalar ops `x·1.0001`, `x + 0.0001`; backward; drop | ms total |
//! | w5_matmul | C = A·B, 1024², loss ΣC, backward, 10 reps | ms/rep |
//! | w6_cnn | conv 1→8 3×3 → ReLU → pool 2 → conv 8→16 3×3 → ReLU → pool 2 → linear 784→10, batch 32, 100 steps | ms/step |
//! | w7_lstm | LSTM 8 → 64, T = 32, batch 16, h_T → linear → MSE, 100 steps | ms/step |
//!
//! Run: `cargo run --release --example workloads -- --workload all --threads 1`
//!
//! One more, tapegrad's own and not in `all` (no peer runs it): `--workload hvp_mlp` times a
//! Hessian-vector product of an MLP loss with 9,610 parameters (64 → 128 → tanh → 10, MSE,
//! batch 64, f64) two ways — forward over reverse (`func::hvp`: the JVP rules push v through
//! the recorded gradient) and reverse over reverse (`grad(.., create_graph = true)`, then
//! `grad` of ⟨∇L, v⟩) — and reports both in ms per product, their ratio, and their largest
//! difference.
//!
//! W4 also times its chain in anomaly mode, as `anomaly_on_ms` (the median of 3 chains inside
//! `detect_anomaly`, beside `value`, the same chains with the mode off): the price of the mode
//! when it is on. Off, it costs one thread-local read per recorded op; the README's design
//! section gives the instruction counts that show it.
//!
//! Every workload also reports its heap, in `extra`, from one untimed run made first with the
//! counting allocator below (which every allocation of this program goes through), in bytes
//! counted from just before the workload's data and model are built: `heap_live_warm` after
//! the warm-up (three steps of a training workload), `heap_live_end` after the benchmark's number of steps (W3: 10,000, also
//! as `heap_live_10k`; W4: 3 chains; W5: 10 reps), `heap_peak`, and `heap_flat` = 1 when the
//! two live figures are equal (a per-step tape must not leak). Counting is then switched
//! off, so that no timed step pays for it.

use std::time::Instant;

use tapegrad::tensor::{Conv2dOptions, MaxPool2dOptions, Padding};
use tapegrad::{Param, Tensor};

// ------------------------------------------------------------ heap accounting

/// A global allocator that forwards to the system allocator and keeps a running total of the
/// bytes currently allocated. Unsafe code lives only here: `GlobalAlloc` is an unsafe trait.
mod counting {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    static LIVE_BYTES: AtomicUsize = AtomicUsize::new(0);
    /// The largest `LIVE_BYTES` has been since the last [`reset_peak`].
    static PEAK_BYTES: AtomicUsize = AtomicUsize::new(0);
    /// Counting costs two atomic additions per allocation; the timed loops run without it.
    static COUNTING: AtomicBool = AtomicBool::new(true);

    fn add(bytes: usize) {
        if COUNTING.load(Ordering::Relaxed) {
            let live = LIVE_BYTES.fetch_add(bytes, Ordering::Relaxed) + bytes;
            PEAK_BYTES.fetch_max(live, Ordering::Relaxed);
        }
    }

    fn sub(bytes: usize) {
        if COUNTING.load(Ordering::Relaxed) {
            LIVE_BYTES.fetch_sub(bytes, Ordering::Relaxed);
        }
    }

    pub struct CountingAlloc;

    // SAFETY: every method forwards its arguments unchanged to `System`, which upholds the
    // `GlobalAlloc` contract; the only extra work is atomic arithmetic on a counter, which
    // neither allocates nor touches the memory handed out. Sizes are counted only when the
    // system allocator succeeded (a non-null pointer), so the total stays exact while
    // counting is on.
    unsafe impl GlobalAlloc for CountingAlloc {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            // SAFETY: the caller's obligations for `alloc` are passed on unchanged.
            let ptr = unsafe { System.alloc(layout) };
            if !ptr.is_null() {
                add(layout.size());
            }
            ptr
        }

        unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
            // SAFETY: as for `alloc`.
            let ptr = unsafe { System.alloc_zeroed(layout) };
            if !ptr.is_null() {
                add(layout.size());
            }
            ptr
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            // SAFETY: `ptr` and `layout` come from an earlier call on this allocator, which
            // got them from `System`.
            unsafe { System.dealloc(ptr, layout) };
            sub(layout.size());
        }

        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            // SAFETY: as for `dealloc`; `new_size` is the caller's, passed on unchanged.
            let new_ptr = unsafe { System.realloc(ptr, layout, new_size) };
            if !new_ptr.is_null() {
                add(new_size);
                sub(layout.size());
            }
            new_ptr
        }
    }

    /// Bytes allocated and not yet freed, over the whole process (while counting is on).
    pub fn live_bytes() -> usize {
        LIVE_BYTES.load(Ordering::Relaxed)
    }

    /// The largest number of live bytes since the last `reset_peak`.
    pub fn peak_bytes() -> usize {
        PEAK_BYTES.load(Ordering::Relaxed)
    }

    /// Starts a new peak from the bytes live now.
    pub fn reset_peak() {
        PEAK_BYTES.store(live_bytes(), Ordering::Relaxed);
    }

    /// Stops counting for good; `live_bytes` is meaningless afterwards.
    pub fn stop() {
        COUNTING.store(false, Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOCATOR: counting::CountingAlloc = counting::CountingAlloc;

// ------------------------------------------------------------ constants and data

const W1: (usize, usize, f32, usize) = (100_000, 16, 0.1, 200); // n, d, lr, steps
const W2: (usize, usize, usize, usize, f32, usize) = (128, 784, 256, 10, 0.01, 200); // batch, in, hidden, out, lr, steps
const W3: (usize, usize, f32, usize) = (32, 16, 0.1, 2000); // batch, hidden, lr, steps
const W4_OPS: usize = 100_000;
const W4_MUL: f32 = 1.0001;
const W4_ADD: f32 = 0.0001;
const W5_N: usize = 1024;
const W5_REPS: usize = 10;
/// Every workload, in the order they run.
const WORKLOADS: [&str; 7] = [
    "w1_linreg",
    "w2_mlp",
    "w3_tiny",
    "w4_chain",
    "w5_matmul",
    "w6_cnn",
    "w7_lstm",
];
/// Each training workload is timed this many times in-process; the median is reported.
const REPEATS: usize = 5;

/// Uniform in [0, 1) for element `i` of stream `seed`: splitmix64's finaliser over a counter,
/// 24 random bits (exact in f32) — the generator every peer uses.
fn unit(seed: u64, i: u64) -> f64 {
    let mut z = seed.wrapping_mul(0xD1B5_4A32_D192_ED03) ^ i;
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 40) as f64 / (1u64 << 24) as f64
}

fn uniform(seed: u64, len: usize, lo: f64, hi: f64) -> Vec<f32> {
    (0..len as u64)
        .map(|i| (lo + (hi - lo) * unit(seed, i)) as f32)
        .collect()
}

fn tensor(data: Vec<f32>, shape: &[usize]) -> Tensor<f32> {
    Tensor::from_vec(data, shape)
}

fn param(data: Vec<f32>, shape: &[usize]) -> Param<f32> {
    Param::new(
        "",
        ndarray::ArrayD::from_shape_vec(shape, data).expect("shape fits data"),
    )
}

// ------------------------------------------------------------------ training

/// One workload's model: `loss` records a forward pass; SGD updates `params`.
trait Workload {
    fn params(&self) -> &[Param<f32>];
    fn loss(&self) -> Tensor<f32>;
    fn lr(&self) -> f32;

    /// Forward, backward, and the SGD update w ← w − lr·∂L/∂w. Returns the loss.
    fn step(&self) -> f32 {
        let loss = self.loss();
        loss.backward();
        for p in self.params() {
            p.update(|w, g| w.scaled_add(-self.lr(), g));
            p.zero_grad();
        }
        loss.item()
    }
}

struct Linreg {
    x: Tensor<f32>,
    y: Tensor<f32>,
    params: [Param<f32>; 2],
}

impl Linreg {
    fn new() -> Self {
        let (n, d, _, _) = W1;
        let x = uniform(11, n * d, -1.0, 1.0);
        let w_true = uniform(12, d, -1.0, 1.0);
        let noise = uniform(13, n, -0.01, 0.01);
        let y = (0..n)
            .map(|r| {
                let dot: f64 = (0..d).map(|j| x[r * d + j] as f64 * w_true[j] as f64).sum();
                (dot + 0.5 + noise[r] as f64) as f32
            })
            .collect();
        Linreg {
            x: tensor(x, &[n, d]),
            y: tensor(y, &[n, 1]),
            params: [param(vec![0.0; d], &[d, 1]), param(vec![0.0], &[1])],
        }
    }
}

impl Workload for Linreg {
    fn params(&self) -> &[Param<f32>] {
        &self.params
    }
    fn lr(&self) -> f32 {
        W1.2
    }
    fn loss(&self) -> Tensor<f32> {
        let [w, b] = &self.params;
        let residual = self.x.matmul(&w.tensor()) + b.tensor() - &self.y;
        (&residual * &residual).mean()
    }
}

struct Mlp {
    x: Tensor<f32>,
    one_hot: Tensor<f32>,
    params: [Param<f32>; 4],
}

impl Mlp {
    fn new() -> Self {
        let (batch, input, hidden, out, _, _) = W2;
        let (a1, a2) = (1.0 / (input as f64).sqrt(), 1.0 / (hidden as f64).sqrt());
        let mut one_hot = vec![0.0; batch * out];
        for r in 0..batch {
            let label = (unit(22, r as u64) * out as f64).floor() as usize;
            one_hot[r * out + label] = 1.0;
        }
        Mlp {
            x: tensor(uniform(21, batch * input, -1.0, 1.0), &[batch, input]),
            one_hot: tensor(one_hot, &[batch, out]),
            params: [
                param(uniform(23, input * hidden, -a1, a1), &[input, hidden]),
                param(uniform(24, hidden, -a1, a1), &[hidden]),
                param(uniform(25, hidden * out, -a2, a2), &[hidden, out]),
                param(uniform(26, out, -a2, a2), &[out]),
            ],
        }
    }
}

impl Workload for Mlp {
    fn params(&self) -> &[Param<f32>] {
        &self.params
    }
    fn lr(&self) -> f32 {
        W2.4
    }
    fn loss(&self) -> Tensor<f32> {
        let [w1, b1, w2, b2] = &self.params;
        let h = (self.x.matmul(&w1.tensor()) + b1.tensor()).relu();
        let logits = h.matmul(&w2.tensor()) + b2.tensor();
        // Cross-entropy: −mean over the batch of log softmax(logits)[label].
        let log_probs = logits.log_softmax(1);
        -(&log_probs * &self.one_hot).sum() / W2.0 as f32
    }
}

struct Tiny {
    x: Tensor<f32>,
    y: Tensor<f32>,
    params: [Param<f32>; 6],
}

impl Tiny {
    fn new() -> Self {
        let (batch, h, _, _) = W3;
        let (a1, a2) = (1.0 / 2f64.sqrt(), 1.0 / (h as f64).sqrt());
        let x = uniform(31, batch * 2, -1.0, 1.0);
        let y = (0..batch)
            .map(|r| (x[2 * r] as f64 * x[2 * r + 1] as f64) as f32)
            .collect();
        Tiny {
            x: tensor(x, &[batch, 2]),
            y: tensor(y, &[batch, 1]),
            params: [
                param(uniform(32, 2 * h, -a1, a1), &[2, h]),
                param(uniform(33, h, -a1, a1), &[h]),
                param(uniform(34, h * h, -a2, a2), &[h, h]),
                param(uniform(35, h, -a2, a2), &[h]),
                param(uniform(36, h, -a2, a2), &[h, 1]),
                param(uniform(37, 1, -a2, a2), &[1]),
            ],
        }
    }
}

impl Workload for Tiny {
    fn params(&self) -> &[Param<f32>] {
        &self.params
    }
    fn lr(&self) -> f32 {
        W3.2
    }
    fn loss(&self) -> Tensor<f32> {
        let [w1, b1, w2, b2, w3, b3] = &self.params;
        let h1 = (self.x.matmul(&w1.tensor()) + b1.tensor()).tanh();
        let h2 = (h1.matmul(&w2.tensor()) + b2.tensor()).tanh();
        let residual = h2.matmul(&w3.tensor()) + b3.tensor() - &self.y;
        (&residual * &residual).mean()
    }
}

// ------------------------------------------------------------------ W6: a small CNN (w6_cnn)
// `bench/README.md`, "W6 and W7 exactly": NCHW batch 32×1×28×28; conv 1→8 3×3 pad 1 + bias →
// ReLU → max-pool 2×2/2 → conv 8→16 3×3 pad 1 + bias → ReLU → max-pool 2×2/2 → flatten (C, H,
// W) 784 → linear 784→10 (stored (in, out)) → softmax cross-entropy (mean); SGD lr 0.01.

const W6_BATCH: usize = 32;
const W6_HW: usize = 28;
const W6_C1: usize = 8;
const W6_C2: usize = 16;
const W6_K: usize = 3;
const W6_OUT: usize = 10;
const W6_FLAT: usize = W6_C2 * (W6_HW / 4) * (W6_HW / 4);
const W6_LR: f32 = 0.01;
const W6_STEPS: usize = 100;

struct Cnn {
    x: Tensor<f32>,
    one_hot: Tensor<f32>,
    params: [Param<f32>; 6],
}

impl Cnn {
    fn new() -> Self {
        let (c1, c2, k) = (W6_C1, W6_C2, W6_K);
        let a1 = 1.0 / ((k * k) as f64).sqrt();
        let a2 = 1.0 / ((c1 * k * k) as f64).sqrt();
        let a3 = 1.0 / (W6_FLAT as f64).sqrt();
        let mut one_hot = vec![0.0; W6_BATCH * W6_OUT];
        for r in 0..W6_BATCH {
            let label = (unit(62, r as u64) * W6_OUT as f64).floor() as usize;
            one_hot[r * W6_OUT + label] = 1.0;
        }
        Cnn {
            x: tensor(
                uniform(61, W6_BATCH * W6_HW * W6_HW, -1.0, 1.0),
                &[W6_BATCH, 1, W6_HW, W6_HW],
            ),
            one_hot: tensor(one_hot, &[W6_BATCH, W6_OUT]),
            params: [
                param(uniform(63, c1 * k * k, -a1, a1), &[c1, 1, k, k]),
                param(uniform(64, c1, -a1, a1), &[c1]),
                param(uniform(65, c2 * c1 * k * k, -a2, a2), &[c2, c1, k, k]),
                param(uniform(66, c2, -a2, a2), &[c2]),
                param(uniform(67, W6_FLAT * W6_OUT, -a3, a3), &[W6_FLAT, W6_OUT]),
                param(uniform(68, W6_OUT, -a3, a3), &[W6_OUT]),
            ],
        }
    }
}

impl Workload for Cnn {
    fn params(&self) -> &[Param<f32>] {
        &self.params
    }
    fn lr(&self) -> f32 {
        W6_LR
    }
    fn loss(&self) -> Tensor<f32> {
        let [w1, b1, w2, b2, w3, b3] = &self.params;
        let pad1 = Conv2dOptions {
            padding: Padding::Symmetric([1, 1]),
            ..Default::default()
        };
        let pool = MaxPool2dOptions::new([2, 2]);
        let h1 = self
            .x
            .conv2d(&w1.tensor(), Some(&b1.tensor()), pad1)
            .relu()
            .max_pool2d(pool);
        let h2 = h1
            .conv2d(&w2.tensor(), Some(&b2.tensor()), pad1)
            .relu()
            .max_pool2d(pool);
        let logits = h2.reshape(&[W6_BATCH, W6_FLAT]).matmul(&w3.tensor()) + b3.tensor();
        let log_probs = logits.log_softmax(1);
        -(&log_probs * &self.one_hot).sum() / W6_BATCH as f32
    }
}

// ------------------------------------------------------------------ timing and output

/// Process CPU seconds (user + system) from /proc/self/stat, in clock ticks of 1/100 s.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = stat.rsplit(')').next().unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(f64::NAN)
    };
    (ticks(11) + ticks(12)) / 100.0
}

fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        0.5 * (v[m - 1] + v[m])
    }
}

fn json_line(
    workload: &str,
    threads: usize,
    value: f64,
    unit: &str,
    runs: &[f64],
    extra: &[(&str, f64)],
) {
    let num = |v: f64| {
        if v.is_finite() {
            format!("{v:.6e}")
        } else {
            "null".into()
        }
    };
    let runs: Vec<String> = runs.iter().map(|&v| num(v)).collect();
    let extra: Vec<String> = extra
        .iter()
        .map(|(k, v)| format!("\"{k}\": {}", num(*v)))
        .collect();
    println!(
        "{{\"peer\": \"tapegrad\", \"workload\": \"{workload}\", \"threads\": {threads}, \"value\": {}, \"unit\": \"{unit}\", \"ok\": true, \"note\": \"\", \"runs\": [{}], \"extra\": {{{}}}}}",
        num(value),
        runs.join(", "),
        extra.join(", ")
    );
}

/// Fresh model, one untimed warm-up step, then `steps` timed steps; `REPEATS` times.
/// `extra` is appended to the JSON line's `extra`.
fn bench_training<W: Workload>(
    name: &str,
    threads: usize,
    steps: usize,
    scale: f64,
    unit: &str,
    make: impl Fn() -> W,
    more_extra: &[(&str, f64)],
) {
    let (mut runs, mut wall, mut cpu, mut final_loss) = (Vec::new(), 0.0, 0.0, f64::NAN);
    for rep in 0..REPEATS {
        let model = make();
        model.step();
        let (c0, t0) = (cpu_seconds(), Instant::now());
        let mut loss = 0.0;
        for _ in 0..steps {
            loss = model.step();
        }
        let elapsed = t0.elapsed().as_secs_f64();
        if rep == 0 {
            final_loss = loss as f64;
        }
        runs.push(elapsed / steps as f64 * scale);
        wall += elapsed;
        cpu += cpu_seconds() - c0;
    }
    let mut extra = vec![("final_loss", final_loss), ("cpu_util", cpu / wall)];
    extra.extend_from_slice(more_extra);
    json_line(name, threads, median(&runs), unit, &runs, &extra);
}

/// The heap over one run of a workload, in bytes counted from just before its data and model
/// are built: live after the warm-up (`warm`), live after `steps` more (`run` each time),
/// and the peak. `heap_flat` is 1 when the live bytes after the run exceed those after the
/// warm-up by at most [`HEAP_SLACK`]: nothing a step allocates outlives the step.
fn heap_check<S>(
    build: impl FnOnce() -> S,
    warm: impl FnOnce(&S),
    mut run: impl FnMut(&S),
    steps: usize,
) -> Vec<(&'static str, f64)> {
    // At 2 threads a helper thread stays awake for 0.5 ms after each shared kernel, and the
    // small job that keeps it awake is freed only then: let that pass before each reading.
    let settled_live = || {
        std::thread::sleep(std::time::Duration::from_millis(5));
        counting::live_bytes() as f64
    };
    let base = settled_live();
    counting::reset_peak();
    let state = build();
    warm(&state);
    let after_warm = settled_live() - base;
    for _ in 0..steps {
        run(&state);
    }
    let end = settled_live() - base;
    let peak = counting::peak_bytes() as f64 - base;
    drop(state);
    vec![
        ("heap_live_warm", after_warm),
        ("heap_live_end", end),
        ("heap_peak", peak),
        ("heap_steps", steps as f64),
        (
            "heap_flat",
            f64::from(u8::from(end - after_warm <= HEAP_SLACK)),
        ),
    ]
}

/// Bytes a run may end above its warm-up and still count as flat. At 2 threads a helper
/// thread that the warm-up did not need (the caller ran both halves itself, which happens
/// on a busy machine) makes a one-time allocation of 8–10 bytes the first time it runs a
/// job; a per-step leak of even one small block (16 bytes or more) over the 3 to 10,000 steps
/// of a check exceeds this.
const HEAP_SLACK: f64 = 32.0;

/// Warm-up steps of a training workload's heap check. The tensor crate keeps freed arrays of
/// the sizes its kernels ask for (at most four of each) for the next step's outputs; that
/// cache fills within the first few steps (W7 ended 0.5 MB above a one-step warm-up, then
/// stayed put), so a leak shows as growth after these.
const WARM_STEPS: usize = 3;

/// [`heap_check`] for a training workload: a fresh model, [`WARM_STEPS`] warm-up steps,
/// `steps` steps.
fn heap_training<W: Workload>(make: impl FnOnce() -> W, steps: usize) -> Vec<(&'static str, f64)> {
    heap_check(
        make,
        |m| {
            for _ in 0..WARM_STEPS {
                m.step();
            }
        },
        |m| {
            m.step();
        },
        steps,
    )
}

fn chain(threads: usize, n_ops: usize, heap: &[(&str, f64)]) {
    let once = || {
        let x0 = Tensor::<f32>::from_vec(vec![1.0], &[1]).requires_grad();
        let t0 = Instant::now();
        let mut x = x0.clone();
        for i in 0..n_ops {
            x = if i % 2 == 0 { &x * W4_MUL } else { &x + W4_ADD };
        }
        let t1 = Instant::now();
        x.sum().backward();
        let t2 = Instant::now();
        drop(x);
        let t3 = Instant::now();
        let grad = x0.grad().expect("a gradient").item() as f64;
        let ms = |a: Instant, b: Instant| (b - a).as_secs_f64() * 1e3;
        ([ms(t0, t1), ms(t1, t2), ms(t2, t3)], grad)
    };
    once();
    let results: Vec<([f64; 3], f64)> = (0..3).map(|_| once()).collect();
    let total: Vec<f64> = results.iter().map(|(s, _)| s.iter().sum()).collect();
    let part = |k: usize| median(&results.iter().map(|(s, _)| s[k]).collect::<Vec<_>>());
    let grad = results[2].1;
    let expected = (W4_MUL as f64).powi(n_ops.div_ceil(2) as i32);
    let med = median(&total);
    let anomaly_on: Vec<f64> = (0..3)
        .map(|_| {
            let (parts, _) = tapegrad::tensor::detect_anomaly(once).expect("a finite chain");
            parts.iter().sum()
        })
        .collect();
    let mut extra = vec![
        ("ops", n_ops as f64),
        ("us_per_node", med * 1e3 / n_ops as f64),
        ("forward_ms", part(0)),
        ("backward_ms", part(1)),
        ("drop_ms", part(2)),
        ("grad", grad),
        ("grad_rel_err", ((grad - expected) / expected).abs()),
        ("anomaly_on_ms", median(&anomaly_on)),
    ];
    extra.extend_from_slice(heap);
    json_line("w4_chain", threads, med, "ms total", &total, &extra);
}

/// One W4 chain of `n_ops` ops, its backward, and the drop of the graph (for the heap check).
fn chain_once(n_ops: usize) {
    let x0 = Tensor::<f32>::from_vec(vec![1.0], &[1]).requires_grad();
    let mut x = x0.clone();
    for i in 0..n_ops {
        x = if i % 2 == 0 { &x * W4_MUL } else { &x + W4_ADD };
    }
    x.sum().backward();
}

/// W5's two parameters, and one rep: C = A·B, ΣC, backward (for the heap check).
fn matmul_params() -> [Param<f32>; 2] {
    let n = W5_N;
    [
        param(uniform(51, n * n, -1.0, 1.0), &[n, n]),
        param(uniform(52, n * n, -1.0, 1.0), &[n, n]),
    ]
}

fn matmul_rep([a, b]: &[Param<f32>; 2]) {
    a.zero_grad();
    b.zero_grad();
    a.tensor().matmul(&b.tensor()).sum().backward();
}

fn matmul(threads: usize, heap: &[(&str, f64)]) {
    let n = W5_N;
    let b_data = uniform(52, n * n, -1.0, 1.0);
    let expected: f64 = b_data[..n].iter().map(|&v| v as f64).sum();
    let a = param(uniform(51, n * n, -1.0, 1.0), &[n, n]);
    let b = param(b_data, &[n, n]);
    let one_rep = || {
        a.zero_grad();
        b.zero_grad();
        a.tensor().matmul(&b.tensor()).sum().backward();
        // read in place, as torch's a.grad[0, 0] is (a.grad() would copy all 4 MiB)
        a.with_grad(|g| g.expect("a gradient")[[0, 0]]) as f64
    };
    one_rep();
    let (mut ms, mut wall, mut cpu, mut ga00) = (Vec::new(), 0.0, 0.0, f64::NAN);
    for _ in 0..W5_REPS {
        let (c0, t0) = (cpu_seconds(), Instant::now());
        ga00 = one_rep();
        let elapsed = t0.elapsed().as_secs_f64();
        ms.push(elapsed * 1e3);
        wall += elapsed;
        cpu += cpu_seconds() - c0;
    }
    let med = median(&ms);
    let mut extra = vec![
        ("gflops", 6.0 * (n as f64).powi(3) / (med * 1e-3) / 1e9),
        ("cpu_util", cpu / wall),
        ("grad_rel_err", (ga00 - expected).abs() / expected.abs()),
    ];
    extra.extend_from_slice(heap);
    json_line("w5_matmul", threads, med, "ms/rep", &ms, &extra);
}

// ============================================================ W7 (w7_lstm): begin
// One LSTM layer (input 8, hidden 64, T = 32, batch 16) whose h_T feeds a linear output, MSE,
// SGD lr 0.05, 100 steps: `../shared/bench/README.md`, "W6 and W7 exactly". The model is
// tapegrad's `Lstm` layer with the stream's weights loaded into its PyTorch-layout parameters.
// `TAPEGRAD_W7=cell` runs the same maths as a cell written inline with tensor ops instead, to
// measure what the layer costs over hand-written code.

mod w7 {
    use super::{bench_training, heap_training, param, tensor, uniform, Workload};
    use tapegrad::models::module::{Lstm, Module};
    use tapegrad::{Param, Tensor};

    const T: usize = 32;
    const BATCH: usize = 16;
    const IN: usize = 8;
    const HIDDEN: usize = 64;
    const LR: f32 = 0.05;
    pub const STEPS: usize = 100;

    /// The stream's data and initial weights: x, y, then w_ih, w_hh, b_ih, b_hh, w_out, b_out.
    fn data() -> (Tensor<f32>, Tensor<f32>, [Param<f32>; 6]) {
        let (h4, k) = (4 * HIDDEN, 1.0 / (HIDDEN as f64).sqrt());
        (
            tensor(uniform(71, T * BATCH * IN, -1.0, 1.0), &[T, BATCH, IN]),
            tensor(uniform(72, BATCH, -1.0, 1.0), &[BATCH, 1]),
            [
                param(uniform(73, h4 * IN, -k, k), &[h4, IN]),
                param(uniform(74, h4 * HIDDEN, -k, k), &[h4, HIDDEN]),
                param(uniform(75, h4, -k, k), &[h4]),
                param(uniform(76, h4, -k, k), &[h4]),
                param(uniform(77, HIDDEN, -k, k), &[HIDDEN, 1]),
                param(uniform(78, 1, -k, k), &[1]),
            ],
        )
    }

    /// With the `Lstm` layer.
    pub struct Layer {
        x: Tensor<f32>,
        y: Tensor<f32>,
        lstm: Lstm<f32>,
        params: Vec<Param<f32>>,
    }

    impl Layer {
        pub fn new() -> Self {
            let (x, y, stream) = data();
            let lstm = Lstm::new(IN, HIDDEN, 0);
            // weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0: the stream's first four.
            for (p, value) in lstm.parameters().iter().zip(&stream) {
                p.set_value((*value.value()).clone())
                    .expect("PyTorch's shapes");
            }
            let mut params = lstm.parameters();
            params.extend(stream[4..].iter().cloned());
            Layer { x, y, lstm, params }
        }
    }

    impl Workload for Layer {
        fn params(&self) -> &[Param<f32>] {
            &self.params
        }
        fn lr(&self) -> f32 {
            LR
        }
        fn loss(&self) -> Tensor<f32> {
            let (_, (h_n, _)) = self.lstm.forward_with_state(&self.x, None);
            let (w_out, b_out) = (&self.params[4], &self.params[5]);
            let pred = h_n.reshape(&[BATCH, HIDDEN]).matmul(&w_out.tensor()) + b_out.tensor();
            let residual = pred - &self.y;
            (&residual * &residual).mean()
        }
    }

    /// The same maths as a cell written inline: per step a = x_t·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh.
    pub struct Cell {
        x: Tensor<f32>,
        y: Tensor<f32>,
        params: [Param<f32>; 6],
    }

    impl Cell {
        pub fn new() -> Self {
            let (x, y, params) = data();
            Cell { x, y, params }
        }
    }

    impl Workload for Cell {
        fn params(&self) -> &[Param<f32>] {
            &self.params
        }
        fn lr(&self) -> f32 {
            LR
        }
        fn loss(&self) -> Tensor<f32> {
            let [w_ih, w_hh, b_ih, b_hh, w_out, b_out] = &self.params;
            let projection = self.x.reshape(&[T * BATCH, IN]).matmul(&w_ih.tensor().t())
                + (b_ih.tensor() + b_hh.tensor());
            let w_hh = w_hh.tensor().t();
            let mut h = Tensor::zeros(&[BATCH, HIDDEN]);
            let mut c = Tensor::zeros(&[BATCH, HIDDEN]);
            for t in 0..T {
                let a = projection.narrow(0, t * BATCH, BATCH) + h.matmul(&w_hh);
                let s = a.lstm_gates(); // σ on i, f, o and tanh on g, one pass
                let g = s.narrow(1, 2 * HIDDEN, HIDDEN);
                c = s.narrow(1, HIDDEN, HIDDEN) * &c + s.narrow(1, 0, HIDDEN) * g;
                h = s.narrow(1, 3 * HIDDEN, HIDDEN) * c.tanh();
            }
            let residual = h.matmul(&w_out.tensor()) + b_out.tensor() - &self.y;
            (&residual * &residual).mean()
        }
    }

    fn cell_inline() -> bool {
        std::env::var("TAPEGRAD_W7").as_deref() == Ok("cell")
    }

    /// The heap check of the variant that `run` times.
    pub fn heap() -> Vec<(&'static str, f64)> {
        if cell_inline() {
            heap_training(Cell::new, STEPS)
        } else {
            heap_training(Layer::new, STEPS)
        }
    }

    pub fn run(threads: usize, heap: &[(&'static str, f64)]) {
        let mut extra = vec![("cell_inline", f64::from(u8::from(cell_inline())))];
        extra.extend_from_slice(heap);
        if cell_inline() {
            bench_training("w7_lstm", threads, STEPS, 1e3, "ms/step", Cell::new, &extra);
        } else {
            bench_training(
                "w7_lstm",
                threads,
                STEPS,
                1e3,
                "ms/step",
                Layer::new,
                &extra,
            );
        }
    }
}
// ============================================================ W7 (w7_lstm): end

fn main() {
    let (mut workload, mut threads, mut w4_ops) = ("all".to_string(), 1, W4_OPS);
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--workload" => workload = value,
            "--threads" => threads = value.parse().expect("--threads takes an integer"),
            "--w4-ops" => w4_ops = value.parse().expect("--w4-ops takes an integer"),
            other => {
                panic!("unknown argument {other}; usage: --workload NAME --threads N [--w4-ops N]")
            }
        }
    }
    // `--threads` sizes rayon's global pool, from which tapegrad takes its thread count (the
    // benchmark runner also sets RAYON_NUM_THREADS to the same number).
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build_global()
        .expect("the global pool is configured once, before any parallel work");
    // Wait until every pool thread has started, so that no thread's start-up allocations land
    // inside a heap check.
    rayon::broadcast(|_| ());
    let run = |w: &str| workload == "all" || workload == w;
    // tapegrad reserves and frees 32 MiB of address space once, before its first tensor (see
    // tapegrad-tensor's heap.rs); make it happen here, not inside the first heap check's peak.
    drop(Tensor::<f32>::zeros(&[1]));
    // The heap checks run before anything is timed, one untimed run per workload with the
    // benchmark's own number of steps (W3: 10,000); then counting stops.
    let heap = |w: &str| -> Vec<(&'static str, f64)> {
        if !run(w) {
            return Vec::new();
        }
        match w {
            "w1_linreg" => heap_training(Linreg::new, W1.3),
            "w2_mlp" => heap_training(Mlp::new, W2.5),
            "w3_tiny" => {
                let mut extra = heap_training(Tiny::new, 10_000);
                // The name the earlier tables used for the live bytes after 10,000 steps.
                extra.push(("heap_live_10k", extra[1].1));
                extra
            }
            "w4_chain" => heap_check(|| (), |_| chain_once(w4_ops), |_| chain_once(w4_ops), 3),
            "w5_matmul" => heap_check(matmul_params, matmul_rep, matmul_rep, W5_REPS),
            "w6_cnn" => heap_training(Cnn::new, W6_STEPS),
            _ => w7::heap(),
        }
    };
    let heaps: Vec<Vec<(&str, f64)>> = WORKLOADS.iter().map(|w| heap(w)).collect();
    counting::stop();
    let heap = |w: &str| &heaps[WORKLOADS.iter().position(|&x| x == w).expect("known")][..];
    if run("w1_linreg") {
        let extra = heap("w1_linreg");
        bench_training(
            "w1_linreg",
            threads,
            W1.3,
            1e3,
            "ms/step",
            Linreg::new,
            extra,
        );
    }
    if run("w2_mlp") {
        let extra = heap("w2_mlp");
        bench_training("w2_mlp", threads, W2.5, 1e3, "ms/step", Mlp::new, extra);
    }
    if run("w3_tiny") {
        let extra = heap("w3_tiny");
        bench_training("w3_tiny", threads, W3.3, 1e6, "us/step", Tiny::new, extra);
    }
    if run("w4_chain") {
        chain(threads, w4_ops, heap("w4_chain"));
    }
    if run("w5_matmul") {
        matmul(threads, heap("w5_matmul"));
    }
    if run("w6_cnn") {
        let extra = heap("w6_cnn");
        bench_training("w6_cnn", threads, W6_STEPS, 1e3, "ms/step", Cnn::new, extra);
    }
    if run("w7_lstm") {
        w7::run(threads, heap("w7_lstm"));
    }
    if workload == "hvp_mlp" {
        hvp_mlp(threads);
    }
}

/// H·v of an MLP loss, forward over reverse against reverse over reverse (see the module docs).
fn hvp_mlp(threads: usize) {
    use tapegrad::{func, grad};
    const REPS: usize = 20;
    let (n, d, h, o) = (64, 64, 128, 10);
    let t = |seed: u64, shape: &[usize], scale: f64| {
        let len: usize = shape.iter().product();
        let data = (0..len as u64)
            .map(|i| scale * (2.0 * unit(seed, i) - 1.0))
            .collect();
        Tensor::<f64>::from_vec(data, shape)
    };
    let (x, y) = (t(81, &[n, d], 1.0), t(82, &[n, o], 1.0));
    let w = [
        t(83, &[d, h], 0.125),
        t(84, &[h], 0.1),
        t(85, &[h, o], 0.09),
        t(86, &[o], 0.1),
    ];
    let v = [
        t(87, &[d, h], 1.0),
        t(88, &[h], 1.0),
        t(89, &[h, o], 1.0),
        t(90, &[o], 1.0),
    ];
    let params: usize = w.iter().map(Tensor::numel).sum();
    let loss = |w: &[Tensor<f64>]| {
        let hidden = (&x.matmul(&w[0]) + &w[1]).tanh();
        let r = &(&hidden.matmul(&w[2]) + &w[3]) - &y;
        (&r * &r).mean()
    };
    let fwd_rev = || func::hvp(loss, &w, &v).expect("hvp");
    let rev_rev = || {
        let leaves: Vec<Tensor<f64>> = w.iter().map(|w| w.clone().requires_grad()).collect();
        let refs: Vec<&Tensor<f64>> = leaves.iter().collect();
        let g = grad(&loss(&leaves), &refs, true).expect("gradient");
        let gv = g
            .iter()
            .zip(&v)
            .map(|(g, v)| (g * v).sum())
            .reduce(|a, b| &a + &b)
            .expect("four parameters");
        grad(&gv, &refs, false).expect("H·v")
    };
    let diff = fwd_rev()
        .iter()
        .zip(rev_rev())
        .flat_map(|(a, b)| {
            a.to_vec()
                .into_iter()
                .zip(b.to_vec())
                .map(|(p, q)| (p - q).abs())
        })
        .fold(0.0, f64::max);
    let time = |f: &dyn Fn() -> Vec<Tensor<f64>>| -> Vec<f64> {
        (0..REPS)
            .map(|_| {
                let t0 = Instant::now();
                std::hint::black_box(f());
                t0.elapsed().as_secs_f64() * 1e3
            })
            .collect()
    };
    let (fr, rr) = (time(&fwd_rev), time(&rev_rev));
    let (fr_med, rr_med) = (median(&fr), median(&rr));
    let extra = [
        ("params", params as f64),
        ("rev_over_rev_ms", rr_med),
        ("ratio_fwd_rev_to_rev_rev", fr_med / rr_med),
        ("max_abs_diff", diff),
    ];
    json_line(
        "hvp_mlp",
        threads,
        fr_med,
        "ms/hvp fwd-over-rev",
        &fr,
        &extra,
    );
}
