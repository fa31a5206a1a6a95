//! A packed f32 GEMM: BLIS's loop nest around a 6-row register kernel, written with `pulp`.
//!
//! c = a·b is computed in blocks sized to the caches. A block of `b` (up to [`KC`] rows,
//! [`NC`] columns) is copied ("packed") into panels of `NR` columns stored row after row, and
//! a block of `a` (up to [`MC`] rows, [`KC`] columns) into panels of [`MR`] rows stored column
//! after column. The register kernel then runs down one panel of each: at every k it loads
//! `NR` values of b (two SIMD vectors), broadcasts [`MR`] values of a, and does 2·[`MR`]
//! fused multiply-adds into twelve accumulators that stay in registers for the whole panel.
//! Packing makes both panels contiguous whatever the operands' strides, so op(a) and op(b)
//! are read the same way whether or not they are transposed views.
//!
//! ```text
//! for each NC-column block of b                 (jc)
//!   for each KC-row block of b                  (pc)   pack b[pc.., jc..]  → L2/L3
//!     for each MC-row block of a                (ic)   pack a[ic.., pc..]  → L2
//!       for each NR-column panel of the b block (jr)
//!         for each MR-row panel of the a block  (ir)   c tile (MR×NR) += a panel · b panel
//! ```

use std::cell::RefCell;

use pulp::{Simd, WithSimd};

use crate::ops::interleave;
use crate::parallel;

/// Rows of the register kernel's tile of c. With two SIMD vectors of columns that is
/// 2·6 = 12 accumulators, plus two b vectors and one broadcast: 15 of AVX2's 16 registers.
/// AVX-512 has 32, but taller tiles (8, 12 and 14 rows of 32 columns) were no faster on W5's
/// 1024² products (20.0–21.3 ms each on an AMD Zen 4, against 20.0–20.6 for 6 rows; on an
/// Intel Xeon, with KC = 256, 8 to 14 rows took 11.4–11.7 ms against 11.6).
const MR: usize = 6;

/// Columns of the tile, in SIMD vectors (16 f32 columns with AVX2, 32 with AVX-512).
const NV: usize = 2;

/// Rows of b per packed block (the depth of one kernel call). 256 rows of a 32-column
/// AVX-512 panel are 32 KiB, which stays in a 48 KiB L1 cache while the kernel runs down
/// every a panel of the block; each tile of c is then read back and added to once per block
/// after the first. On an Intel Xeon with AVX-512, a 1024² product took 11.5 ms with 256
/// against 13.4 with 1024 (one block, c written once, the b panel read from L2), and 12.2
/// and 12.4 with 192 and 384. (On the AMD Zen 4 of earlier rounds, with the AVX2 tile of
/// the time, 1024 had been best: 23.6–24.4 ms against 26.7–28.2 for 256.)
const KC: usize = 256;

/// Rows of a per packed block: 48·256 f32 is 48 KiB, which with the b block stays in L2
/// (with KC = 256, 48 took 11.6 ms per 1024² product against 11.9 for 96 and 11.8 for 192).
const MC: usize = 48;

/// Columns of b per packed block; 3072·256 f32 (3 MiB) bounds the packing buffer.
const NC: usize = 3072;

/// A matrix read through strides: element (i, j) is `data[i·row_stride + j·col_stride]`.
/// A row-major matrix has `col_stride` 1; its transpose, read in place, has `row_stride` 1.
#[derive(Clone, Copy, Debug)]
pub(super) struct Strided<'a> {
    pub data: &'a [f32],
    pub rows: usize,
    pub cols: usize,
    pub row_stride: usize,
    pub col_stride: usize,
}

impl<'a> Strided<'a> {
    /// A row-major `rows`×`cols` matrix, transposed (read in place) if asked.
    pub fn row_major(data: &'a [f32], rows: usize, cols: usize, transpose: bool) -> Self {
        let m = Strided {
            data,
            rows,
            cols,
            row_stride: cols,
            col_stride: 1,
        };
        if transpose {
            m.transposed()
        } else {
            m
        }
    }

    /// The transpose, read in place: rows and columns, and their strides, swapped.
    pub fn transposed(self) -> Self {
        Strided {
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
            ..self
        }
    }

    /// Rows `from..to`.
    pub fn rows(self, from: usize, to: usize) -> Self {
        let data = if to > from {
            &self.data[from * self.row_stride..]
        } else {
            &[]
        };
        Strided {
            data,
            rows: to - from,
            ..self
        }
    }

