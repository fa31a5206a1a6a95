//! # Surnames, one character at a time: bigram → MLP → LSTM → transformer
//!
//! `data/surnames.txt` holds the 88,799 surnames of the 1990 US Census, lower-case, one per
//! line (see `data/README.md`). Four character-level language models learn to continue a
//! name, in the spirit of Karpathy's makemore, and each is scored the same way: the
//! negative log-likelihood of the test names in nats per character, where the end of a name
//! counts as a character (a model that guesses uniformly among the 27 tokens scores
//! ln 27 = 3.296).
//!
//! - **bigram**: P(next | previous) from counts with add-one smoothing, the closed form;
//! - **MLP** (Bengio et al. 2003): the previous three characters' embeddings, concatenated,
//!   through a tanh layer;
//! - **LSTM**: an embedding, one LSTM layer over the whole name, a linear read-out;
//! - **transformer**: learned token and position embeddings, two pre-norm causal
//!   transformer blocks of width 64 with 4 heads and a GELU feed-forward of 256, a final
//!   layer norm and a linear read-out, with a context of 16 (every name fits).
//!
//! A name of n letters is the input `. c₁ … cₙ` and the target `c₁ … cₙ .`, where `.` (token
//! 0) starts and ends names and `a`…`z` are tokens 1–26; sequences are padded to 16 and
//! the padding is never a target. Each neural model trains the same way: AdamW (lr 3e-3,
//! weight decay 0.01) on shuffled batches of 128 names for 3,000 steps, through the
//! library's `Trainer`, on a seeded 80/10/10 train/validation/test split. The example prints
//! the table, five names sampled from each model at temperature 0.8 with a fixed seed
//! (`tapegrad::models::generate`), and the transformer's time per step; it saves the
//! transformer's checkpoint, and `--resume` continues from it (`--steps` sets the new step
//! budget). `examples/pytorch/names_gpt.py` trains the same transformer with PyTorch.
//!
//! Run: `cargo run --release --example names_gpt [-- --threads 1] [--steps 3000]
//! [--models bigram,mlp,lstm,transformer] [--checkpoint PATH] [--resume]`

use std::process::ExitCode;
use std::time::Instant;

use tapegrad::models::generate::{generate, Autoregressive};
use tapegrad::models::loader::DataLoader;
use tapegrad::models::loss::cross_entropy;
use tapegrad::models::module::{
    Activation, Embedding, Linear, Lstm, Module, RecurrentConfig, TransformerEncoder,
    TransformerEncoderLayerConfig,
};
use tapegrad::models::trainer::{Control, Event, History, Progress, Trainer};
use tapegrad::models::{data, io::Metadata};
use tapegrad::optim::{AdamW, AdamWConfig};
use tapegrad::{no_grad, Float, Tensor};

/// The bundled data, embedded so the example needs no file at run time.
const NAMES: &str = include_str!("../data/surnames.txt");

/// The start and end of a name, `.`.
const END: usize = 0;
/// `.` and `a`…`z`.
const VOCAB: usize = 27;
/// The longest sequence a model sees: the longest name (13 letters) and its end fit.
const CONTEXT: usize = 16;
/// A target position with no character (after the end of a name).
const PAD: f32 = -1.0;
/// The split's seed, and the base of every model's seed.
const SEED: u64 = 2026;
/// Names per batch.
const BATCH: usize = 128;
/// Optimizer steps per neural model.
const STEPS: usize = 3000;
/// AdamW's learning rate.
const LR: f64 = 3e-3;
/// The sampling temperature of the printed names.
const TEMPERATURE: f64 = 0.8;

/// A name's tokens, without the start and end.
fn tokens(name: &str) -> Vec<usize> {
    name.bytes().map(|b| usize::from(b - b'a') + 1).collect()
}

