use super::super::test_util::*;
use crate::Tensor;

#[test]
fn values() {
    // [[1, 2], [3, 4]]·[[5], [6]] = [[17], [39]]
    let a = Tensor::<f64>::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[2, 2]);
    let b = Tensor::<f64>::from_vec(vec![5.0, 6.0], &[2, 1]);
    assert_eq!(a.matmul(&b).to_vec(), vec![17.0, 39.0]);
    let v = Tensor::<f64>::from_vec(vec![5.0, 6.0], &[2]);
    assert_eq!(a.matmul(&v).shape(), &[2]);
    assert_eq!(v.matmul(&a).to_vec(), vec![23.0, 34.0]);
    assert_eq!(v.matmul(&v).item(), 61.0);
    // A batch of two copies of a, times b: two copies of [[17], [39]].
    let batch = a.unsqueeze(0).broadcast_to(&[2, 2, 2]);
    assert_eq!(batch.matmul(&b).to_vec(), vec![17.0, 39.0, 17.0, 39.0]);
}

#[test]
fn analytic_gradient() {
    // L = Σ A·B: ∂L/∂A = 1·Bᵀ (row sums of B), ∂L/∂B = Aᵀ·1 (column sums of A).
    let a = Tensor::<f64>::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[2, 2]).requires_grad();
    let b = Tensor::<f64>::from_vec(vec![5.0, 6.0, 7.0, 8.0], &[2, 2]).requires_grad();
    a.matmul(&b).sum().backward();
    assert_eq!(a.grad().unwrap().to_vec(), vec![11.0, 15.0, 11.0, 15.0]);
    assert_eq!(b.grad().unwrap().to_vec(), vec![4.0, 4.0, 6.0, 6.0]);
}

#[test]
fn gradcheck_over_shapes() {
    let cases: &[(&[usize], &[usize])] = &[
        (&[3, 4], &[4, 2]),
        (&[1, 3], &[3, 1]),
        (&[4], &[4, 2]),
        (&[3, 4], &[4]),
        (&[4], &[4]),
        (&[2, 3, 4], &[4, 5]),
        (&[2, 1, 3, 4], &[3, 4, 2]),
        (&[0, 3], &[3, 2]),
        (&[2, 0], &[0, 3]),
        (&[2, 3, 0], &[2, 0, 4]),
        (&[2, 0, 3], &[3, 2]),
    ];
    for (i, (lhs, rhs)) in cases.iter().enumerate() {
        let inputs = [uniform(lhs, 2 * i as u64), uniform(rhs, 2 * i as u64 + 1)];
        check("matmul", |t| t[0].matmul(&t[1]), &inputs);
    }
}

#[test]
fn transposed_operands_and_their_gradients() {
    // Every combination of transposed reads equals the product of materialised transposes,
    // and passes gradcheck (including the second-order rules through them).
    for (ta, tb) in [(false, true), (true, false), (true, true)] {
        let (sa, sb): (&[usize], &[usize]) = match (ta, tb) {
            (false, true) => (&[2, 3, 4], &[2, 5, 4]),
            (true, false) => (&[2, 4, 3], &[2, 4, 5]),
            _ => (&[4, 3], &[5, 4]),
        };
        let (a, b) = (
            Tensor::<f64>::from_array(uniform(sa, 1)),
            Tensor::from_array(uniform(sb, 2)),
        );
        let fused = a.matmul_t(&b, ta, tb);
        let (a_op, b_op) = (
            if ta { a.mt() } else { a.clone() },
            if tb { b.mt() } else { b.clone() },
        );
        let plain = a_op.matmul(&b_op);
        for (x, y) in fused.to_vec().iter().zip(plain.to_vec()) {
            assert!((x - y).abs() < 1e-12);
        }
        check(
            "matmul_t",
            |t| t[0].matmul_t(&t[1], ta, tb),
            &[uniform(sa, 3), uniform(sb, 4)],
        );
    }
    // Second order: f = Σ (x·xᵀ) = Σₖ cₖ² (cₖ the column sums of x [2, 3]), so ∂f/∂x = 2c
    // in every row and ∂(Σ ∂f/∂x)/∂x = 2·(2 rows) = 4 everywhere.
    let x = Tensor::<f64>::from_array(uniform(&[2, 3], 5)).requires_grad();
    let f = x.matmul(&x.t()).sum();
    let g = crate::grad(&f, &[&x], true).unwrap().remove(0);
    let hv = crate::grad(&g.sum(), &[&x], false).unwrap().remove(0);
    assert!(hv.to_vec().iter().all(|&h| (h - 4.0).abs() < 1e-12), "{hv}");
}

