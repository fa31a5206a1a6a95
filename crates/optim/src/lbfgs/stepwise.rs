//! L-BFGS one call at a time: `torch.optim.LBFGS.step(closure)`.
//!
//! Each call evaluates the closure, then runs up to `max_iter` quasi-Newton iterations,
//! keeping the (s, y) history, the last direction and step between calls. An iteration stops
//! the call early when (PyTorch's tests, all absolute):
//!
//! ```text
//! max|∇f| ≤ tolerance_grad            (also checked before the first iteration)
//! ∇fᵀd > −tolerance_change            (d is no longer a descent direction)
//! max|t·d| ≤ tolerance_change   or   |fₖ − fₖ₋₁| < tolerance_change
//! evaluations ≥ max_eval
//! ```
//!
//! The step length is `lr` (the first iteration ever: min(1, 1/Σ|∇f|)·lr) — or, with
//! [`LineSearchFn::StrongWolfe`], the result of PyTorch's strong-Wolfe search started there
//! (a port of minFunc's `WolfeLineSearch`, c₁ = 1e-4, c₂ = 0.9: bracketing with cubic
//! extrapolation, then zooming with safeguarded cubic interpolation). A pair (s, y) enters the
//! history only when yᵀs > 1e-10, and H₀ = (yᵀs/yᵀy)·I from the newest pair.

use tapegrad_tensor::{Float, Tensor};

use super::Lbfgs;
use crate::error::{check, check_non_negative};
use crate::flat::{axpy, dot, loss_and_grad, set_values, values};
use crate::OptimError;

/// How [`Lbfgs::step`] picks a step length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineSearchFn {
    /// A fixed step `lr` (PyTorch's `line_search_fn=None`, the default).
    None,
    /// PyTorch's `"strong_wolfe"` search.
    StrongWolfe,
}

/// Settings of [`Lbfgs::step`], named and defaulted as PyTorch's `LBFGS`: lr 1, `max_iter`
/// 20, `max_eval` ⌊max_iter·5/4⌋, `tolerance_grad` 1e-7, `tolerance_change` 1e-9, no line
/// search, minimizing. (The history size is [`LbfgsConfig::history_size`](super::LbfgsConfig).)
#[derive(Clone, Debug, PartialEq)]
pub struct LbfgsStepConfig {
    /// The step length (or the line search's first trial).
    pub lr: f64,
    /// Iterations per call.
    pub max_iter: usize,
    /// Closure evaluations per call; `None` for ⌊max_iter·5/4⌋.
    pub max_eval: Option<usize>,
    /// Stop when max|∇f| ≤ this.
    pub tolerance_grad: f64,
    /// Stop when the loss or the parameters change by less than this (absolute).
    pub tolerance_change: f64,
    /// A fixed step or the strong-Wolfe search.
    pub line_search_fn: LineSearchFn,
    /// Ascend the closure's value instead (PyTorch's `maximize`).
    pub maximize: bool,
}

impl Default for LbfgsStepConfig {
    fn default() -> Self {
        LbfgsStepConfig {
            lr: 1.0,
            max_iter: 20,
            max_eval: None,
            tolerance_grad: 1e-7,
            tolerance_change: 1e-9,
            line_search_fn: LineSearchFn::None,
            maximize: false,
        }
    }
}

impl LbfgsStepConfig {
    pub(crate) fn check(&self) -> Result<(), OptimError> {
        const NAME: &str = "L-BFGS";
        check_non_negative(NAME, "lr", self.lr)?;
        let n = self.max_iter;
        check(NAME, "max_iter", n as f64, n > 0, "must be ≥ 1")?;
        check_non_negative(NAME, "tolerance_grad", self.tolerance_grad)?;
        check_non_negative(NAME, "step.tolerance_change", self.tolerance_change)
    }
}

/// What [`Lbfgs::step`] remembers between calls (PyTorch's `state`).
#[derive(Clone, Debug, Default)]
pub(crate) struct StepState {
    d: Vec<f64>,
    t: f64,
    old_dirs: Vec<Vec<f64>>,
    old_stps: Vec<Vec<f64>>,
    ro: Vec<f64>,
    h_diag: f64,
    prev_flat_grad: Vec<f64>,
    prev_loss: f64,
    n_iter: usize,
    func_evals: usize,
}