    fn at(&self, i: usize, j: usize) -> f32 {
        self.data[i * self.row_stride + j * self.col_stride]
    }
}

thread_local! {
    /// Each thread's buffer for packed blocks of a (at most MC·KC floats plus a cache line),
    /// kept between products.
    static PACKED_A: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
    /// The calling thread's buffer for packed blocks of b, which all the threads of a product
    /// that shares its b read (at most KC·NC floats plus a cache line).
    static PACKED_B: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// c = a·b on `threads` threads, with c row-major (`a.rows`×`b.cols`) and overwritten.
///
/// The rows of c are split among the threads, each packing its own blocks of a. A b whose
/// rows are contiguous is packed by each thread for itself (a copy); any other b, whose
/// packing transposes it, is packed once per block, its panels split among the threads, and
/// read by all of them. A row's result does not depend on the split: every element is
/// summed in the same order.
// fast path: a transposed b packed once and shared, instead of a whole GEMM per thread on
// its rows of a, W5 at 2 threads 37.6 → 36.3 ms/rep (numpy 34.6–35.3). A b packed by copying
// costs less to pack twice than to read from the other core's cache: at 2 threads, 1024² NN
// products 7.51–7.63 → 7.45–7.51 ms and TN 7.57–7.65 → 7.48–7.52 (two runs of 40 interleaved
// rounds), W5 22.85 → 22.66 ms/rep (medians of 5 runs), and few rows of a lose nothing by it
// ([m, 2048]·[2048, 2048] with m = 12, 48, 192: 1.78 → 1.80, 3.10 → 2.79, 7.35 → 7.06 ms);
// a transposed b packed per thread made NT slower, 7.80 → 7.94
pub(super) fn gemm(c: &mut [f32], a: Strided<'_>, b: Strided<'_>, threads: usize) {
    gemm_on(pulp::Arch::new(), c, a, b, threads);
}

/// [`gemm`] with the kernel compiled for `arch`'s instruction set (the tests run each).
fn gemm_on(arch: pulp::Arch, c: &mut [f32], a: Strided<'_>, b: Strided<'_>, threads: usize) {
    assert!(
        a.cols == b.rows && c.len() == a.rows * b.cols,
        "packed gemm: shapes"
    );
    let (m, k, n) = (a.rows, a.cols, b.cols);
    if k == 0 {
        c.fill(0.0);
        return;
    }
    let copied_b = b.col_stride == 1;
    if let Some((first, split)) = split_at_tiles(m, threads).filter(|_| copied_b) {
        // each block of rows a whole product with its own b packing
        let (top, bottom) = c.split_at_mut(split * n);
        parallel::join(
            || gemm_on(arch, top, a.rows(0, split), b, first),
            || gemm_on(arch, bottom, a.rows(split, m), b, threads - first),
        );
        return;
    }
    let nr = arch.dispatch(TileColumns);
    with_buffer(&PACKED_B, |buffer| {
        for jc in (0..n).step_by(NC) {
            let nc = NC.min(n - jc);
            for pc in (0..k).step_by(KC) {
                let kc = KC.min(k - pc);
                let b_panels = at_cache_line(buffer, nc.div_ceil(nr) * kc * nr);
                pack_b_on(arch, threads, b_panels, b, [pc, kc], [jc, nc], nr);
                let block = Block {
                    b_panels,
                    depth: [pc, kc],
                    first_column: jc,
                    ldc: n,
                };
                multiply_on(arch, threads, c, a.rows(0, m), &block);
            }
        }
    });
}

/// Runs `f` on the thread's buffer, or on a new one if the thread's is in use.
fn with_buffer<R>(
    buffer: &'static std::thread::LocalKey<RefCell<Vec<f32>>>,
    f: impl FnOnce(&mut Vec<f32>) -> R,
) -> R {
    buffer.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buffer) => f(&mut buffer),
        Err(_) => f(&mut Vec::new()),
    })
}

/// The register tile's width in f32 columns on this CPU.
struct TileColumns;

impl WithSimd for TileColumns {
    type Output = usize;

    #[inline(always)]
    fn with_simd<S: Simd>(self, _: S) -> usize {
        NV * S::F32_LANES
    }
}

