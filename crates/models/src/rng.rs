//! Random generators that layers draw from while training, shared as handles so that a
//! checkpoint can save and restore where each one is.
//!
//! Dropout draws a new mask on every training forward pass. For a run resumed from a
//! checkpoint to draw the same masks as an uninterrupted one, the checkpoint must hold each
//! generator's position, not only its seed. [`Module::named_rngs`](crate::module::Module::named_rngs)
//! lists a model's generators by name (`"1.rng"`), and [`SharedRng::state`] and
//! [`SharedRng::restore`] read and set them.
//!
//! The generator is ChaCha8, whose whole state is its 32-byte seed, its stream number and
//! its position in that stream (a count of 32-bit words), so a saved state is exact.
//!
//! ```
//! use rand::RngCore;
//! use tapegrad_models::rng::SharedRng;
//! let rng = SharedRng::new(7);
//! rng.with(|r| r.next_u64());
//! let saved = rng.state();
//! let next = rng.with(|r| r.next_u64());
//! let other = SharedRng::new(0);
//! other.restore(&saved);
//! assert_eq!(other.with(|r| r.next_u64()), next);
//! ```

use std::sync::{Arc, Mutex};

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// A ChaCha8 generator behind a shared handle: clones draw from the same stream.
#[derive(Clone, Debug)]
pub struct SharedRng(Arc<Mutex<ChaCha8Rng>>);

/// Where a [`SharedRng`] is: enough to continue its stream exactly.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RngState {
    /// The 32-byte seed.
    pub seed: [u8; 32],
    /// The stream number.
    pub stream: u64,
    /// The position in the stream, in 32-bit words.
    pub word_pos: u128,
}

impl SharedRng {
    /// A generator seeded with `seed` (as `ChaCha8Rng::seed_from_u64`).
    pub fn new(seed: u64) -> Self {
        SharedRng(Arc::new(Mutex::new(ChaCha8Rng::seed_from_u64(seed))))
    }

    /// Runs `f` on the generator (one caller at a time).
    pub fn with<R>(&self, f: impl FnOnce(&mut ChaCha8Rng) -> R) -> R {
        let mut rng = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut rng)
    }

    /// The generator's current state.
    pub fn state(&self) -> RngState {
        self.with(|rng| RngState {
            seed: rng.get_seed(),
            stream: rng.get_stream(),
            word_pos: rng.get_word_pos(),
        })
    }

    /// Moves the generator to `state`: it continues exactly as the one `state` was read from.
    pub fn restore(&self, state: &RngState) {
        self.with(|rng| {
            let mut restored = ChaCha8Rng::from_seed(state.seed);
            restored.set_stream(state.stream);
            restored.set_word_pos(state.word_pos);
            *rng = restored;
        });
    }
}

impl RngState {
    /// The state as text: the seed in hex, the stream and the word position, separated by
    /// colons (how a checkpoint stores it).
    pub fn to_text(&self) -> String {
        let seed: String = self.seed.iter().map(|b| format!("{b:02x}")).collect();
        format!("{seed}:{}:{}", self.stream, self.word_pos)
    }

    /// Reads [`to_text`](Self::to_text)'s form; `None` when it is not that.
    pub fn from_text(text: &str) -> Option<Self> {
        let mut parts = text.split(':');
        let hex = parts.next()?;
        let stream = parts.next()?.parse().ok()?;
        let word_pos = parts.next()?.parse().ok()?;
        if parts.next().is_some() || hex.len() != 64 || !hex.is_ascii() {
            return None;
        }
        let mut seed = [0u8; 32];
        for (i, byte) in seed.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(RngState {
            seed,
            stream,
            word_pos,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngCore;

    #[test]
    fn a_state_survives_its_text_form() {
        let rng = SharedRng::new(3);
        for _ in 0..5 {
            rng.with(|r| r.next_u32());
        }
        let state = rng.state();
        assert_eq!(RngState::from_text(&state.to_text()), Some(state));
        assert_eq!(RngState::from_text("zz:1:2"), None);
        assert_eq!(RngState::from_text(&format!("{}:1", "00".repeat(32))), None);
    }
}
