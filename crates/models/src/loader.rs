//! Mini-batches over data held in memory: the [`DataLoader`].
//!
//! A loader holds the features `x` — a tensor of any rank whose first axis is the sample
//! axis: a table `[n, features]`, images `[n, channels, height, width]`, sequences
//! `[n, time, features]` — and the targets `y` (a tensor of values, a list of class labels,
//! or anything else that implements [`Rows`]). Each epoch it yields `(x, y)` batches of
//! `batch_size` rows, in a new seeded order when shuffling is on, as PyTorch's
//! `DataLoader(dataset, batch_size, shuffle=True, drop_last=…)` does.
//!
//! The order of epoch `e` depends only on the seed and `e`, never on what ran before: a run
//! resumed from a checkpoint at epoch `e` sees the batches an uninterrupted run would have
//! seen (the [`Trainer`](crate::trainer::Trainer)'s resume test relies on it).
//!
//! Splits reuse [`data`](crate::data): [`split`](DataLoader::split) and
//! [`k_fold`](DataLoader::k_fold) shuffle rows, and
//! [`stratified_split`](DataLoader::stratified_split) keeps each class's share for labels.
//!
//! ```
//! use tapegrad_models::loader::DataLoader;
//! use tapegrad_tensor::Tensor;
//! let images = Tensor::<f32>::zeros(&[10, 1, 8, 8]);
//! let labels: Vec<usize> = (0..10).map(|i| i % 2).collect();
//! let loader = DataLoader::new(images, labels, 4).shuffle(7);
//! let sizes: Vec<Vec<usize>> = loader.epoch(0).map(|(x, _)| x.shape().to_vec()).collect();
//! assert_eq!(sizes, [vec![4, 1, 8, 8], vec![4, 1, 8, 8], vec![2, 1, 8, 8]]);
//! assert_eq!(loader.clone().drop_last(true).epoch(0).count(), 2);
//! let (train, validation) = loader.stratified_split(0.2, 1);
//! assert_eq!((train.num_rows(), validation.num_rows()), (8, 2));
//! ```

use std::fmt;

use tapegrad_tensor::{Float, Tensor};

use crate::data::{k_fold, shuffled, stratified_train_test_split, train_test_split};

/// Data whose first axis lists samples: what a [`DataLoader`] can cut into batches.
pub trait Rows: Clone {
    /// How many samples there are.
    fn num_rows(&self) -> usize;

    /// The samples `rows`, in that order.
    fn select_rows(&self, rows: &[usize]) -> Self;
}

impl<F: Float> Rows for Tensor<F> {
    /// The length of the first axis (1 for a scalar).
    fn num_rows(&self) -> usize {
        self.shape().first().copied().unwrap_or(1)
    }

    fn select_rows(&self, rows: &[usize]) -> Self {
        self.index_select(0, rows)
    }
}

impl<T: Clone> Rows for Vec<T> {
    fn num_rows(&self) -> usize {
        self.len()
    }

    fn select_rows(&self, rows: &[usize]) -> Self {
        rows.iter().map(|&i| self[i].clone()).collect()
    }
}

impl<A: Rows, B: Rows> Rows for (A, B) {
    /// The first part's count (a loader checks that both parts agree).
    fn num_rows(&self) -> usize {
        self.0.num_rows()
    }

    fn select_rows(&self, rows: &[usize]) -> Self {
        (self.0.select_rows(rows), self.1.select_rows(rows))
    }
}

/// Why a loader cannot be built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoaderError {
    /// `x` and `y` hold different numbers of samples.
    RowMismatch {
        /// Samples in `x` (its first axis).
        x: usize,
        /// Samples in `y`.
        y: usize,
    },
    /// A batch size of 0.
    EmptyBatch,
}

impl fmt::Display for LoaderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoaderError::RowMismatch { x, y } => write!(
                f,
                "DataLoader: x has {x} samples (its first axis) but y has {y}; they must match"
            ),
            LoaderError::EmptyBatch => write!(f, "DataLoader: batch_size must be at least 1"),
        }
    }
}

impl std::error::Error for LoaderError {}

/// Batches of `(x, y)` rows, reshuffled every epoch when asked. Cloning is cheap for the
/// features (a tensor is a handle) and copies the targets.
#[derive(Clone, Debug)]
pub struct DataLoader<F: Float, Y: Rows> {
    x: Tensor<F>,
    y: Y,
    batch_size: usize,
    shuffle_seed: Option<u64>,
    drop_last: bool,
}