#[test]
fn matrix_vector_fast_paths_agree_with_gemm() {
    // X·v (X contiguous) and Xᵀ·v (Xᵀ a transposed view) skip GEMM; both must equal
    // ndarray's general product, for widths around the 8-lane blocks, for more rows than
    // one row block, and for strided operands, which take the general path.
    use ndarray::{Array2, Axis, Slice};
    for &(n, d) in &[(1, 1), (5, 3), (7, 8), (300, 16), (601, 19), (0, 4)] {
        let x: Array2<f64> = uniform(&[n, d], n as u64).into_dimensionality().unwrap();
        let v = uniform(&[d, 1], 1).into_dimensionality().unwrap();
        let g = uniform(&[n, 1], 2).into_dimensionality().unwrap();
        let close = |fast: &Array2<f64>, slow: &Array2<f64>| {
            assert_eq!(fast.shape(), slow.shape());
            for (p, q) in fast.iter().zip(slow) {
                assert!((p - q).abs() < 1e-12, "{p} vs {q} for n={n}, d={d}");
            }
        };
        let v: Array2<f64> = v;
        let g: Array2<f64> = g;
        close(
            &super::kernels::matrix_product(x.view(), v.view()),
            &x.dot(&v),
        );
        close(
            &super::kernels::matrix_product(x.t(), g.view()),
            &x.t().dot(&g),
        );
        // A column of a transposed [1, k] array: v read with a stride.
        let vt = v.t().to_owned();
        close(
            &super::kernels::matrix_product(x.view(), vt.t()),
            &x.dot(&v),
        );
        // Every other column of a wider matrix: not contiguous, the general path.
        let wide = Array2::from_shape_fn((n, 2 * d), |(i, j)| (i * 7 + j) as f64 * 0.01);
        let strided = wide.slice_axis(Axis(1), Slice::new(0, None, 2));
        close(
            &super::kernels::matrix_product(strided, v.view()),
            &strided.dot(&v),
        );
        if n > 0 {
            let gw: Array2<f64> = uniform(&[n, 1], 3).into_dimensionality().unwrap();
            close(
                &super::kernels::matrix_product(strided.t(), gw.view()),
                &strided.t().dot(&gw),
            );
        }
    }
    // Through the tape: linear regression's Xw and its backward Xᵀ·g pass gradcheck.
    check(
        "matmul",
        |t| t[0].matmul(&t[1]),
        &[uniform(&[300, 16], 4), uniform(&[16, 1], 5)],
    );
}