/// Packs the panels of `packed` (b's columns jc..jc+nc, rows pc..pc+kc) on `threads`
/// threads, each taking a run of whole panels.
fn pack_b_on(
    arch: pulp::Arch,
    threads: usize,
    packed: &mut [f32],
    b: Strided<'_>,
    depth: [usize; 2],
    [jc, nc]: [usize; 2],
    nr: usize,
) {
    let panels = nc.div_ceil(nr);
    if threads <= 1 || panels < 2 {
        let columns = [jc, nc];
        arch.dispatch(PackB {
            packed,
            b,
            depth,
            columns,
            nr,
        });
        return;
    }
    let first = threads / 2;
    let split = panels * first / threads;
    let (here, there) = packed.split_at_mut(split * depth[1] * nr);
    let split_column = split * nr;
    parallel::join(
        || pack_b_on(arch, first, here, b, depth, [jc, split_column], nr),
        || {
            let rest = [jc + split_column, nc - split_column];
            pack_b_on(arch, threads - first, there, b, depth, rest, nr)
        },
    );
}

/// [`pack_b`] inlined into code compiled for the CPU's instruction set, as [`pack_a`] is
/// inlined into [`Multiply`].
// fast path: 1024² operands packed as W5 packs them, against the packs compiled once for
// baseline x86-64 and called: a row-major b 0.35 → 0.32 ms, a row-major a 0.44 → 0.37
// (medians of 21; transposed operands unchanged; W5 within its noise, 45.7 ms/rep)
struct PackB<'p, 'b> {
    packed: &'p mut [f32],
    b: Strided<'b>,
    depth: [usize; 2],
    columns: [usize; 2],
    nr: usize,
}

impl WithSimd for PackB<'_, '_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, _: S) {
        pack_b(self.packed, self.b, self.depth, self.columns, self.nr);
    }
}

/// One packed block of b and where its products go in c.
struct Block<'p> {
    b_panels: &'p [f32],
    /// The block's rows of b, [pc, kc]: products after the first are added to c.
    depth: [usize; 2],
    /// c's column of the block's first column.
    first_column: usize,
    /// c's row length.
    ldc: usize,
}

/// c_rows += a_rows·(the block) (or =, for the first block) on `threads` threads, the rows
/// split at multiples of [`MR`] so that only the last tile of c is partial.
fn multiply_on(
    arch: pulp::Arch,
    threads: usize,
    c_rows: &mut [f32],
    a_rows: Strided<'_>,
    block: &Block<'_>,
) {
    let Some((first, split)) = split_at_tiles(a_rows.rows, threads) else {
        with_buffer(&PACKED_A, |packed_a| {
            arch.dispatch(Multiply {
                c_rows,
                a_rows,
                block,
                packed_a,
            });
        });
        return;
    };
    let (c_top, c_bottom) = c_rows.split_at_mut(split * block.ldc);
    parallel::join(
        || multiply_on(arch, first, c_top, a_rows.rows(0, split), block),
        || {
            multiply_on(
                arch,
                threads - first,
                c_bottom,
                a_rows.rows(split, a_rows.rows),
                block,
            )
        },
    );
}

/// How `threads` threads share `rows` rows of c: the threads of the first part and the row
/// where the second starts, a multiple of [`MR`] so that only the last tile of c is partial;
/// `None` for one thread or one tile.
fn split_at_tiles(rows: usize, threads: usize) -> Option<(usize, usize)> {
    let tiles = rows.div_ceil(MR);
    (threads > 1 && tiles > 1).then(|| {
        let first = threads / 2;
        (first, tiles * first / threads * MR)
    })
}

/// [`multiply_on`]'s work on one thread: the loops from `ic` in (this module's comment).
struct Multiply<'c, 'm, 'p> {
    c_rows: &'c mut [f32],
    a_rows: Strided<'m>,
    block: &'c Block<'p>,
    packed_a: &'c mut Vec<f32>,
}

