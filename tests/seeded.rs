//! Every seeded random choice, pinned. The seeds promise the same numbers on every platform
//! and after every dependency update within the pinned versions (ChaCha8 streams, `rand`'s
//! value-stable f64 and `rand_distr`'s normal sampling, Fisher–Yates and dropout masks written
//! out in this project). If one of these lines fails, seeded results have changed: that is a
//! breaking change to announce, not a test to update quietly.

use tapegrad::models::data::shuffled;
use tapegrad::models::init::xavier_uniform;
use tapegrad::models::module::{Dropout, Module};
use tapegrad::Tensor;

#[test]
fn initialisation_draws_are_pinned() {
    assert_eq!(
        Tensor::<f64>::randn(&[4], 0.0, 1.0, 42).to_vec(),
        [
            0.47798123835102174,
            1.3340706102318078,
            -0.21086668327103028,
            0.4763469238088213
        ]
    );
    assert_eq!(
        Tensor::<f64>::rand_uniform(&[4], 0.0, 1.0, 42).to_vec(),
        [
            0.6818961923066714,
            0.950275407672484,
            0.4275164028565197,
            0.6273605211973403
        ]
    );
    assert_eq!(
        xavier_uniform::<f64>(2, 2, 42)
            .iter()
            .copied()
            .collect::<Vec<_>>(),
        [
            0.44555285730650795,
            1.1029449925212633,
            -0.17754782772298294,
            0.31196829030840467
        ]
    );
}

#[test]
fn shuffles_and_dropout_masks_are_pinned() {
    assert_eq!(shuffled(8, 42), [5, 3, 2, 6, 7, 4, 0, 1]);
    let mask = Dropout::new(0.5, 42)
        .forward(&Tensor::<f64>::ones(&[8]))
        .to_vec();
    assert_eq!(mask, [2.0, 2.0, 0.0, 2.0, 0.0, 0.0, 0.0, 2.0]);
}