#[test]
fn large_f32_products_take_the_packed_gemm_and_agree_with_matrixmultiply() {
    // m·k·n ≥ PACKED_MIN_PRODUCT: the packed GEMM, rows split among the threads, for every
    // combination of transposed reads, against ndarray's product in f64
    use ndarray::Array2;
    let (m, k, n) = (515, 512, 517);
    assert!(m * k * n >= super::kernels::PACKED_MIN_PRODUCT);
    let a64 = uniform(&[m, k], 7);
    let b64 = uniform(&[k, n], 8);
    let expected: Array2<f64> = a64
        .view()
        .into_dimensionality::<ndarray::Ix2>()
        .unwrap()
        .dot(&b64.view().into_dimensionality::<ndarray::Ix2>().unwrap());
    for (ta, tb) in [(false, false), (false, true), (true, false), (true, true)] {
        let stored = |x: &ndarray::ArrayD<f64>, t: bool| {
            let x = if t {
                x.t().as_standard_layout().into_owned()
            } else {
                x.clone()
            };
            Tensor::from_array(x.mapv(|v| v as f32))
        };
        let got = stored(&a64, ta).matmul_t(&stored(&b64, tb), ta, tb);
        assert_eq!(got.shape(), &[m, n]);
        for (p, q) in got.to_vec().iter().zip(expected.iter()) {
            assert!((*p as f64 - q).abs() < 1e-3, "{ta} {tb}: {p} vs {q}");
        }
    }
}

#[test]
fn gemm_products_agree_with_matrixmultiply() {
    // From GEMM_MIN_PRODUCT up to PACKED_MIN_PRODUCT, f32 and f64 products go to faer; they
    // must match ndarray's GEMM for every combination of transposed reads. A column-major
    // (non-standard layout) operand is not handed to faer and takes the general path.
    use ndarray::Array2;
    let (m, k, n) = (70, 65, 66);
    assert!(m * k * n >= super::kernels::GEMM_MIN_PRODUCT);
    let a64 = uniform(&[m, k], 1);
    let b64 = uniform(&[k, n], 2);
    for (ta, tb) in [(false, false), (false, true), (true, false), (true, true)] {
        let stored = |x: &ndarray::ArrayD<f64>, t: bool| {
            if t {
                x.t().as_standard_layout().into_owned()
            } else {
                x.clone()
            }
        };
        let (a, b) = (stored(&a64, ta), stored(&b64, tb));
        let expected: Array2<f64> = a64
            .view()
            .into_dimensionality::<ndarray::Ix2>()
            .unwrap()
            .dot(&b64.view().into_dimensionality::<ndarray::Ix2>().unwrap());
        let got = Tensor::from_array(a.clone()).matmul_t(&Tensor::from_array(b.clone()), ta, tb);
        for (p, q) in got.to_vec().iter().zip(expected.iter()) {
            assert!((p - q).abs() < 1e-12, "f64 {ta} {tb}: {p} vs {q}");
        }
        let (a32, b32) = (a.mapv(|v| v as f32), b.mapv(|v| v as f32));
        let got = Tensor::from_array(a32).matmul_t(&Tensor::from_array(b32), ta, tb);
        for (p, q) in got.to_vec().iter().zip(expected.iter()) {
            assert!((*p as f64 - q).abs() < 1e-4, "f32 {ta} {tb}: {p} vs {q}");
        }
    }
    // f64 X·v above FAER_MIN_MATRIX_VECTOR: faer's kernel, with v as a column or read
    // transposed from a row, against ndarray's product (and f32, the SIMD kernel).
    let x64 = uniform(&[300, 16], 3);
    const { assert!(300 * 16 >= super::kernels::FAER_MIN_MATRIX_VECTOR) };
    let v64 = uniform(&[16, 1], 4);
    let expected = x64
        .view()
        .into_dimensionality::<ndarray::Ix2>()
        .unwrap()
        .dot(&v64.view().into_dimensionality::<ndarray::Ix2>().unwrap());
    let x = Tensor::from_array(x64.clone());
    let as_column = x.matmul_t(&Tensor::from_array(v64.clone()), false, false);
    let as_row = x.matmul_t(&Tensor::from_array(v64.t().to_owned()), false, true);
    let x32 = Tensor::from_array(x64.mapv(|v| v as f32));
    let in_f32 = x32.matmul(&Tensor::from_array(v64.mapv(|v| v as f32)));
    for (((p, q), r), e) in as_column
        .to_vec()
        .iter()
        .zip(as_row.to_vec())
        .zip(in_f32.to_vec())
        .zip(expected.iter())
    {
        assert!(
            (p - e).abs() < 1e-12 && (q - e).abs() < 1e-12,
            "{p} {q} vs {e}"
        );
        assert!((r as f64 - e).abs() < 1e-5, "f32 {r} vs {e}");
    }
    let column_major =
        Tensor::from_array(a64.t().as_standard_layout().into_owned().reversed_axes());
    let got = column_major.matmul(&Tensor::from_array(b64.clone()));
    let expected = Tensor::from_array(a64).matmul(&Tensor::from_array(b64));
    for (p, q) in got.to_vec().iter().zip(expected.to_vec()) {
        assert!((p - q).abs() < 1e-12);
    }
}