impl WithSimd for Multiply<'_, '_, '_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        let Multiply {
            c_rows,
            a_rows,
            block,
            packed_a,
        } = self;
        let [pc, kc] = block.depth;
        let nr = NV * S::F32_LANES;
        let (b_panels, _) = S::as_simd_f32s(block.b_panels);
        let m = a_rows.rows;
        for ic in (0..m).step_by(MC) {
            let mc = MC.min(m - ic);
            let a_panels = pack_a(packed_a, a_rows, [ic, mc], [pc, kc]);
            for (jr, b_panel) in b_panels.chunks_exact(kc * NV).enumerate() {
                let j0 = block.first_column + jr * nr;
                for (ir, a_panel) in a_panels.chunks_exact(kc * MR).enumerate() {
                    let tile = kernel(simd, a_panel, b_panel);
                    let i0 = ic + ir * MR;
                    let rows = MR.min(m - i0);
                    store(simd, c_rows, block.ldc, [i0, j0], rows, &tile, pc > 0);
                }
            }
        }
    }
}

/// Steps of the kernel's loop over k taken per trip of the loop: its pointer increments and
/// its branch, which compete with the multiply-adds for execution ports, are then paid once
/// per four steps.
// fast path: against one step per trip, 1024² NN + NT + TN products 43.61 → 43.23 ms at 1
// thread and 23.41 → 23.23 at 2 (medians of 40 interleaved rounds; 2 steps gave the same)
const STEPS: usize = 4;

/// The MR×NR tile a_panel·b_panel: Σₖ (column k of the a panel) ⊗ (row k of the b panel).
#[inline(always)]
fn kernel<S: Simd>(simd: S, a_panel: &[f32], b_panel: &[S::f32s]) -> [[S::f32s; NV]; MR] {
    let mut tile = [[simd.splat_f32s(0.0); NV]; MR];
    let a_trips = a_panel.chunks_exact(STEPS * MR);
    let b_trips = b_panel.chunks_exact(STEPS * NV);
    let (a_rest, b_rest) = (a_trips.remainder(), b_trips.remainder());
    for (a, b) in a_trips.zip(b_trips) {
        for s in 0..STEPS {
            kernel_step(simd, &mut tile, &a[s * MR..][..MR], &b[s * NV..][..NV]);
        }
    }
    for (a, b) in a_rest.chunks_exact(MR).zip(b_rest.chunks_exact(NV)) {
        kernel_step(simd, &mut tile, a, b);
    }
    tile
}

/// One k of [`kernel`]: tile += (MR values of a) ⊗ (NV vectors of b).
#[inline(always)]
fn kernel_step<S: Simd>(simd: S, tile: &mut [[S::f32s; NV]; MR], a: &[f32], b: &[S::f32s]) {
    let b: [S::f32s; NV] = std::array::from_fn(|v| b[v]);
    for (row, &a) in tile.iter_mut().zip(a) {
        let a = simd.splat_f32s(a);
        for (acc, &b) in row.iter_mut().zip(&b) {
            *acc = simd.mul_add_f32s(a, b, *acc);
        }
    }
}

/// Writes (or with `add`, adds) a tile into c (row-major, rows `ldc` long) at [i0, j0],
/// keeping the `rows` rows and the columns that lie inside c.
#[inline(always)]
fn store<S: Simd>(
    simd: S,
    c: &mut [f32],
    ldc: usize,
    [i0, j0]: [usize; 2],
    rows: usize,
    tile: &[[S::f32s; NV]; MR],
    add: bool,
) {
    let nr = NV * S::F32_LANES;
    let cols = nr.min(ldc - j0);
    if rows == MR && cols == nr {
        // fast path: a whole tile, by a loop of fixed length that the compiler unrolls,
        // without the general loop's tests of each row and width: 1024² NN + NT + TN
        // products 43.35–43.39 → 42.81–42.86 ms (two runs of 30 interleaved rounds)
        for (i, tile_row) in tile.iter().enumerate() {
            let (row, _) = S::as_mut_simd_f32s(&mut c[(i0 + i) * ldc + j0..][..nr]);
            for (c, &t) in row.iter_mut().zip(tile_row) {
                *c = if add { simd.add_f32s(*c, t) } else { t };
            }
        }
        return;
    }
    // The general case: the first `rows` rows, and of each the columns inside c, through
    // partial loads and stores (the loop's fixed length keeps the tile in registers).
    for (i, tile_row) in tile.iter().enumerate() {
        if i == rows {
            break;
        }
        let row = &mut c[(i0 + i) * ldc + j0..][..cols];
        for (v, &t) in tile_row.iter().enumerate() {
            let part = &mut row[(v * S::F32_LANES).min(cols)..((v + 1) * S::F32_LANES).min(cols)];
            let t = if add {
                simd.add_f32s(simd.partial_load_f32s(part), t)
            } else {
                t
            };
            simd.partial_store_f32s(part, t);
        }
    }
}

