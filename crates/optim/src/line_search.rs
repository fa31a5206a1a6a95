//! The strong-Wolfe line search of Nocedal & Wright, *Numerical Optimization* (2nd ed.),
//! algorithms 3.5 and 3.6, as used by L-BFGS and nonlinear conjugate gradient.
//!
//! Along a descent direction d from x, with φ(α) = f(x + α·d), it finds a step α with
//!
//! ```text
//! φ(α) ≤ φ(0) + c₁·α·φ′(0)        (sufficient decrease)
//! |φ′(α)| ≤ c₂·|φ′(0)|             (curvature: the slope has flattened)
//! ```
//!
//! by growing α until a bracket [lo, hi] surely holds such a step, then shrinking the bracket
//! ("zoom") with safeguarded cubic interpolation.

use crate::flat::{axpy, dot};

/// A point the search evaluated: step, loss, gradient.
pub(crate) struct Point {
    pub alpha: f64,
    pub f: f64,
    pub g: Vec<f64>,
    /// φ′(α) = ∇f(x + α·d)·d
    pub slope: f64,
}

/// The result: the accepted point (or the best one seen, if none met both conditions) and
/// how many function evaluations were spent.
pub(crate) struct Found {
    pub point: Point,
    pub evaluations: usize,
}

const MAX_EVALUATIONS: usize = 25;

/// Searches along `d` from `x` (with loss `f0` and slope `slope0` = ∇f(x)·d < 0), starting at
/// step `alpha0`. `eval(x)` returns f and ∇f at a point.
pub(crate) fn strong_wolfe(
    x: &[f64],
    d: &[f64],
    f0: f64,
    slope0: f64,
    alpha0: f64,
    c2: f64,
    eval: &mut impl FnMut(&[f64]) -> (f64, Vec<f64>),
) -> Found {
    const C1: f64 = 1e-4;
    let mut evaluations = 0;
    let mut at = |alpha: f64, evaluations: &mut usize| {
        *evaluations += 1;
        let (f, g) = eval(&axpy(x, alpha, d));
        let slope = dot(&g, d);
        Point { alpha, f, g, slope }
    };
    let sufficient = |p: &Point| p.f <= f0 + C1 * p.alpha * slope0;
    let curvature = |p: &Point| p.slope.abs() <= -c2 * slope0;

    let mut previous = Point {
        alpha: 0.0,
        f: f0,
        g: Vec::new(),
        slope: slope0,
    };
    let mut alpha = alpha0;
    // Bracketing: grow α until the interval (previous, current) must contain a good step.
    let (mut lo, mut hi) = loop {
        let current = at(alpha, &mut evaluations);
        if !sufficient(&current) || (evaluations > 1 && current.f >= previous.f) {
            break (previous, current);
        }
        if curvature(&current) {
            return Found {
                point: current,
                evaluations,
            };
        }
        if current.slope >= 0.0 {
            break (current, previous);
        }
        if evaluations >= MAX_EVALUATIONS {
            return Found {
                point: current,
                evaluations,
            };
        }
        alpha *= 2.0;
        previous = current;
    };
    // Zoom: `lo` satisfies sufficient decrease with the lowest f so far; shrink towards it.
    while evaluations < MAX_EVALUATIONS {
        let alpha = safeguarded_cubic(&lo, &hi);
        let trial = at(alpha, &mut evaluations);
        if !sufficient(&trial) || trial.f >= lo.f {
            hi = trial;
        } else {
            if curvature(&trial) {
                return Found {
                    point: trial,
                    evaluations,
                };
            }
            if trial.slope * (hi.alpha - lo.alpha) >= 0.0 {
                hi = std::mem::replace(&mut lo, trial);
            } else {
                lo = trial;
            }
        }
        if (hi.alpha - lo.alpha).abs() < 1e-12 * lo.alpha.abs().max(1.0) {
            break;
        }
    }
    // Out of budget: the best point that decreased the loss (lo is never worse than φ(0)).
    if lo.g.is_empty() {
        lo = at(lo.alpha.max(1e-12), &mut evaluations);
    }
    Found {
        point: lo,
        evaluations,
    }
}

/// The minimiser of the cubic through (a, f_a, f′_a) and (b, f_b, f′_b), kept at least 10%
/// of the interval away from both ends; the midpoint when the cubic has no minimum.
fn safeguarded_cubic(a: &Point, b: &Point) -> f64 {
    let (lo, hi) = (a.alpha.min(b.alpha), a.alpha.max(b.alpha));
    let d1 = a.slope + b.slope - 3.0 * (a.f - b.f) / (a.alpha - b.alpha);
    let d2_squared = d1 * d1 - a.slope * b.slope;
    let mid = 0.5 * (lo + hi);
    if d2_squared.is_nan() || d2_squared < 0.0 {
        return mid;
    }
    let d2 = d2_squared.sqrt() * (b.alpha - a.alpha).signum();
    let t = b.alpha - (b.alpha - a.alpha) * ((b.slope + d2 - d1) / (b.slope - a.slope + 2.0 * d2));
    let margin = 0.1 * (hi - lo);
    if t.is_finite() && t > lo + margin && t < hi - margin {
        t
    } else {
        mid
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_wolfe_step_on_a_parabola() {
        // f(x) = (x − 3)², from 0 along d = 1: the exact minimiser is α = 3.
        let mut eval = |x: &[f64]| ((x[0] - 3.0).powi(2), vec![2.0 * (x[0] - 3.0)]);
        let found = strong_wolfe(&[0.0], &[1.0], 9.0, -6.0, 1.0, 0.1, &mut eval);
        let p = found.point;
        assert!(p.f <= 9.0 + 1e-4 * p.alpha * -6.0, "sufficient decrease");
        assert!(p.slope.abs() <= 0.1 * 6.0, "curvature: α = {}", p.alpha);
        assert!(found.evaluations <= 5);
    }
}
