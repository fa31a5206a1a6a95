//! Newton-CG (truncated Newton; Nocedal & Wright, algorithm 7.1): Newton's method whose
//! linear system is solved by conjugate gradient, with every Hessian product taken from the
//! tape. No Hessian is ever formed or written by hand.
//!
//! Each iteration solves H·p = −∇f approximately, where CG only needs products H·v. The tape
//! gives them as the gradient of a gradient:
//!
//! ```text
//! g = ∇f(x)                      (recorded: grad(loss, params, create_graph = true))
//! H·v = ∇ₓ(gᵀv)                  (grad of Σ g ⊙ v, v held constant)
//! ```
//!
//! CG stops when the residual is below min(½, √‖∇f‖)·‖∇f‖ (which gives superlinear
//! convergence) or when it meets a direction of negative curvature, where Newton's model has
//! no minimum; it then keeps what it has (or steepest descent, on the first CG step). A
//! backtracking line search on f makes the step safe far from the minimum.

use tapegrad_tensor::{grad, grad_with, no_grad, Float, GradOptions, Param, Tensor};

use crate::error::check;
use crate::flat::{axpy, dot, norm, of_tensors, set_values, values};
use crate::report::converged_at_start;
use crate::stop::StopRules;
use crate::{OptimError, Report};

/// Settings of [`NewtonCg`]; `Default`: at most 100 Newton iterations, stop when
/// ‖∇f‖ < 1e-7.
#[derive(Clone, Debug, PartialEq)]
pub struct NewtonCgConfig {
    /// The Newton-iteration budget.
    pub max_iters: usize,
    /// Stop when ‖∇f‖₂ falls below this.
    pub gtol: f64,
}

impl Default for NewtonCgConfig {
    fn default() -> Self {
        NewtonCgConfig {
            max_iters: 100,
            gtol: 1e-7,
        }
    }
}

/// Newton's method with a CG inner solver and tape Hessian-vector products.
#[derive(Debug)]
pub struct NewtonCg<F: Float> {
    params: Vec<Param<F>>,
    config: NewtonCgConfig,
}

impl<F: Float> NewtonCg<F> {
    /// An optimizer over `params`.
    ///
    /// # Errors
    /// `InvalidSetting` for a negative or NaN `gtol`.
    pub fn new(params: Vec<Param<F>>, config: NewtonCgConfig) -> Result<Self, OptimError> {
        check(
            "Newton-CG",
            "gtol",
            config.gtol,
            config.gtol >= 0.0,
            "must be ≥ 0",
        )?;
        Ok(NewtonCg { params, config })
    }

    /// Minimises the loss that `closure` records, updating the parameters in place.
    ///
    /// # Panics
    /// When the closure's result is not a one-element tensor recorded from the parameters.
    #[track_caller]
    pub fn minimize(&mut self, mut closure: impl FnMut() -> Tensor<F>) -> Report {
        let params = &self.params;
        let leaves: Vec<Tensor<F>> = params.iter().map(Param::tensor).collect();
        let leaf_refs: Vec<&Tensor<F>> = leaves.iter().collect();
        let mut x = values(params);
        let mut evaluations = 0;
        let mut stopper = StopRules {
            max_iters: Some(self.config.max_iters),
            grad_norm_below: Some(self.config.gtol),
            ..Default::default()
        }
        .start();
        let (f, g, reason) = loop {
            set_values(params, &x);
            let loss = closure();
            evaluations += 1;
            let f = loss.item().as_f64();
            // The gradient, recorded so that it can be differentiated again.
            let g_tensors =
                grad(&loss, &leaf_refs, true).expect("the loss depends on the parameters");
            let g = of_tensors(&g_tensors);
            if stopper.iters() == 0 {
                if let Some(reason) = converged_at_start(&g, self.config.gtol) {
                    break (f, g, reason);
                }
            }
            let hessian_times = |v: &[f64]| -> Vec<f64> {
                let mut offset = 0;
                let mut gv: Option<Tensor<F>> = None;
                for (gi, p) in g_tensors.iter().zip(params) {
                    let n = gi.numel();
                    let chunk = v[offset..offset + n]
                        .iter()
                        .map(|&x| F::from_f64(x))
                        .collect();
                    let vi = Tensor::from_vec(chunk, p.shape());
                    let term = (gi * &vi).sum();
                    gv = Some(match gv {
                        Some(acc) => acc + term,
                        None => term,
                    });
                    offset += n;
                }
                let gv = gv.expect("at least one parameter");
                // A parameter that enters f linearly has a constant gradient: its row of H
                // is zero, which materialize_grads gives instead of an "unused" error.
                let options = GradOptions {
                    create_graph: true,
                    materialize_grads: true,
                    ..GradOptions::default()
                };
                let hv = grad_with(&gv, &leaf_refs, options).expect("the gradient is on the tape");
                of_tensors(&hv.into_iter().flatten().collect::<Vec<_>>())
            };
            let p = truncated_cg(&g, hessian_times);
            // Backtracking (Armijo) along p: halve until f decreases enough.
            let slope = dot(&g, &p);
            let mut t = 1.0;
            let mut f_new;
            loop {
                set_values(params, &axpy(&x, t, &p));
                f_new = no_grad(&mut closure).item().as_f64();
                evaluations += 1;
                if f_new <= f + 1e-4 * t * slope || t < 1e-10 {
                    break;
                }
                t *= 0.5;
            }
            x = axpy(&x, t, &p);
            // Report the gradient at the new point, as the stopping rule needs it.
            set_values(params, &x);
            let new_loss = closure();
            evaluations += 1;
            let g_new = of_tensors(&grad(&new_loss, &leaf_refs, false).expect("recorded"));
            if let Some(reason) = stopper.check(f_new, Some(norm(&g_new))) {
                break (f_new, g_new, reason);
            }
        };
        set_values(params, &x);
        Report::new(stopper.iters(), evaluations, f, &g, reason)
    }
}

/// Approximately solves H·p = −g by conjugate gradient, given products H·v.
fn truncated_cg(g: &[f64], mut hessian_times: impl FnMut(&[f64]) -> Vec<f64>) -> Vec<f64> {
    let g_norm = norm(g);
    let tolerance = g_norm.sqrt().min(0.5) * g_norm;
    let mut p = vec![0.0; g.len()];
    let mut r: Vec<f64> = g.iter().map(|v| -v).collect(); // r = −g − H·p
    let mut d = r.clone();
    let mut rr = dot(&r, &r);
    for j in 0..2 * g.len().max(1) {
        let hd = hessian_times(&d);
        let curvature = dot(&d, &hd);
        if curvature <= 1e-14 * dot(&d, &d) {
            // Negative (or no) curvature along d: Newton's model has no minimum there.
            if j == 0 {
                return d; // steepest descent, −g
            }
            break;
        }
        let alpha = rr / curvature;
        p = axpy(&p, alpha, &d);
        r = axpy(&r, -alpha, &hd);
        let rr_new = dot(&r, &r);
        if rr_new.sqrt() < tolerance {
            break;
        }
        d = axpy(&r, rr_new / rr, &d);
        rr = rr_new;
    }
    p
}
