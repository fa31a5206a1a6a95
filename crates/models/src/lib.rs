//! Models (coming: see the issues).