#[test]
fn simd_matrix_vector_agrees_with_an_f64_reference() {
    // f32 X·v and Xᵀ·v take the SIMD kernels for every size. Column counts 1..=40 cover
    // rows narrower than one SIMD vector, whole vectors and ragged right edges (4, 8 or 16
    // lanes); row counts cover an odd last pair and partial 256-row blocks.
    for cols in 1..=40 {
        for rows in [0, 1, 2, 3, 255, 257, 600] {
            let x64 = uniform(&[rows, cols], (rows * 41 + cols) as u64);
            let v64 = uniform(&[cols, 1], 7);
            let g64 = uniform(&[rows, 1], 8);
            let x64_2: ndarray::Array2<f64> = x64.clone().into_dimensionality().unwrap();
            let expected_xv =
                x64_2.dot(&v64.clone().into_dimensionality::<ndarray::Ix2>().unwrap());
            let expected_xtg = x64_2
                .t()
                .dot(&g64.clone().into_dimensionality::<ndarray::Ix2>().unwrap());
            let f32_tensor = |a: &ndarray::ArrayD<f64>| Tensor::from_array(a.mapv(|v| v as f32));
            let x = f32_tensor(&x64);
            let xv = x.matmul_t(&f32_tensor(&v64), false, false);
            let xtg = x.matmul_t(&f32_tensor(&g64), true, false);
            // A sum of n products of numbers in [-1, 1) is within about n·2⁻²⁴ of exact.
            let tolerance = |n: usize| 4.0 * n as f64 * f64::from(f32::EPSILON);
            assert_eq!(xv.shape(), &[rows, 1]);
            assert_eq!(xtg.shape(), &[cols, 1]);
            for (got, want) in xv.to_vec().iter().zip(expected_xv.iter()) {
                assert!(
                    (f64::from(*got) - want).abs() <= tolerance(cols),
                    "X·v {rows}×{cols}: {got} vs {want}"
                );
            }
            for (got, want) in xtg.to_vec().iter().zip(expected_xtg.iter()) {
                assert!(
                    (f64::from(*got) - want).abs() <= tolerance(rows),
                    "Xᵀ·g {rows}×{cols}: {got} vs {want}"
                );
            }
        }
    }
}

/// Every instruction set of pulp's that this CPU runs, named, the scalar fallback (one lane)
/// first: pulp picks the widest at run time, so each is tested where the machine has it.
pub(super) fn instruction_sets() -> Vec<(&'static str, pulp::Arch)> {
    #[cfg(target_arch = "x86_64")]
    {
        let mut sets = vec![("scalar", pulp::Arch::Scalar)];
        sets.extend(pulp::x86::V3::try_new().map(|v3| ("AVX2", pulp::Arch::V3(v3))));
        sets.extend(pulp::x86::V4::try_new().map(|v4| ("AVX-512", pulp::Arch::V4(v4))));
        sets
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        vec![("the widest", pulp::Arch::new())]
    }
}