/// The (previous, next) token pairs of a name, from (`.`, c₁) to (cₙ, `.`).
fn transitions(name: &str) -> impl Iterator<Item = (usize, usize)> {
    let ids = tokens(name);
    let previous = std::iter::once(END).chain(ids.clone());
    previous.zip(ids.into_iter().chain(std::iter::once(END)))
}

/// A sequence of tokens as text.
fn text(tokens: &[usize]) -> String {
    tokens
        .iter()
        .map(|&t| {
            if t == END {
                '.'
            } else {
                char::from(b'a' + t as u8 - 1)
            }
        })
        .collect()
}

/// Inputs `[n, 16]` (`. c₁ … cₙ`, padded with `.`) and targets `[n, 16]` (`c₁ … cₙ .`,
/// padded with −1), token ids stored as floats.
fn sequences(names: &[&str]) -> (Tensor<f32>, Tensor<f32>) {
    let mut x = vec![END as f32; names.len() * CONTEXT];
    let mut y = vec![PAD; names.len() * CONTEXT];
    for (i, name) in names.iter().enumerate() {
        let ids = tokens(name);
        for (t, &id) in ids.iter().enumerate() {
            x[i * CONTEXT + t + 1] = id as f32;
            y[i * CONTEXT + t] = id as f32;
        }
        y[i * CONTEXT + ids.len()] = END as f32;
    }
    let shape = [names.len(), CONTEXT];
    (Tensor::from_vec(x, &shape), Tensor::from_vec(y, &shape))
}

/// The mean negative log-likelihood per character of logits `[n, T, 27]` against targets
/// `[n, T]`, over the positions that have a target.
fn sequence_nll<F: Float>(logits: &Tensor<F>, targets: &Tensor<F>) -> Tensor<F> {
    let (n, t) = (logits.shape()[0], logits.shape()[1]);
    let targets = targets.narrow(1, 0, t).to_vec();
    let (rows, labels): (Vec<usize>, Vec<usize>) = targets
        .iter()
        .enumerate()
        .filter(|(_, y)| y.as_f64() >= 0.0)
        .map(|(row, y)| (row, y.as_f64() as usize))
        .unzip();
    let flat = logits.reshape(&[n * t, VOCAB]).index_select(0, &rows);
    cross_entropy(&flat, &labels)
}

/// Nats per character of a sequence model on `(x, y)`, in evaluation mode, without a tape,
/// 2,048 names at a time.
fn nats_per_char(model: &mut dyn Module<f32>, (x, y): &(Tensor<f32>, Tensor<f32>)) -> f64 {
    model.set_training(false);
    let (mut nll, mut count) = (0.0, 0);
    for start in (0..x.shape()[0]).step_by(2048) {
        let len = 2048.min(x.shape()[0] - start);
        let (x, y) = (x.narrow(0, start, len), y.narrow(0, start, len));
        let chars = y.to_vec().iter().filter(|&&t| t >= 0.0).count();
        let mean = no_grad(|| sequence_nll(&model.forward(&x), &y).item().as_f64());
        nll += mean * chars as f64;
        count += chars;
    }
    model.set_training(true);
    nll / count as f64
}

// ------------------------------------------------------------------------------ the models

/// The bigram model: ln P(b | a) = ln (count(a, b) + 1) − ln (count(a) + 27).
struct Bigram {
    log_probs: Vec<[f64; VOCAB]>,
}

impl Bigram {
    fn fit(names: &[&str]) -> Self {
        let mut counts = vec![[1.0; VOCAB]; VOCAB];
        for (a, b) in names.iter().flat_map(|name| transitions(name)) {
            counts[a][b] += 1.0;
        }
        let log_probs = counts
            .iter()
            .map(|row| {
                let total: f64 = row.iter().sum();
                row.map(|c| (c / total).ln())
            })
            .collect();
        Bigram { log_probs }
    }