fn max_abs(v: &[f64]) -> f64 {
    v.iter().fold(0.0, |m, x| m.max(x.abs()))
}

impl<F: Float> Lbfgs<F> {
    /// One PyTorch `LBFGS.step(closure)`: up to `max_iter` iterations on the loss `closure`
    /// records from the parameters (called for every evaluation); returns the loss of the
    /// first evaluation, before the parameters moved.
    ///
    /// ```
    /// use tapegrad_optim::{Lbfgs, LbfgsConfig};
    /// use tapegrad_tensor::Param;
    /// // f(x) = Σ (x − 3)² from 0: the first iteration is a short steepest-descent step
    /// // (t = min(1, 1/Σ|∇f|) = 1/12, to x = 0.5); the second, scaled by the curvature the
    /// // first measured (H₀ = yᵀs/yᵀy = ½), lands on the minimum, where ∇f = 0 ends the call.
    /// let x = Param::<f64>::new("x", ndarray::arr1(&[0.0, 0.0]).into_dyn());
    /// let mut lbfgs = Lbfgs::new(vec![x.clone()], LbfgsConfig::default()).unwrap();
    /// let first = lbfgs.step(|| (x.tensor() - 3.0).powf(2.0).sum());
    /// assert_eq!(first, 18.0);
    /// assert!(x.value().iter().all(|v| (v - 3.0).abs() < 1e-9));
    /// ```
    ///
    /// # Panics
    /// When the closure's result is not a one-element tensor recorded from the parameters.
    #[track_caller]
    pub fn step(&mut self, mut closure: impl FnMut() -> Tensor<F>) -> f64 {
        let c = self.config.step.clone();
        let history_size = self.config.history_size;
        let max_eval = c.max_eval.unwrap_or(c.max_iter * 5 / 4);
        let sign = if c.maximize { -1.0 } else { 1.0 };
        let params = &self.params;
        let mut eval = |x: &[f64]| {
            set_values(params, x);
            let (f, g) = loss_and_grad(params, &mut closure);
            (
                sign * f,
                g.into_iter().map(|v| sign * v).collect::<Vec<f64>>(),
            )
        };
        let st = &mut self.state;
        let mut x = values(params);
        let (mut loss, mut flat_grad) = eval(&x);
        let orig_loss = sign * loss;
        let mut current_evals = 1;
        st.func_evals += 1;
        let mut opt_cond = max_abs(&flat_grad) <= c.tolerance_grad;
        if opt_cond {
            return orig_loss;
        }
        let mut n_iter = 0;
        while n_iter < c.max_iter {
            n_iter += 1;
            st.n_iter += 1;
            if st.n_iter == 1 {
                st.d = flat_grad.iter().map(|g| -g).collect();
                st.old_dirs.clear();
                st.old_stps.clear();
                st.ro.clear();
                st.h_diag = 1.0;
            } else {
                let y: Vec<f64> = flat_grad
                    .iter()
                    .zip(&st.prev_flat_grad)
                    .map(|(a, b)| a - b)
                    .collect();
                let s: Vec<f64> = st.d.iter().map(|d| d * st.t).collect();
                let ys = dot(&y, &s);
                if ys > 1e-10 {
                    if st.old_dirs.len() == history_size {
                        st.old_dirs.remove(0);
                        st.old_stps.remove(0);
                        st.ro.remove(0);
                    }
                    st.h_diag = ys / dot(&y, &y);
                    st.old_dirs.push(y);
                    st.old_stps.push(s);
                    st.ro.push(1.0 / ys);
                }
                // The two-loop recursion: d = −H·∇f.
                let num_old = st.old_dirs.len();
                let mut al = vec![0.0; num_old];
                let mut q: Vec<f64> = flat_grad.iter().map(|g| -g).collect();
                for i in (0..num_old).rev() {
                    al[i] = dot(&st.old_stps[i], &q) * st.ro[i];
                    q = axpy(&q, -al[i], &st.old_dirs[i]);
                }
                let mut r: Vec<f64> = q.iter().map(|q| q * st.h_diag).collect();
                for ((y, s), (rho, a)) in st
                    .old_dirs
                    .iter()
                    .zip(&st.old_stps)
                    .zip(st.ro.iter().zip(&al))
                {
                    let be_i = dot(y, &r) * rho;
                    r = axpy(&r, a - be_i, s);
                }
                st.d = r;
            }
            st.prev_flat_grad.clone_from(&flat_grad);
            st.prev_loss = loss;
            st.t = if st.n_iter == 1 {
                (1.0f64).min(1.0 / flat_grad.iter().map(|g| g.abs()).sum::<f64>()) * c.lr
            } else {
                c.lr
            };
            let gtd = dot(&flat_grad, &st.d);
            if gtd > -c.tolerance_change {
                break;
            }
            let mut ls_func_evals = 0;
            match c.line_search_fn {
                LineSearchFn::StrongWolfe => {
                    let max_ls = max_eval.saturating_sub(current_evals);
                    let found =
                        strong_wolfe(&mut eval, &x, st.t, &st.d, loss, &flat_grad, gtd, max_ls);
                    (loss, flat_grad, st.t, ls_func_evals) = found;
                    x = axpy(&x, st.t, &st.d);
                    opt_cond = max_abs(&flat_grad) <= c.tolerance_grad;
                }
                LineSearchFn::None => {
                    x = axpy(&x, st.t, &st.d);
                    if n_iter != c.max_iter {
                        (loss, flat_grad) = eval(&x);
                        opt_cond = max_abs(&flat_grad) <= c.tolerance_grad;
                        ls_func_evals = 1;
                    }
                }
            }
            current_evals += ls_func_evals;
            st.func_evals += ls_func_evals;
            if n_iter == c.max_iter
                || current_evals >= max_eval
                || opt_cond
                || max_abs(&st.d) * st.t.abs() <= c.tolerance_change
                || (loss - st.prev_loss).abs() < c.tolerance_change
            {
                break;
            }
        }
        set_values(params, &x);
        orig_loss
    }

