//! Student's t distribution: survival function, CDF, density and quantile.
//!
//! The tail probability is `½ I_x(ν/2, ½)` with `x = ν/(ν+t²)`; we pass `ln x = -ln1p(t²/ν)`
//! so that large ν loses nothing to rounding. The quantile is found by Newton's method on
//! the log of the tail probability, started from the normal quantile with the first
//! Cornish-Fisher correction, and is accurate to a few ulps.

use super::beta::{ibeta_at_ratio, ln_beta};
use super::special::{ndtr, ndtri};

/// Tail probability P(T > |t|) and its complement, for ν > 0.
fn tails(df: f64, t: f64) -> (f64, f64) {
    let (lower, upper) = ibeta_at_ratio(0.5 * df, 0.5, t * t / df);
    (0.5 * lower, 0.5 + 0.5 * upper)
}

/// P(T > t) for ν degrees of freedom (NaN for ν ≤ 0 or NaN input; normal for ν = ∞).
pub fn sf(df: f64, t: f64) -> f64 {
    if df.is_nan() || t.is_nan() || df <= 0.0 {
        return f64::NAN;
    }
    if df.is_infinite() {
        return ndtr(-t);
    }
    if t == 0.0 {
        return 0.5;
    }
    let (tail, body) = tails(df, t);
    if t > 0.0 {
        tail
    } else {
        body
    }
}

/// P(T ≤ t).
pub fn cdf(df: f64, t: f64) -> f64 {
    sf(df, -t)
}

/// The density of T at t.
pub fn pdf(df: f64, t: f64) -> f64 {
    let q = t * t / df;
    (-0.5 * (df + 1.0) * q.ln_1p() - ln_beta(0.5 * df, 0.5)).exp() / df.sqrt()
}

/// The quantile: the t with P(T ≤ t) = p.
pub fn ppf(df: f64, p: f64) -> f64 {
    if df.is_nan() || p.is_nan() || df <= 0.0 || !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    if p == 0.0 {
        return f64::NEG_INFINITY;
    }
    if p == 1.0 {
        return f64::INFINITY;
    }
    if df.is_infinite() {
        return ndtri(p);
    }
    if p == 0.5 {
        return 0.0;
    }
    // Work on the upper tail of |t|: P(T > t) = tail, t > 0.
    let (tail, sign) = if p < 0.5 { (p, -1.0) } else { (1.0 - p, 1.0) };
    let z = -ndtri(tail);
    let mut t = z + (z * z * z + z) / (4.0 * df);
    if !(t.is_finite() && t > 0.0) {
        t = z.max(1e-3);
    }
    let ln_target = tail.ln();
    for _ in 0..100 {
        let upper = sf(df, t);
        let density = pdf(df, t);
        if !(upper > 0.0 && density > 0.0) {
            break;
        }
        // d/dt ln P(T > t) = -pdf / sf.
        let step = (upper.ln() - ln_target) * upper / density;
        let next = if t + step > 0.0 { t + step } else { 0.5 * t };
        let done = (next - t).abs() <= 4.0 * f64::EPSILON * next.abs();
        t = next;
        if done {
            break;
        }
    }
    sign * t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cauchy_and_normal_limits() {
        // ν = 1 is the Cauchy distribution: P(T > 1) = 1/4.
        assert!((sf(1.0, 1.0) - 0.25).abs() < 1e-15);
        assert!((cdf(1.0, -1.0) - 0.25).abs() < 1e-15);
        assert!((sf(f64::INFINITY, 1.959_963_984_540_054) - 0.025).abs() < 1e-15);
        assert_eq!(sf(5.0, 0.0), 0.5);
        assert!(sf(0.0, 1.0).is_nan());
    }

    #[test]
    fn ppf_inverts_cdf() {
        for df in [0.5, 1.0, 2.0, 7.0, 30.0, 1e3, 1e6] {
            for p in [1e-12, 1e-6, 0.01, 0.025, 0.3, 0.5, 0.9, 0.975, 1.0 - 1e-9] {
                let t = ppf(df, p);
                let back = cdf(df, t);
                let tol = 1e-13 * p.min(1.0 - p).max(1e-300);
                assert!(
                    (back - p).abs() <= tol.max(1e-15),
                    "df {df} p {p}: t {t} back {back}"
                );
            }
        }
        // Two degrees of freedom has a closed form: t = (2p - 1) / sqrt(2 p (1 - p)).
        let p: f64 = 0.9;
        let exact = (2.0 * p - 1.0) / (2.0 * p * (1.0 - p)).sqrt();
        assert!((ppf(2.0, p) - exact).abs() < 1e-14);
    }
}