/// Rows ic..ic+mc and columns pc..pc+kc of `a`, packed into panels of [`MR`] rows, each
/// column by column (the rows of a last, partial panel are padded with zeros). Returns the
/// panels, starting at a cache line.
///
/// A panel of MR rows of a, column by column, is a panel of MR columns of aᵀ, row by row:
/// [`pack_b`] of the transpose, with two fast paths that the panels' fixed width of six
/// allows: a transposed a's rows are copied as runs of exactly MR, and a row-major a's
/// whole panels are gathered a column of MR at a time.
#[inline(always)] // compiled inside Multiply, for its instruction set
fn pack_a<'p>(
    buffer: &'p mut Vec<f32>,
    a: Strided<'_>,
    [ic, mc]: [usize; 2],
    [pc, kc]: [usize; 2],
) -> &'p [f32] {
    let packed = at_cache_line(buffer, mc.div_ceil(MR) * kc * MR);
    let a_t = a.transposed();
    if a_t.col_stride == 1 {
        // fast path: 6-float runs copied at a fixed length, not by a call to memmove each
        // (Aᵀ·G for 1024² operands 12.13 → 11.91 ms, medians of 6 interleaved runs; a fixed
        // length for b's 32-float runs was slower, 0.33 → 0.37 ms for a 1024² b)
        copy_strips(packed, a_t, [pc, kc], [ic, mc], MR, |out, run| {
            let run: &[f32; MR] = run.try_into().expect("a run of MR values");
            out.copy_from_slice(run);
        });
    } else if a_t.row_stride == 1 {
        gather_columns(packed, a_t, [pc, kc], [ic, mc]);
    } else {
        pack_b(packed, a_t, [pc, kc], [ic, mc], MR);
    }
    packed
}

/// [`pack_a`] of a row-major a, through its transpose `a_t` (columns contiguous): each whole
/// panel one column of MR values at a time (MR loads, one MR-float write), a last, partial
/// one through [`interleave`].
// fast path: against `interleave`'s blocks of scattered stores for every panel, a 1024² a
// 0.40 → 0.24 ms (medians of 41), NN products 14.28–14.40 → 13.94–14.13 ms and NT
// 14.68–14.69 → 14.54–14.56 (two runs of 30 interleaved rounds); for b's 32-wide panels
// the same made NT slower, 14.98–15.02 → 15.57–15.59
#[inline(always)]
fn gather_columns(
    packed: &mut [f32],
    a_t: Strided<'_>,
    [pc, kc]: [usize; 2],
    [ic, mc]: [usize; 2],
) {
    for (r, panel) in packed.chunks_exact_mut(kc * MR).enumerate() {
        let (j0, cols) = (ic + r * MR, MR.min(mc - r * MR));
        let columns = &a_t.data[j0 * a_t.col_stride + pc..];
        if cols < MR {
            panel.fill(0.0);
            interleave(panel, MR, columns, a_t.col_stride, cols, kc);
            continue;
        }
        let rows: [&[f32]; MR] = std::array::from_fn(|i| &columns[i * a_t.col_stride..][..kc]);
        for (p, out) in panel.chunks_exact_mut(MR).enumerate() {
            let column: [f32; MR] = std::array::from_fn(|i| rows[i][p]);
            out.copy_from_slice(&column);
        }
    }
}

/// Rows pc..pc+kc and columns jc..jc+nc of `b`, packed into `packed` as panels of `nr`
/// columns, each row by row (the columns of a last, partial panel are padded with zeros).
#[inline(always)] // compiled inside PackB, or inside Multiply for pack_a
fn pack_b(
    packed: &mut [f32],
    b: Strided<'_>,
    [pc, kc]: [usize; 2],
    [jc, nc]: [usize; 2],
    nr: usize,
) {
    if b.col_stride == 1 {
        copy_strips(packed, b, [pc, kc], [jc, nc], nr, |out, run| {
            out.copy_from_slice(run);
        });
        return;
    }
    for (r, panel) in packed.chunks_exact_mut(kc * nr).enumerate() {
        let (j0, cols) = (jc + r * nr, nr.min(nc - r * nr));
        if cols < nr {
            panel.fill(0.0);
        }
        if b.row_stride == 1 {
            // b transposed (for pack_a: a row-major): each column of b is contiguous, and the
            // panel interleaves them (fast path: in blocks, 0.95 → 0.47 ms for a 1024² b and
            // G·Bᵀ 23.1 → 22.9 ms, 0.52 → 0.42 ms for a 1024² a, against writing each column
            // down the panel in turn)
            let columns = &b.data[j0 * b.col_stride + pc..];
            interleave(panel, nr, columns, b.col_stride, cols, kc);
        } else {
            for p in 0..kc {
                for j in 0..cols {
                    panel[p * nr + j] = b.at(pc + p, j0 + j);
                }
            }
        }
    }
}