    fn nats_per_char(&self, names: &[&str]) -> f64 {
        let (mut nll, mut count) = (0.0, 0);
        for (a, b) in names.iter().flat_map(|name| transitions(name)) {
            nll -= self.log_probs[a][b];
            count += 1;
        }
        nll / count as f64
    }
}

impl Autoregressive<f64> for Bigram {
    fn next_token_logits(&self, context: &[usize]) -> Tensor<f64> {
        Tensor::from_vec(
            self.log_probs[context[context.len() - 1]].to_vec(),
            &[VOCAB],
        )
    }
    fn end_token(&self) -> Option<usize> {
        Some(END)
    }
}

/// How many previous characters the MLP reads.
const MLP_WINDOW: usize = 3;

/// Bengio et al.'s model at every position: the embeddings of the previous three tokens
/// (`.` before the start), concatenated, through tanh(W₁·+b₁) and a linear read-out.
#[derive(Module)]
#[module(crate = tapegrad::models)]
struct Mlp<F: Float> {
    embedding: Embedding<F>,
    hidden: Linear<F>,
    head: Linear<F>,
}

impl<F: Float> Mlp<F> {
    fn new(seed: u64) -> Self {
        let (dim, hidden) = (16, 256);
        Mlp {
            embedding: Embedding::new(VOCAB, dim, seed),
            hidden: Linear::new(MLP_WINDOW * dim, hidden, seed + 1),
            head: Linear::new(hidden, VOCAB, seed + 2),
        }
    }

    /// Logits `[n, T, 27]` for inputs `[n, T]`.
    fn forward(&self, x: &Tensor<F>) -> Tensor<F> {
        let (n, t) = (x.shape()[0], x.shape()[1]);
        let ids = x.to_vec();
        // windows[i, s, j] = x[i, s − 2 + j], or `.` before the start.
        let windows: Vec<F> = (0..n * t * MLP_WINDOW)
            .map(|k| {
                let (i, s, j) = (k / (t * MLP_WINDOW), k / MLP_WINDOW % t, k % MLP_WINDOW);
                (s + j)
                    .checked_sub(MLP_WINDOW - 1)
                    .map_or(F::zero(), |s| ids[i * t + s])
            })
            .collect();
        let e = self
            .embedding
            .forward(&Tensor::from_vec(windows, &[n, t, MLP_WINDOW]));
        let h = self
            .hidden
            .forward(&e.reshape(&[n, t, MLP_WINDOW * e.shape()[3]]))
            .tanh();
        self.head.forward(&h)
    }
}

/// An embedding, one LSTM layer (batch first) and a linear read-out at every position.
#[derive(Module)]
#[module(crate = tapegrad::models)]
struct LstmModel<F: Float> {
    embedding: Embedding<F>,
    lstm: Lstm<F>,
    head: Linear<F>,
}

impl<F: Float> LstmModel<F> {
    fn new(seed: u64) -> Self {
        let (dim, hidden) = (32, 128);
        let batch_first = RecurrentConfig {
            batch_first: true,
            ..Default::default()
        };
        LstmModel {
            embedding: Embedding::new(VOCAB, dim, seed),
            lstm: Lstm::with_config(dim, hidden, batch_first, seed + 1),
            head: Linear::new(hidden, VOCAB, seed + 2),
        }
    }

    fn forward(&self, x: &Tensor<F>) -> Tensor<F> {
        self.head
            .forward(&self.lstm.forward(&self.embedding.forward(x)))
    }
}

/// Width of the transformer.
const WIDTH: usize = 64;

/// A GPT in miniature: token and learned position embeddings, two pre-norm causal blocks
/// (4 heads, GELU feed-forward of 256, no dropout), a final layer norm, a linear read-out.
/// Parameter names are those of the PyTorch model in `examples/pytorch/names_gpt.py`.
#[derive(Module)]
#[module(crate = tapegrad::models)]
struct Gpt<F: Float> {
    tok_emb: Embedding<F>,
    pos_emb: Embedding<F>,
    encoder: TransformerEncoder<F>,
    head: Linear<F>,
}

