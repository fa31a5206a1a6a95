//! # Choosing the learning rate by k-fold cross-validation
//!
//! A learning rate too small wastes the training budget; one too large diverges. Rather than
//! guess, try several: split the training rows into k folds, train on k − 1 of them, measure
//! the loss on the one left out, and keep the rate with the lowest mean validation loss
//! (`tapegrad::models::model_selection`). The test rows are set aside first and used once,
//! at the end, so the number reported for them is an honest estimate.
//!
//! The search runs twice: on the raw features, whose scales differ by a factor of a
//! thousand, and on standardised ones. Raw, every rate that is stable for the large feature
//! is far too small for the others; standardised, one rate near 1 suits them all.
//!
//! Run: `cargo run --release --example choose_learning_rate`

use tapegrad::models::data::train_test_split;
use tapegrad::models::model_selection::{select_linear_regression_lr, LrSearch};
use tapegrad::models::preprocess::Standardizer;
use tapegrad::models::LinearRegression;
use tapegrad::optim::stop::StopRules;
use tapegrad::optim::{Optimizer, Sgd, SgdConfig};
use tapegrad::{Param, Tensor};

const LEARNING_RATES: [f64; 9] = [1e-8, 1e-7, 1e-6, 1e-4, 1e-2, 0.1, 0.5, 1.0, 2.5];
const FOLDS: usize = 5;
const SEED: u64 = 42;

/// Plain gradient descent at `lr` (the search varies only this).
fn gradient_descent(params: Vec<Param<f64>>, lr: f64) -> Box<dyn Optimizer<f64>> {
    Box::new(
        Sgd::new(
            params,
            SgdConfig {
                lr,
                ..Default::default()
            },
        )
        .expect("lr > 0"),
    )
}

/// Every candidate gets the same budget: 200 full-batch steps, or less if it diverges.
fn budget() -> StopRules {
    StopRules {
        max_iters: Some(200),
        loss_growth_above: Some(1e6),
        ..Default::default()
    }
}

/// 400 rows of three features on very different scales (a proportion, an age in years, an
/// income in currency units): y = 4·x₁ + 0.05·x₂ + 0.002·x₃ + 1 + noise.
fn data() -> (Tensor<f64>, Tensor<f64>) {
    let n = 400;
    let unit = Tensor::<f64>::rand_uniform(&[n, 1], 0.0, 1.0, 1);
    let age = Tensor::<f64>::randn(&[n, 1], 40.0, 12.0, 2);
    let income = Tensor::<f64>::randn(&[n, 1], 3000.0, 800.0, 3);
    let x = Tensor::concat(&[&unit, &age, &income], 1);
    let w = Tensor::from_vec(vec![4.0, 0.05, 0.002], &[3, 1]);
    let y = x.matmul(&w) + 1.0 + Tensor::randn(&[n, 1], 0.0, 0.3, 4);
    (x, y)
}

/// Trains on all training rows at the chosen rate and returns the test loss (½·MSE).
fn refit_and_test(
    search: &LrSearch,
    (x_train, y_train): (&Tensor<f64>, &Tensor<f64>),
    (x_test, y_test): (&Tensor<f64>, &Tensor<f64>),
) -> Option<(f64, f64)> {
    let lr = search.best()?.lr;
    let model = LinearRegression::new(x_train.shape()[1]);
    model.fit(
        x_train,
        y_train,
        gradient_descent(model.params(), lr).as_mut(),
        budget(),
    );
    Some((lr, tapegrad::no_grad(|| model.loss(x_test, y_test).item())))
}

fn main() {
    let (x, y) = data();
    let (train, test) = train_test_split(x.shape()[0], 0.25, SEED);
    let (x_train, y_train) = (x.index_select(0, &train), y.index_select(0, &train));
    let (x_test, y_test) = (x.index_select(0, &test), y.index_select(0, &test));
    println!(
        "{} training rows, {} test rows; {FOLDS}-fold search over {} learning rates, 200 steps each\n",
        train.len(),
        test.len(),
        LEARNING_RATES.len()
    );

    let scaler = Standardizer::fit(&x_train);
    let runs = [
        ("raw features", x_train.clone(), x_test.clone()),
        (
            "standardised features (mean and scale learned on the training rows)",
            scaler.transform(&x_train),
            scaler.transform(&x_test),
        ),
    ];
    for (name, features_train, features_test) in runs {
        // The search loop is the lesson; with the Trainer, `DataLoader::k_fold` gives these folds.
        let search = select_linear_regression_lr(
            &features_train,
            &y_train,
            &LEARNING_RATES,
            FOLDS,
            SEED,
            gradient_descent,
            budget(),
        );
        println!("{name}:\n{search}");
        match refit_and_test(
            &search,
            (&features_train, &y_train),
            (&features_test, &y_test),
        ) {
            Some((lr, test_loss)) => {
                println!("chosen lr = {lr}: test loss ½·MSE = {test_loss:.6}\n")
            }
            None => println!("every learning rate diverged\n"),
        }
    }
    println!(
        "The noise alone gives ½·MSE ≈ ½·0.3² = 0.045: only the standardised search gets near it."
    );
}