#[test]
fn simd_kernels_agree_on_every_instruction_set() {
    // against the f64 reference, with column counts that leave every path of the kernels
    // something to do: 8 (AVX2) or 16 (AVX-512) lanes, one or two vectors, a lane tail
    use super::kernels::{MatrixVector, TransposedMatrixVector};
    for (rows, cols) in [
        (5, 1),
        (257, 3),
        (70, 8),
        (300, 16),
        (33, 21),
        (31, 40),
        (259, 48),
    ] {
        let x: Vec<f32> = uniform(&[rows, cols], 31)
            .iter()
            .map(|&v| v as f32)
            .collect();
        let v: Vec<f32> = uniform(&[cols], 32).iter().map(|&v| v as f32).collect();
        let g: Vec<f32> = uniform(&[rows], 33).iter().map(|&v| v as f32).collect();
        let xv_exact: Vec<f64> = x
            .chunks(cols)
            .map(|row| {
                row.iter()
                    .zip(&v)
                    .map(|(&a, &b)| f64::from(a) * f64::from(b))
                    .sum()
            })
            .collect();
        let xtg_exact: Vec<f64> = (0..cols)
            .map(|j| {
                (0..rows)
                    .map(|i| f64::from(x[i * cols + j]) * f64::from(g[i]))
                    .sum()
            })
            .collect();
        let run = |arch: pulp::Arch| {
            let (mut xv, mut xtg) = (vec![0.0f32; rows], vec![0.0f32; cols]);
            let d = cols;
            let product = MatrixVector {
                x: &x,
                d,
                v: &v,
                out: &mut xv,
            };
            let transposed = TransposedMatrixVector {
                x: &x,
                d,
                v: &g,
                out: &mut xtg,
            };
            arch.dispatch(product);
            arch.dispatch(transposed);
            (xv, xtg)
        };
        for (isa, arch) in instruction_sets() {
            let (xv, xtg) = run(arch);
            for (got, want) in xv.iter().zip(&xv_exact).chain(xtg.iter().zip(&xtg_exact)) {
                assert!(
                    (f64::from(*got) - want).abs() < 1e-4,
                    "{rows}×{cols} on {isa}: {got} vs {want}"
                );
            }
        }
    }
}

#[test]
fn parallel_products_agree_with_matrixmultiply() {
    // From PARALLEL_MIN_PRODUCT multiply-adds, a product's rows are split among rayon's
    // threads; three threads make the split uneven (a third, then two thirds halved again).
    let (m, k, n) = (301, 256, 260);
    assert!(m * k * n >= super::kernels::PARALLEL_MIN_PRODUCT);
    let (a, b) = (uniform(&[m, k], 11), uniform(&[k, n], 12));
    let expected = a
        .view()
        .into_dimensionality::<ndarray::Ix2>()
        .unwrap()
        .dot(&b.view().into_dimensionality::<ndarray::Ix2>().unwrap());
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(3)
        .build()
        .unwrap();
    let got = pool.install(|| Tensor::from_array(a.clone()).matmul(&Tensor::from_array(b.clone())));
    assert_eq!(got.shape(), &[m, n]);
    for (p, q) in got.to_vec().iter().zip(expected.iter()) {
        assert!((p - q).abs() < 1e-10, "{p} vs {q}");
    }
}

#[test]
fn batched_products_of_empty_depth_are_zero() {
    // Each batch entry goes to faer's GEMM for f32 and f64, which must accept operands with
    // no columns (k = 0) and leave each m×n entry zero.
    let a = Tensor::<f32>::ones(&[2, 3, 0]);
    let b = Tensor::<f32>::ones(&[2, 0, 4]);
    assert_eq!(a.matmul(&b).to_vec(), vec![0.0; 24]);
    let a = Tensor::<f64>::ones(&[2, 3, 0]);
    let b = Tensor::<f64>::ones(&[2, 0, 4]);
    assert_eq!(a.matmul(&b).to_vec(), vec![0.0; 24]);
}