impl<F: Float> Gpt<F> {
    fn new(seed: u64) -> Self {
        let block = TransformerEncoderLayerConfig {
            dim_feedforward: 4 * WIDTH,
            dropout: 0.0,
            activation: Activation::Gelu,
            batch_first: true,
            norm_first: true,
            ..Default::default()
        };
        Gpt {
            tok_emb: Embedding::new(VOCAB, WIDTH, seed),
            pos_emb: Embedding::new(CONTEXT, WIDTH, seed + 1),
            encoder: TransformerEncoder::new(WIDTH, 4, block, 2, true, seed + 2).with_causal(true),
            head: Linear::new(WIDTH, VOCAB, seed + 3),
        }
    }

    fn forward(&self, x: &Tensor<F>) -> Tensor<F> {
        let t = x.shape()[1];
        let positions: Vec<usize> = (0..t).collect();
        let h = self.tok_emb.forward(x) + self.pos_emb.lookup(&positions);
        self.head.forward(&self.encoder.forward(&h))
    }
}

/// A sequence model as a sampler: the logits at the last position of the context.
struct Sampler<'m> {
    model: &'m dyn Module<f32>,
    context_len: Option<usize>,
}

impl Autoregressive<f32> for Sampler<'_> {
    fn next_token_logits(&self, context: &[usize]) -> Tensor<f32> {
        let t = context.len();
        let x = Tensor::from_vec(context.iter().map(|&c| c as f32).collect(), &[1, t]);
        self.model.forward(&x).narrow(1, t - 1, 1).reshape(&[VOCAB])
    }
    fn context_len(&self) -> Option<usize> {
        self.context_len
    }
    fn end_token(&self) -> Option<usize> {
        Some(END)
    }
}

/// Five names drawn from `model` at [`TEMPERATURE`], seeds `SEED..SEED + 5`.
fn samples<F: Float>(model: &dyn Autoregressive<F>) -> String {
    (0..5)
        .map(|i| text(&generate(model, &[END], 30, TEMPERATURE, None, SEED + i)))
        .collect::<Vec<_>>()
        .join(", ")
}

// ---------------------------------------------------------------------------- the training

/// What training a neural model gives: its test score, time per step and history.
struct Trained {
    nats: f64,
    ms_per_step: f64,
    history: History,
}

/// Trains `model` with AdamW on shuffled batches of [`BATCH`] names until `steps` steps in
/// all, evaluating on the validation names after each epoch; with a checkpoint path, saves
/// the run there after every epoch and, with `resume`, continues the run saved there.
fn train(
    model: &mut dyn Module<f32>,
    name: &str,
    split: &Split,
    steps: usize,
    checkpoint: Option<(&str, bool)>,
) -> Trained {
    let train = DataLoader::new(split.train.0.clone(), split.train.1.clone(), BATCH)
        .shuffle(SEED)
        .drop_last(true);
    let val = DataLoader::full_batch(split.val.0.clone(), split.val.1.clone())
        .expect("one target row per name");
    let config = AdamWConfig {
        lr: LR,
        ..Default::default()
    };
    let mut optimizer = AdamW::new(model.parameters(), config).expect("a valid rate");
    // Time per step: the median gap between consecutive steps of an epoch (forward,
    // backward, update; evaluation falls between epochs and is left out).
    let mut gaps = Vec::new();
    let mut last: Option<(usize, Instant)> = None;
    let mut trainer = Trainer::new(usize::MAX, sequence_nll)
        .max_steps(steps)
        .progress(Progress::Auto)
        .callback(|event| {
            if let Event::Step { epoch, .. } = event {
                let now = Instant::now();
                if let Some((previous, at)) = last.filter(|(e, _)| e == epoch) {
                    debug_assert_eq!(previous, *epoch);
                    gaps.push(now.duration_since(at).as_secs_f64());
                }
                last = Some((*epoch, now));
            }
            Control::Continue
        });
    if let Some((path, resume)) = checkpoint {
        let mut metadata = Metadata::new();
        metadata.insert("model".into(), name.into());
        trainer = trainer.checkpoint(path, 1).checkpoint_metadata(metadata);
        if resume {
            trainer = trainer.resume(path);
        }
    }
    let history = trainer
        .fit(model, &mut optimizer, &train, Some(&val))
        .unwrap_or_else(|e| panic!("training the {name}: {e}"));
    drop(trainer);
    gaps.sort_by(f64::total_cmp);
    Trained {
        nats: nats_per_char(model, &split.test),
        ms_per_step: gaps.get(gaps.len() / 2).map_or(f64::NAN, |s| s * 1e3),
        history,
    }
}