impl<F: Float, Y: Rows> DataLoader<F, Y> {
    /// Batches of `batch_size` rows of `x` (first axis: samples) and `y`, in order, the last
    /// one possibly smaller. Use [`shuffle`](Self::shuffle) for a seeded new order each epoch
    /// and [`drop_last`](Self::drop_last) to skip the short batch.
    ///
    /// # Errors
    /// `RowMismatch` when `x` and `y` count different samples, `EmptyBatch` for
    /// `batch_size` 0.
    pub fn try_new(x: Tensor<F>, y: Y, batch_size: usize) -> Result<Self, LoaderError> {
        if x.num_rows() != y.num_rows() {
            return Err(LoaderError::RowMismatch {
                x: x.num_rows(),
                y: y.num_rows(),
            });
        }
        if batch_size == 0 {
            return Err(LoaderError::EmptyBatch);
        }
        Ok(DataLoader {
            x,
            y,
            batch_size,
            shuffle_seed: None,
            drop_last: false,
        })
    }

    /// [`try_new`](Self::try_new), panicking with its message.
    ///
    /// # Panics
    /// As `try_new` errs.
    #[track_caller]
    pub fn new(x: Tensor<F>, y: Y, batch_size: usize) -> Self {
        Self::try_new(x, y, batch_size).unwrap_or_else(|e| panic!("{e}"))
    }

    /// The whole data set as one batch: full-batch gradient descent, or L-BFGS.
    ///
    /// # Errors
    /// `RowMismatch` as [`try_new`](Self::try_new); `EmptyBatch` when there are no rows.
    pub fn full_batch(x: Tensor<F>, y: Y) -> Result<Self, LoaderError> {
        let n = x.num_rows();
        Self::try_new(x, y, n)
    }

    /// Shuffles the rows anew each epoch: epoch `e`'s order is a Fisher–Yates shuffle
    /// seeded with `seed + e`.
    pub fn shuffle(mut self, seed: u64) -> Self {
        self.shuffle_seed = Some(seed);
        self
    }

    /// Whether to skip the last batch when it is shorter than `batch_size` (a batch of one
    /// sample, say, makes batch normalisation's variance zero).
    pub fn drop_last(mut self, drop: bool) -> Self {
        self.drop_last = drop;
        self
    }

    /// The number of samples.
    pub fn num_rows(&self) -> usize {
        self.x.num_rows()
    }

    /// Rows per batch.
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// The number of batches in an epoch.
    pub fn num_batches(&self) -> usize {
        let n = self.num_rows();
        if self.drop_last {
            n / self.batch_size
        } else {
            n.div_ceil(self.batch_size)
        }
    }

    /// Whether an epoch is a single batch holding every row in order: then every epoch
    /// computes the same full-batch loss.
    pub fn is_full_batch(&self) -> bool {
        self.batch_size >= self.num_rows() && self.shuffle_seed.is_none()
    }

    /// The features, all rows.
    pub fn x(&self) -> &Tensor<F> {
        &self.x
    }

    /// The targets, all rows.
    pub fn y(&self) -> &Y {
        &self.y
    }

    /// The row order of epoch `epoch` (0-based).
    fn order(&self, epoch: usize) -> Vec<usize> {
        match self.shuffle_seed {
            Some(seed) => shuffled(self.num_rows(), seed.wrapping_add(epoch as u64)),
            None => (0..self.num_rows()).collect(),
        }
    }

    /// The batches of epoch `epoch` (0-based), as `(x, y)` pairs.
    pub fn epoch(&self, epoch: usize) -> impl Iterator<Item = (Tensor<F>, Y)> + '_ {
        let order = self.order(epoch);
        let batches = self.num_batches();
        (0..batches).map(move |b| {
            let rows = &order[b * self.batch_size..((b + 1) * self.batch_size).min(order.len())];
            if rows.len() == self.num_rows() && self.shuffle_seed.is_none() {
                (self.x.clone(), self.y.clone())
            } else {
                (self.x.select_rows(rows), self.y.select_rows(rows))
            }
        })
    }

    /// The batches in the stored order, whatever the shuffling setting and with the last
    /// short batch kept: how an evaluation walks the data.
    pub fn in_order(&self) -> impl Iterator<Item = (Tensor<F>, Y)> + '_ {
        let n = self.num_rows();
        (0..n.div_ceil(self.batch_size)).map(move |b| {
            if self.batch_size >= n {
                return (self.x.clone(), self.y.clone());
            }
            let rows: Vec<usize> =
                (b * self.batch_size..((b + 1) * self.batch_size).min(n)).collect();
            (self.x.select_rows(&rows), self.y.select_rows(&rows))
        })
    }

    /// A loader over the samples `rows` only, with the same settings.
    pub fn subset(&self, rows: &[usize]) -> Self {
        DataLoader {
            x: self.x.select_rows(rows),
            y: self.y.select_rows(rows),
            ..self.clone()
        }
    }

    /// (train, held out) loaders: the rows shuffled with `seed`, ⌊n·fraction⌉ of them held
    /// out; both keep this loader's settings.
    ///
    /// # Panics
    /// When `fraction` is outside [0, 1].
    #[track_caller]
    pub fn split(&self, fraction: f64, seed: u64) -> (Self, Self) {
        let (train, held_out) = train_test_split(self.num_rows(), fraction, seed);
        (self.subset(&train), self.subset(&held_out))
    }

    /// k (train, validation) loader pairs: every sample is in exactly one validation fold.
    ///
    /// # Panics
    /// When k < 2 or k > the number of samples.
    #[track_caller]
    pub fn k_fold(&self, k: usize, seed: u64) -> Vec<(Self, Self)> {
        k_fold(self.num_rows(), k, seed)
            .into_iter()
            .map(|(train, validation)| (self.subset(&train), self.subset(&validation)))
            .collect()
    }
}