    /// Closure evaluations made by [`step`](Lbfgs::step) so far (PyTorch's
    /// `state["func_evals"]`).
    pub fn func_evals(&self) -> usize {
        self.state.func_evals
    }
}

/// The minimiser of the cubic through (x₁, f₁, g₁) and (x₂, f₂, g₂), clamped to `bounds`
/// (the interval's ends when none); the bounds' midpoint when the cubic has no minimum.
fn cubic_interpolate(p1: (f64, f64, f64), p2: (f64, f64, f64), bounds: Option<(f64, f64)>) -> f64 {
    let ((x1, f1, g1), (x2, f2, g2)) = (p1, p2);
    let (lo, hi) = bounds.unwrap_or(if x1 <= x2 { (x1, x2) } else { (x2, x1) });
    let d1 = g1 + g2 - 3.0 * (f1 - f2) / (x1 - x2);
    let d2_square = d1 * d1 - g1 * g2;
    if d2_square >= 0.0 {
        let d2 = d2_square.sqrt();
        let min_pos = if x1 <= x2 {
            x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2.0 * d2))
        } else {
            x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2.0 * d2))
        };
        min_pos.max(lo).min(hi)
    } else {
        (lo + hi) / 2.0
    }
}

/// PyTorch's `_strong_wolfe` along `d` from `x` (loss `f`, gradient `g`, slope `gtd`), first
/// trial step `t`: returns the loss and gradient at the accepted step, the step, and the
/// evaluations spent.
#[allow(clippy::too_many_arguments)]
fn strong_wolfe(
    eval: &mut impl FnMut(&[f64]) -> (f64, Vec<f64>),
    x: &[f64],
    mut t: f64,
    d: &[f64],
    f: f64,
    g: &[f64],
    gtd: f64,
    max_ls: usize,
) -> (f64, Vec<f64>, f64, usize) {
    const C1: f64 = 1e-4;
    const C2: f64 = 0.9;
    const TOLERANCE_CHANGE: f64 = 1e-9;
    let d_norm = max_abs(d);
    let mut obj = |t: f64| {
        let (f, g) = eval(&axpy(x, t, d));
        let gtd = dot(&g, d);
        (f, g, gtd)
    };
    let (mut f_new, mut g_new, mut gtd_new) = obj(t);
    let mut ls_func_evals = 1;
    let (mut t_prev, mut f_prev, mut g_prev, mut gtd_prev) = (0.0, f, g.to_vec(), gtd);
    let mut done = false;
    let mut ls_iter = 0;
    // A bracket: steps, losses, gradients, slopes (one entry when a step was accepted).
    let mut bracket: Vec<(f64, f64, Vec<f64>, f64)> = Vec::new();
    while ls_iter < max_ls {
        if f_new > f + C1 * t * gtd || (ls_iter > 1 && f_new >= f_prev) {
            bracket = vec![
                (t_prev, f_prev, g_prev, gtd_prev),
                (t, f_new, g_new.clone(), gtd_new),
            ];
            break;
        }
        if gtd_new.abs() <= -C2 * gtd {
            bracket = vec![(t, f_new, g_new.clone(), gtd_new)];
            done = true;
            break;
        }
        if gtd_new >= 0.0 {
            bracket = vec![
                (t_prev, f_prev, g_prev, gtd_prev),
                (t, f_new, g_new.clone(), gtd_new),
            ];
            break;
        }
        // Extrapolate: a cubic step between 1.01·t and 10·t.
        let min_step = t + 0.01 * (t - t_prev);
        let max_step = t * 10.0;
        let tmp = t;
        t = cubic_interpolate(
            (t_prev, f_prev, gtd_prev),
            (t, f_new, gtd_new),
            Some((min_step, max_step)),
        );
        (t_prev, f_prev, g_prev, gtd_prev) = (tmp, f_new, g_new, gtd_new);
        (f_new, g_new, gtd_new) = obj(t);
        ls_func_evals += 1;
        ls_iter += 1;
    }
    if ls_iter == max_ls {
        bracket = vec![(0.0, f, g.to_vec(), gtd), (t, f_new, g_new, gtd_new)];
    }
    // Zoom: shrink the bracket until a step satisfies both conditions.
    let mut insuf_progress = false;
    let order = |b: &[(f64, f64, Vec<f64>, f64)]| {
        if b[0].1 <= b[b.len() - 1].1 {
            (0, 1)
        } else {
            (1, 0)
        }
    };
    let (mut low, mut high) = order(&bracket);
    while !done && ls_iter < max_ls {
        if (bracket[1].0 - bracket[0].0).abs() * d_norm < TOLERANCE_CHANGE {
            break;
        }
        let (b0, b1) = (&bracket[0], &bracket[1]);
        t = cubic_interpolate((b0.0, b0.1, b0.3), (b1.0, b1.1, b1.3), None);
        let (b_max, b_min) = (b0.0.max(b1.0), b0.0.min(b1.0));
        let eps = 0.1 * (b_max - b_min);
        if (b_max - t).min(t - b_min) < eps {
            // Too close to an end: move away from it, unless the last step made progress.
            if insuf_progress || t >= b_max || t <= b_min {
                t = if (t - b_max).abs() < (t - b_min).abs() {
                    b_max - eps
                } else {
                    b_min + eps
                };
                insuf_progress = false;
            } else {
                insuf_progress = true;
            }
        } else {
            insuf_progress = false;
        }
        (f_new, g_new, gtd_new) = obj(t);
        ls_func_evals += 1;
        ls_iter += 1;
        if f_new > f + C1 * t * gtd || f_new >= bracket[low].1 {
            bracket[high] = (t, f_new, g_new, gtd_new);
            (low, high) = order(&bracket);
        } else {
            if gtd_new.abs() <= -C2 * gtd {
                done = true;
            } else if gtd_new * (bracket[high].0 - bracket[low].0) >= 0.0 {
                bracket[high] = bracket[low].clone();
            }
            bracket[low] = (t, f_new, g_new, gtd_new);
        }
    }
    let (t, f_new, g_new, _) = bracket.swap_remove(low);
    (f_new, g_new, t, ls_func_evals)
}