/// The three parts of the data, as sequences.
struct Split {
    train: (Tensor<f32>, Tensor<f32>),
    val: (Tensor<f32>, Tensor<f32>),
    test: (Tensor<f32>, Tensor<f32>),
}

/// The command line's settings.
struct Args {
    threads: Option<usize>,
    steps: usize,
    models: Vec<String>,
    checkpoint: String,
    resume: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        threads: None,
        steps: STEPS,
        models: ["bigram", "mlp", "lstm", "transformer"]
            .map(String::from)
            .to_vec(),
        checkpoint: concat!(env!("CARGO_MANIFEST_DIR"), "/target/names_gpt.safetensors").into(),
        resume: false,
    };
    let mut given = std::env::args().skip(1);
    while let Some(flag) = given.next() {
        let mut value = || given.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--threads" => args.threads = Some(value()?.parse().map_err(|e| format!("--threads: {e}"))?),
            "--steps" => args.steps = value()?.parse().map_err(|e| format!("--steps: {e}"))?,
            "--models" => args.models = value()?.split(',').map(String::from).collect(),
            "--checkpoint" => args.checkpoint = value()?,
            "--resume" => args.resume = true,
            other => return Err(format!("unknown argument {other}; usage: [--threads N] [--steps N] [--models bigram,mlp,lstm,transformer] [--checkpoint PATH] [--resume]")),
        }
    }
    if let Some(bad) = args
        .models
        .iter()
        .find(|m| !["bigram", "mlp", "lstm", "transformer"].contains(&m.as_str()))
    {
        return Err(format!("--models: unknown model {bad:?}"));
    }
    Ok(args)
}