impl<F: Float> DataLoader<F, Vec<usize>> {
    /// [`split`](Self::split) within each class, so the held-out rows keep the classes'
    /// proportions and every class keeps a training row.
    ///
    /// # Panics
    /// When `fraction` is outside [0, 1].
    #[track_caller]
    pub fn stratified_split(&self, fraction: f64, seed: u64) -> (Self, Self) {
        let (train, held_out) = stratified_train_test_split(&self.y, fraction, seed);
        (self.subset(&train), self.subset(&held_out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loader(n: usize, batch: usize) -> DataLoader<f64, Vec<usize>> {
        let x = Tensor::from_vec((0..n * 2).map(|v| v as f64).collect(), &[n, 2]);
        DataLoader::new(x, (0..n).collect(), batch)
    }

    #[test]
    fn every_row_appears_once_per_epoch_in_a_seeded_order() {
        let l = loader(10, 3).shuffle(5);
        for epoch in 0..3 {
            let mut seen: Vec<usize> = l.epoch(epoch).flat_map(|(_, y)| y).collect();
            let order = seen.clone();
            seen.sort_unstable();
            assert_eq!(seen, (0..10).collect::<Vec<_>>());
            let again: Vec<usize> = l.epoch(epoch).flat_map(|(_, y)| y).collect();
            assert_eq!(
                order, again,
                "an epoch's order depends on the seed and epoch only"
            );
        }
        let first: Vec<usize> = l.epoch(0).flat_map(|(_, y)| y).collect();
        let second: Vec<usize> = l.epoch(1).flat_map(|(_, y)| y).collect();
        assert_ne!(first, second, "each epoch is reshuffled");
    }

    #[test]
    fn features_follow_their_targets() {
        let l = loader(7, 2).shuffle(1);
        for (x, y) in l.epoch(3) {
            for (row, &i) in y.iter().enumerate() {
                let values = x.value();
                assert_eq!(values[[row, 0]], (2 * i) as f64);
                assert_eq!(values[[row, 1]], (2 * i + 1) as f64);
            }
        }
    }

    #[test]
    fn drop_last_skips_only_the_short_batch() {
        assert_eq!(loader(10, 3).num_batches(), 4);
        assert_eq!(loader(10, 3).drop_last(true).num_batches(), 3);
        assert_eq!(loader(9, 3).drop_last(true).num_batches(), 3);
        let sizes: Vec<usize> = loader(10, 3)
            .drop_last(true)
            .epoch(0)
            .map(|(_, y)| y.len())
            .collect();
        assert_eq!(sizes, [3, 3, 3]);
    }

    #[test]
    fn an_unshuffled_full_batch_is_the_data_itself() {
        let l = loader(5, 5);
        assert!(l.is_full_batch());
        let (x, y) = l.epoch(0).next().unwrap();
        assert_eq!(x.to_vec(), l.x().to_vec());
        assert_eq!(y, l.y().clone());
        assert!(!loader(5, 5).shuffle(1).is_full_batch());
    }

    #[test]
    fn bad_shapes_are_refused_with_the_counts() {
        let x = Tensor::<f64>::zeros(&[4, 3, 2]);
        let err = DataLoader::try_new(x.clone(), vec![0usize; 3], 2).unwrap_err();
        assert_eq!(
            err.to_string(),
            "DataLoader: x has 4 samples (its first axis) but y has 3; they must match"
        );
        assert_eq!(
            DataLoader::try_new(x, vec![0usize; 4], 0).unwrap_err(),
            LoaderError::EmptyBatch
        );
    }

    #[test]
    fn folds_and_splits_partition_the_rows() {
        let l = loader(10, 4);
        let folds = l.k_fold(5, 3);
        let mut held: Vec<usize> = folds.iter().flat_map(|(_, v)| v.y().clone()).collect();
        held.sort_unstable();
        assert_eq!(held, (0..10).collect::<Vec<_>>());
        for (train, validation) in &folds {
            assert_eq!((train.num_rows(), validation.num_rows()), (8, 2));
            assert_eq!(train.batch_size(), 4);
        }
        let (train, test) = l.split(0.3, 2);
        assert_eq!((train.num_rows(), test.num_rows()), (7, 3));
        let images = DataLoader::new(
            Tensor::<f32>::zeros(&[6, 1, 2, 2]),
            Tensor::<f32>::zeros(&[6]),
            4,
        );
        let (a, b) = images.split(0.5, 0);
        assert_eq!(a.x().shape(), &[3, 1, 2, 2]);
        assert_eq!(b.y().shape(), &[3]);
    }
}
