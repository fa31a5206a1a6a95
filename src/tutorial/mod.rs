//! # The tapegrad tutorial
//!
//! Ten chapters that build reverse-mode automatic differentiation from the ground up: first by
//! hand, then with a tape written from scratch, then with tapegrad itself, up to optimizers,
//! networks, convolutions, recurrence and second derivatives. Each chapter is one page of
//! this module; read them in order.
//!
//! Every code block on these pages is a doctest, and every number the text quotes is one the
//! code computes and checks with an `assert!` beside its `println!`. So the pages cannot drift
//! from the code: `cargo test --doc -p tapegrad` runs them all, and a block you change and
//! break fails there. To run one chapter, filter by its name:
//! `cargo test --doc -p tapegrad ch03`. The blocks run in about five seconds all together;
//! compiling each one as its own small program costs more, about a second of CPU per block.
//! A passing doctest's output is not shown: to watch a block print, paste it into the `main`
//! of a file in `examples/` and `cargo run --example` it.
//!
//! | chapter | what you will do | time |
//! |---|---|---|
//! | [1. Gradient descent by hand](ch01_gradient_descent) | fit y = 2x in plain Rust; find and fix a sign error and a misplaced square | 20 min |
//! | [2. Tensors and broadcasting](ch02_tensors) | shapes, NumPy broadcasting, products and reductions | 15 min |
//! | [3. A tape from scratch](ch03_tape_from_scratch) | write a 100-line scalar Wengert list and get chapter 1's gradients from it | 30 min |
//! | [4. tapegrad's tape](ch04_tapegrads_tape) | record, print, trace and export a tape; accumulation, `no_grad`, `detach` | 25 min |
//! | [5. Writing an op](ch05_writing_an_op) | add `softsign`: forward, backward rule, its maths, gradcheck | 25 min |
//! | [6. Optimizers](ch06_optimizers) | SGD, momentum, Adam, L-BFGS and Newton-CG on an ill-conditioned bowl | 25 min |
//! | [7. Learning rate and standardisation](ch07_learning_rate) | why raw features diverge; choose the rate by k-fold cross-validation | 20 min |
//! | [8. A multilayer perceptron](ch08_mlp) | layers, losses, initialisation; classify two moons | 25 min |
//! | [9. Convolutions and recurrence](ch09_conv_and_recurrence) | conv2d as unfold + matmul; an LSTM cell by hand; backprop through time | 35 min |
//! | [10. Second order](ch10_second_order) | grad of grad, Hessian-vector products, Newton's method | 25 min |
//!
//! What you need: Rust, and the first chapter's algebra (a derivative, a sum, the chain rule).
//! The examples in `examples/` are the same ideas as programs to run (`cargo run --release
//! --example spirals`); this tutorial explains them.

#[doc = include_str!("ch01_gradient_descent.md")]
pub mod ch01_gradient_descent {}

#[doc = include_str!("ch02_tensors.md")]
pub mod ch02_tensors {}

#[doc = include_str!("ch03_tape_from_scratch.md")]
pub mod ch03_tape_from_scratch {}

#[doc = include_str!("ch04_tapegrads_tape.md")]
pub mod ch04_tapegrads_tape {}

#[doc = include_str!("ch05_writing_an_op.md")]
pub mod ch05_writing_an_op {}

#[doc = include_str!("ch06_optimizers.md")]
pub mod ch06_optimizers {}

#[doc = include_str!("ch07_learning_rate.md")]
pub mod ch07_learning_rate {}

#[doc = include_str!("ch08_mlp.md")]
pub mod ch08_mlp {}

#[doc = include_str!("ch09_conv_and_recurrence.md")]
pub mod ch09_conv_and_recurrence {}

#[doc = include_str!("ch10_second_order.md")]
pub mod ch10_second_order {}