/// A neural model to train: its name, the model and the context its sampler passes.
type Candidate = (&'static str, Box<dyn Module<f32>>, Option<usize>);

/// One line of the results.
struct Row {
    name: &'static str,
    parameters: usize,
    nats: f64,
    ms_per_step: Option<f64>,
    samples: String,
}

fn print_table(rows: &[Row]) {
    println!("\n| model | parameters | test nats/char | ms/step |");
    println!("|---|---:|---:|---:|");
    for row in rows {
        let ms = row.ms_per_step.map_or("—".into(), |ms| format!("{ms:.1}"));
        println!(
            "| {} | {} | {:.4} | {ms} |",
            row.name, row.parameters, row.nats
        );
    }
    println!("\n(uniform guessing: {:.4})\n", (VOCAB as f64).ln());
    println!("names sampled at temperature {TEMPERATURE}:");
    for row in rows {
        println!("  {:>16}: {}", row.name, row.samples);
    }
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(threads) = args.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build_global()
            .expect("the global pool is configured once, before any parallel work");
    }
    let names: Vec<&str> = NAMES.lines().collect();
    let order = data::shuffled(names.len(), SEED);
    let (n_train, n_val) = (names.len() * 8 / 10, names.len() / 10);
    let pick = |rows: &[usize]| rows.iter().map(|&i| names[i]).collect::<Vec<_>>();
    let (train_names, val_names, test_names) = (
        pick(&order[..n_train]),
        pick(&order[n_train..n_train + n_val]),
        pick(&order[n_train + n_val..]),
    );
    let split = Split {
        train: sequences(&train_names),
        val: sequences(&val_names),
        test: sequences(&test_names),
    };
    let characters = |names: &[&str]| names.iter().map(|n| n.len() + 1).sum::<usize>();
    println!(
        "{} surnames: {} to train on, {} to validate, {} to test ({} characters with the ends); {} thread(s)\n",
        names.len(),
        train_names.len(),
        val_names.len(),
        test_names.len(),
        characters(&test_names),
        rayon::current_num_threads()
    );

    let wanted = |m: &str| args.models.iter().any(|w| w == m);
    let mut rows = Vec::new();
    if wanted("bigram") {
        let bigram = Bigram::fit(&train_names);
        rows.push(Row {
            name: "bigram (counts)",
            parameters: VOCAB * VOCAB,
            nats: bigram.nats_per_char(&test_names),
            ms_per_step: None,
            samples: samples(&bigram),
        });
    }
    let mut neural: Vec<Candidate> = Vec::new();
    if wanted("mlp") {
        neural.push((
            "MLP (Bengio)",
            Box::new(Mlp::new(SEED + 10)),
            Some(MLP_WINDOW),
        ));
    }
    if wanted("lstm") {
        neural.push(("LSTM", Box::new(LstmModel::new(SEED + 20)), None));
    }
    if wanted("transformer") {
        neural.push(("transformer", Box::new(Gpt::new(SEED + 30)), Some(CONTEXT)));
    }
    let mut failures = Vec::new();
    for (name, mut model, context_len) in neural {
        let is_gpt = name == "transformer";
        let checkpoint = is_gpt.then_some((args.checkpoint.as_str(), args.resume));
        println!("training the {name} …");
        let trained = train(&mut *model, name, &split, args.steps, checkpoint);
        let last = trained.history.last();
        println!(
            "  {name}: {} epoch(s), validation {:.4} nats/char, {:.1} ms/step; {}",
            trained.history.epochs.len(),
            last.and_then(|r| r.val_loss).unwrap_or(f64::NAN),
            trained.ms_per_step,
            trained
                .history
                .stop
                .as_ref()
                .map_or(String::new(), |s| s.to_string())
        );
        if is_gpt {
            let all = nats_per_char(&mut *model, &sequences(&names));
            println!("  checkpoint: {}", args.checkpoint);
            println!(
                "  all {} names: {all:.5} nats/char (`python examples/pytorch/names_gpt.py --check {}` computes the same in PyTorch)",
                names.len(),
                args.checkpoint
            );
            if args.steps >= STEPS && trained.nats > 2.30 {
                failures.push(format!(
                    "the transformer scored {:.4} nats/char, above 2.30",
                    trained.nats
                ));
            }
        }
        model.set_training(false);
        let sampler = Sampler {
            model: &*model,
            context_len,
        };
        rows.push(Row {
            name,
            parameters: model.parameters().iter().map(|p| p.value().len()).sum(),
            nats: trained.nats,
            ms_per_step: Some(trained.ms_per_step),
            samples: samples(&sampler),
        });
    }
    // The checks hold for the full budget; a shorter run is a trial.
    if let (Some(bigram), Some(gpt), true) = (
        rows.iter().find(|r| r.name.starts_with("bigram")),
        rows.iter().find(|r| r.name == "transformer"),
        args.steps >= STEPS,
    ) {
        if gpt.nats >= bigram.nats {
            failures.push(format!(
                "the transformer ({:.4}) does not beat the bigram ({:.4})",
                gpt.nats, bigram.nats
            ));
        }
    }
    print_table(&rows);
    if failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        for failure in failures {
            eprintln!("check failed: {failure}");
        }
        ExitCode::FAILURE
    }
}