#[test]
fn parallel_batched_products_agree_with_one_product_per_entry() {
    // From PARALLEL_MIN_BATCHED multiply-adds in all, batch entries are split among rayon's
    // threads (three: an uneven split); each entry must equal its own 2-D product exactly,
    // with either operand read transposed.
    let (batch, m, k, n) = (7, 40, 64, 72);
    assert!(batch * m * k * n >= super::kernels::PARALLEL_MIN_BATCHED);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(3)
        .build()
        .unwrap();
    for (tl, tr) in [(false, false), (true, false), (false, true)] {
        let a_shape = if tl { [batch, k, m] } else { [batch, m, k] };
        let b_shape = if tr { [batch, n, k] } else { [batch, k, n] };
        let (a, b) = (
            Tensor::from_array(uniform(&a_shape, 13)),
            Tensor::from_array(uniform(&b_shape, 14)),
        );
        let got = pool.install(|| a.matmul_same_batch(&b, tl, tr).unwrap());
        assert_eq!(got.shape(), &[batch, m, n]);
        for i in 0..batch {
            let entry = |x: &Tensor<f64>| x.narrow(0, i, 1).squeeze(0);
            let want = entry(&a).matmul_same_batch(&entry(&b), tl, tr).unwrap();
            let got = entry(&got);
            for (p, q) in got.to_vec().iter().zip(want.to_vec()) {
                assert!((p - q).abs() < 1e-12, "entry {i}, {tl} {tr}: {p} vs {q}");
            }
        }
    }
}

#[test]
fn parallel_matrix_vector_products_agree_with_an_f64_reference() {
    // From PARALLEL_MIN_MATRIX_VECTOR elements, f32 X·v and Xᵀ·v split X's rows among
    // rayon's threads (three here: uneven blocks); Xᵀ·v then adds the threads' sums.
    let (rows, cols) = (65_537, 17);
    assert!(rows * cols >= super::kernels::PARALLEL_MIN_MATRIX_VECTOR);
    let (x64, v64, g64) = (
        uniform(&[rows, cols], 21),
        uniform(&[cols, 1], 22),
        uniform(&[rows, 1], 23),
    );
    let x2: ndarray::Array2<f64> = x64.clone().into_dimensionality().unwrap();
    let expected_xv = x2.dot(&v64.clone().into_dimensionality::<ndarray::Ix2>().unwrap());
    let expected_xtg = x2
        .t()
        .dot(&g64.clone().into_dimensionality::<ndarray::Ix2>().unwrap());
    let f32_tensor = |a: &ndarray::ArrayD<f64>| Tensor::from_array(a.mapv(|v| v as f32));
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(3)
        .build()
        .unwrap();
    let (xv, xtg) = pool.install(|| {
        let x = f32_tensor(&x64);
        (
            x.matmul_t(&f32_tensor(&v64), false, false),
            x.matmul_t(&f32_tensor(&g64), true, false),
        )
    });
    for (got, want) in xv.to_vec().iter().zip(expected_xv.iter()) {
        assert!(
            (f64::from(*got) - want).abs() < 1e-5,
            "X·v: {got} vs {want}"
        );
    }
    // Each entry sums 65537 products of numbers in [-1, 1): sums of order 10², so 1e-3
    // allows a few ulps.
    for (got, want) in xtg.to_vec().iter().zip(expected_xtg.iter()) {
        assert!(
            (f64::from(*got) - want).abs() < 1e-3,
            "Xᵀ·g: {got} vs {want}"
        );
    }
}

#[test]
fn shape_errors() {
    let err = Tensor::<f32>::zeros(&[3, 4])
        .try_matmul(&Tensor::zeros(&[5, 2]))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "matmul: [3, 4] x [5, 2]: inner dimensions 4 and 5 differ"
    );
    let err = Tensor::<f32>::zeros(&[2, 3, 4])
        .try_matmul(&Tensor::zeros(&[3, 4, 2]))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "matmul: [2, 3, 4] and [3, 4, 2]: batch dimensions do not broadcast"
    );
    assert!(Tensor::<f32>::scalar(1.0)
        .try_matmul(&Tensor::zeros(&[1]))
        .is_err());
}