/// Rows of b that [`copy_strips`] copies across all the panels before moving on (a 1024²
/// row-major b took 0.30, 0.31 and 0.33 ms with 4, 16 and 32 rows, against 0.285 with 8).
const STRIP: usize = 8;

/// [`pack_b`] of a b whose rows are contiguous (for pack_a: a transposed a): row p of a panel
/// is a run of `nr` values of b's row pc + p, put in place by `copy(out, run)` (for a last,
/// partial panel, its columns and then zeros). The runs are copied [`STRIP`] rows of b at a
/// time across all the whole panels, so that b is read a few rows at a time, from left to
/// right, and each panel written in pieces of STRIP rows.
// fast path: against copying each panel's strip of b whole in turn (a run from every row, so
// a page of b per run), 1024² operands packed as W5 packs them: a row-major b 0.335 → 0.285
// ms, a transposed a 0.435 → 0.33 (medians of 21)
#[inline(always)]
fn copy_strips(
    packed: &mut [f32],
    b: Strided<'_>,
    [pc, kc]: [usize; 2],
    [jc, nc]: [usize; 2],
    nr: usize,
    copy: impl Fn(&mut [f32], &[f32]),
) {
    let whole = nc / nr;
    for first in (0..kc).step_by(STRIP) {
        for r in 0..whole {
            for p in first..kc.min(first + STRIP) {
                let run = &b.data[(pc + p) * b.row_stride + jc + r * nr..][..nr];
                copy(&mut packed[(r * kc + p) * nr..][..nr], run);
            }
        }
    }
    let cols = nc - whole * nr;
    if cols > 0 {
        let panel = &mut packed[whole * kc * nr..][..kc * nr];
        panel.fill(0.0);
        let rows = &b.data[pc * b.row_stride + jc + whole * nr..];
        for (p, out) in panel.chunks_exact_mut(nr).enumerate() {
            out[..cols].copy_from_slice(&rows[p * b.row_stride..][..cols]);
        }
    }
}

/// `len` elements of `buffer` (left as the last product packed them), starting at a 64-byte
/// boundary so that no SIMD load of a panel straddles two cache lines.
fn at_cache_line(buffer: &mut Vec<f32>, len: usize) -> &mut [f32] {
    const LINE: usize = 64 / std::mem::size_of::<f32>();
    if buffer.len() < len + LINE {
        buffer.resize(len + LINE, 0.0);
    }
    let start = (buffer.as_ptr() as usize / std::mem::size_of::<f32>()).wrapping_neg() % LINE;
    &mut buffer[start..start + len]
}

#[cfg(test)]
mod tests {
    use super::super::tests::instruction_sets;
    use super::*;

