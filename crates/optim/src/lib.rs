//! Optimizers (coming: see the issues).