    /// Deterministic values in [-1, 1).
    fn values(len: usize, seed: u64) -> Vec<f32> {
        let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 40) as f32 / (1u64 << 23) as f32 - 1.0
            })
            .collect()
    }

    /// a·b in f64, element by element.
    fn reference(a: Strided<'_>, b: Strided<'_>) -> Vec<f64> {
        let mut c = vec![0.0; a.rows * b.cols];
        for i in 0..a.rows {
            for j in 0..b.cols {
                c[i * b.cols + j] = (0..a.cols)
                    .map(|p| a.at(i, p) as f64 * b.at(p, j) as f64)
                    .sum();
            }
        }
        c
    }

    fn assert_close(got: &[f32], expected: &[f64], depth: usize, what: &str) {
        assert_eq!(got.len(), expected.len(), "{what}");
        // |error| of a length-k f32 sum of products of values in [-1, 1] is below k·k·ε
        let tolerance = (depth * depth) as f64 * f32::EPSILON as f64 + 1e-6;
        for (i, (&g, &e)) in got.iter().zip(expected).enumerate() {
            assert!(
                (g as f64 - e).abs() <= tolerance,
                "{what}: c[{i}] = {g}, expected {e}"
            );
        }
    }

    #[test]
    fn packed_products_agree_with_the_definition_at_every_edge() {
        // partial tiles in both directions (m not a multiple of MR, n not of 16), a depth
        // beyond KC (the tiles are then added to), the empty depth, and one row or column
        for [m, k, n] in [
            [13, 37, 35],
            [6, 16, 16],
            [1, 5, 1],
            [7, KC + 9, 17],
            [MC + 5, 20, 40],
            [4, 0, 3],
        ] {
            let (a_data, b_data) = (values(m * k, 1), values(k * n, 2));
            for (ta, tb) in [(false, false), (false, true), (true, false), (true, true)] {
                // op(x) stored so that reading it transposed gives the same matrix
                let (a_rows, a_cols) = if ta { (k, m) } else { (m, k) };
                let (b_rows, b_cols) = if tb { (n, k) } else { (k, n) };
                let a = Strided::row_major(&a_data, a_rows, a_cols, ta);
                let b = Strided::row_major(&b_data, b_rows, b_cols, tb);
                let expected = reference(a, b);
                for (isa, arch) in instruction_sets() {
                    let mut c = vec![f32::NAN; m * n];
                    gemm_on(arch, &mut c, a, b, 1);
                    let what = format!("{m}×{k}×{n} {ta} {tb} on {isa}");
                    assert_close(&c, &expected, k, &what);
                }
            }
        }
    }

    #[test]
    fn general_strides_are_packed_element_by_element() {
        // every other column of a row-major 9×14 matrix, and a 5×3 b read with stride 2 rows
        let a_data = values(9 * 14, 3);
        let b_data = values(10 * 3, 4);
        let a = Strided {
            data: &a_data,
            rows: 9,
            cols: 7,
            row_stride: 14,
            col_stride: 2,
        };
        let b = Strided {
            data: &b_data,
            rows: 7,
            cols: 3,
            row_stride: 3,
            col_stride: 1,
        };
        for (isa, arch) in instruction_sets() {
            let mut c = vec![0.0; 9 * 3];
            gemm_on(arch, &mut c, a, b, 1);
            assert_close(&c, &reference(a, b), 7, &format!("strided on {isa}"));
        }
    }

    #[test]
    fn a_block_of_rows_computes_what_the_whole_product_computes_there() {
        // the threads split c by rows; each block must give those rows bit for bit
        let [m, k, n] = [100, 50, 40];
        let (a_data, b_data) = (values(m * k, 5), values(k * n, 6));
        let a = Strided::row_major(&a_data, m, k, false);
        let b = Strided::row_major(&b_data, k, n, false);
        for (isa, arch) in instruction_sets() {
            let mut whole = vec![0.0; m * n];
            gemm_on(arch, &mut whole, a, b, 1);
            for (from, to) in [(0, 37), (37, 100), (50, 51)] {
                let mut block = vec![0.0; (to - from) * n];
                gemm_on(arch, &mut block, a.rows(from, to), b, 1);
                assert_eq!(block, whole[from * n..to * n], "rows {from}..{to} on {isa}");
            }
        }
    }

    #[test]
    fn threads_sharing_a_product_compute_what_one_thread_computes() {
        // b's panels and c's rows split among 2 and 3 threads (the helpers that exist run
        // their share; the rest run here), depth beyond KC so that tiles are added to
        let [m, k, n] = [61, KC + 3, 75];
        let (a_data, b_data) = (values(m * k, 7), values(k * n, 8));
        for (ta, tb) in [(false, false), (true, true)] {
            let (a_rows, a_cols) = if ta { (k, m) } else { (m, k) };
            let (b_rows, b_cols) = if tb { (n, k) } else { (k, n) };
            let a = Strided::row_major(&a_data, a_rows, a_cols, ta);
            let b = Strided::row_major(&b_data, b_rows, b_cols, tb);
            for (isa, arch) in instruction_sets() {
                let mut one = vec![0.0; m * n];
                gemm_on(arch, &mut one, a, b, 1);
                for threads in [2, 3] {
                    let mut shared = vec![f32::NAN; m * n];
                    gemm_on(arch, &mut shared, a, b, threads);
                    assert_eq!(shared, one, "{threads} threads, {ta} {tb} on {isa}");
                }
            }
        }
    }
}
