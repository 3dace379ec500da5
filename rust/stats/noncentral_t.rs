//! The noncentral t distribution: CDF and survival function, accurate in both tails for
//! either sign of the noncentrality.
//!
//! With T = (Z + δ)/S, where S = √(χ²_ν/ν) is independent of Z ~ N(0, 1), conditioning
//! on S gives
//!
//! ```text
//!     P(T ≤ t) = E[Φ(tS − δ)],        P(T > t) = E[Φ(δ − tS)],
//! ```
//!
//! integrals of positive functions: neither tail is ever found as `1 − (the other)`, so
//! nothing cancels whatever the signs of t and δ. (The series of Lenth (AS 243) and Benton
//! & Krishnamoorthy, which Boost and hence SciPy use, subtract when t and δ have opposite
//! signs, and the small tail there keeps only absolute accuracy.)
//!
//! For ν ≥ 1 the density of S and Φ are both log-concave, so each integrand has a single
//! peak: we find it by bisection on the log-derivative, bracket the region within e⁻⁴⁵ of
//! the peak and integrate either side by tanh-sinh quadrature. The integration variable is
//! e = S − 1, so that at large ν (where S is concentrated within 1/√(2ν) of 1) the nodes
//! keep their full precision; the density is written around e = 0 so that its large
//! terms do not cancel, and is left unnormalised: both tails are integrated and each is
//! divided by their sum, so no ln Γ of a huge argument enters and the two tails add up to
//! one within an ulp. For ν < 1 the density has a pole at S = 0; there the substitution
//! r = S^ν removes it on the part of the line where the log-integrand is not concave.
//!
//! Accuracy: about 1e-14 relative against 30-digit quadrature, down to values near 1e-300
//! (the normal CDF's own error, ~1e-13 at |x| ≈ 30, bounds the far tails). Cost: a few
//! hundred normal-CDF evaluations, ~150 µs a value.

use std::f64::consts::FRAC_PI_2;

use super::beta::log1p_remainder;
use super::special::ndtr;
use super::student_t;

const LN_SQRT_2PI: f64 = 0.918_938_533_204_672_7;
/// The integrand is cut where it falls below e^-DROP of its peak (e⁻⁴⁵ ≈ 3e-20).
const DROP: f64 = 45.0;
/// Beyond this many degrees of freedom S is 1 to double precision.
const HUGE_DF: f64 = 1e250;
/// Tanh-sinh: abscissae run over |τ| ≤ TAU_MAX (weights there are ~1e-21 of the centre's).
const TAU_MAX: f64 = 3.5;
const MAX_LEVEL: u32 = 9;
/// Relative change between levels at which tanh-sinh has converged (its error then is
/// about the square of this).
const LEVEL_TOL: f64 = 1e-10;
const MAX_SPLITS: u32 = 12;

/// P(T ≤ t) for ν = `df` degrees of freedom and noncentrality `nc` (NaN for ν ≤ 0, NaN
/// or infinite noncentrality).
pub fn cdf(df: f64, nc: f64, t: f64) -> f64 {
    tail(df, nc, t, 1.0)
}

/// P(T > t), computed directly (never as 1 − CDF).
pub fn sf(df: f64, nc: f64, t: f64) -> f64 {
    tail(df, nc, t, -1.0)
}

/// `E[Φ(sign · (tS − δ))]`: the CDF for sign = 1, the survival function for sign = −1.
fn tail(df: f64, nc: f64, t: f64, sign: f64) -> f64 {
    if df.is_nan() || nc.is_nan() || t.is_nan() || df <= 0.0 || nc.is_infinite() {
        return f64::NAN;
    }
    if t.is_infinite() {
        return if sign * t > 0.0 { 1.0 } else { 0.0 };
    }
    if nc == 0.0 {
        return if sign > 0.0 {
            student_t::cdf(df, t)
        } else {
            student_t::sf(df, t)
        };
    }
    if t == 0.0 || df > HUGE_DF {
        return ndtr(sign * (t - nc));
    }
    let h = 0.5 * df;
    let scale = 1.0 / (2.0 * df + t * t + 1.0).sqrt();
    let tail_integral = |side: f64| {
        let weighted = Integrand {
            h,
            shift: Shift {
                slope: side * t,
                offset: side * (t - nc),
            },
        };
        if df >= 1.0 {
            return peak_integral(&weighted, -1.0, scale);
        }
        // Left of s_c the log-density is convex; there integrate over r = s^ν instead.
        let s_c = ((1.0 - df) / df).sqrt();
        let near_zero = |r: f64| {
            let s = r.powf(1.0 / df);
            (h * (1.0 - s * s)).exp() / df * ndtr(side * (t * s - nc))
        };
        tanh_sinh(&near_zero, 0.0, s_c.powf(df)) + peak_integral(&weighted, s_c - 1.0, scale)
    };
    // The two tails sum to the density's integral, which normalises both.
    let wanted = tail_integral(sign);
    let other = tail_integral(-sign);
    (wanted / (wanted + other)).clamp(0.0, 1.0)
}

/// `sign · (tS − δ)` as `offset + slope · e`, with e = S − 1.
#[derive(Clone, Copy)]
struct Shift {
    slope: f64,
    offset: f64,
}

/// `S^(ν-1) e^(h(1 − S²))` (the unnormalised density of S, h = ν/2) times
/// `Φ(offset + slope · e)`, as a function of e = S − 1.
struct Integrand {
    h: f64,
    shift: Shift,
}

impl Integrand {
    fn arg(&self, e: f64) -> f64 {
        self.shift.offset + self.shift.slope * e
    }

    fn ln(&self, e: f64) -> f64 {
        ln_density(self.h, e) + ln_ndtr(self.arg(e))
    }

    fn d_ln(&self, e: f64) -> f64 {
        d_ln_density(self.h, e) + self.shift.slope * inverse_mills(self.arg(e))
    }

    fn value(&self, e: f64) -> f64 {
        ln_density(self.h, e).exp() * ndtr(self.arg(e))
    }
}

/// `ln[S^(2h-1) e^(h(1-S²))]` at S = 1 + e: near e = 0 as
/// `2h(ln(1+e) − e) − h e² − ln(1+e)`, whose terms are all small where the density lives.
fn ln_density(h: f64, e: f64) -> f64 {
    let k = 2.0 * h - 1.0;
    if e <= -1.0 {
        return if k > 0.0 {
            f64::NEG_INFINITY
        } else if k == 0.0 {
            h
        } else {
            f64::INFINITY
        };
    }
    if e.abs() <= 0.5 {
        // l = ln(1+e) − e
        let l = -log1p_remainder(e);
        2.0 * h * l - h * e * e - (l + e)
    } else {
        k * e.ln_1p() - h * e * (2.0 + e)
    }
}

fn d_ln_density(h: f64, e: f64) -> f64 {
    let k = 2.0 * h - 1.0;
    let s = 1.0 + e;
    if s <= 0.0 {
        return if k > 0.0 {
            f64::INFINITY
        } else if k == 0.0 {
            0.0
        } else {
            f64::NEG_INFINITY
        };
    }
    k / s - 2.0 * h * s
}

/// `ln Φ(u)` for any u, including where Φ(u) underflows.
fn ln_ndtr(u: f64) -> f64 {
    if u > 0.0 {
        return (-ndtr(-u)).ln_1p();
    }
    if u > -30.0 {
        return ndtr(u).ln();
    }
    // Φ(u) = φ(u)/|u| · (1 − 1/u² + 3/u⁴ − 15/u⁶ + ...), asymptotic, ample at |u| ≥ 30.
    let z = 1.0 / (u * u);
    let mut term = 1.0;
    let mut sum = 1.0;
    for k in 1..12 {
        term *= -f64::from(2 * k - 1) * z;
        sum += term;
    }
    -0.5 * u * u - LN_SQRT_2PI - (-u).ln() + sum.ln()
}

/// `φ(u)/Φ(u)`, the derivative of ln Φ.
fn inverse_mills(u: f64) -> f64 {
    (-0.5 * u * u - LN_SQRT_2PI - ln_ndtr(u)).exp()
}

/// `x > y`, false when either is NaN (so a NaN stops a search rather than extending it).
fn exceeds(x: f64, y: f64) -> bool {
    x > y
}

/// ∫ of a log-concave integrand over [lo, ∞) (in e): find the peak, cut where it has
/// fallen by e^-DROP, integrate either side.
fn peak_integral(f: &Integrand, lo: f64, scale: f64) -> f64 {
    let mode = find_mode(f, lo, scale);
    let top = f.ln(mode);
    if !exceeds(top, f64::NEG_INFINITY) {
        return 0.0;
    }
    let cut = top - DROP;
    let mut step = scale;
    let mut hi = mode + step;
    for _ in 0..2100 {
        if !exceeds(f.ln(hi), cut) {
            break;
        }
        step *= 2.0;
        hi = mode + step;
    }
    let mut left = lo;
    if mode > lo {
        let mut step = scale.min(mode - lo);
        for _ in 0..2100 {
            let e = mode - step;
            if e <= lo {
                break;
            }
            if !exceeds(f.ln(e), cut) {
                left = e;
                break;
            }
            step *= 2.0;
        }
    }
    let value = |e: f64| f.value(e);
    tanh_sinh(&value, left, mode) + tanh_sinh(&value, mode, hi)
}

/// The maximiser of a concave log-integrand on [lo, ∞), to within a small fraction of
/// `scale` (it only splits the integral, so it need not be exact).
fn find_mode(f: &Integrand, lo: f64, scale: f64) -> f64 {
    if !exceeds(f.d_ln(lo), 0.0) {
        return lo;
    }
    let mut hi = (2.0 * lo + 1.0).max(1.0);
    for _ in 0..2100 {
        if !exceeds(f.d_ln(hi), 0.0) {
            break;
        }
        hi = 2.0 * hi + 1.0;
    }
    let mut a = lo;
    let mut b = hi;
    for _ in 0..400 {
        let mid = 0.5 * (a + b);
        if b - a <= 1e-3 * scale || mid <= a || mid >= b {
            break;
        }
        if f.d_ln(mid) > 0.0 {
            a = mid;
        } else {
            b = mid;
        }
    }
    0.5 * (a + b)
}

/// ∫_a^b f by tanh-sinh quadrature, halving the interval where a level sequence does not
/// settle.
fn tanh_sinh(f: &dyn Fn(f64) -> f64, a: f64, b: f64) -> f64 {
    split_tanh_sinh(f, a, b, 0)
}

fn split_tanh_sinh(f: &dyn Fn(f64) -> f64, a: f64, b: f64, depth: u32) -> f64 {
    if !exceeds(b, a) {
        return 0.0;
    }
    let (value, settled) = tanh_sinh_levels(f, a, b);
    if settled || depth >= MAX_SPLITS {
        return value;
    }
    let mid = 0.5 * (a + b);
    split_tanh_sinh(f, a, mid, depth + 1) + split_tanh_sinh(f, mid, b, depth + 1)
}

/// Tanh-sinh on [a, b] with step h = 1, ½, ¼, ...; the abscissae's distances to the ends
/// are formed directly (not as `b − x`), so integrands steep at an end stay accurate.
fn tanh_sinh_levels(f: &dyn Fn(f64) -> f64, a: f64, b: f64) -> (f64, bool) {
    let width = b - a;
    let half = 0.5 * width;
    // Both abscissae at ±τ, weighted.
    let pair = |tau: f64| {
        let u = FRAC_PI_2 * tau.sinh();
        let q = (-2.0 * u).exp();
        let gap = width * q / (1.0 + q);
        let weight = half * FRAC_PI_2 * tau.cosh() * 4.0 * q / ((1.0 + q) * (1.0 + q));
        weight * (f(a + gap) + f(b - gap))
    };
    let mut sum = half * FRAC_PI_2 * f(a + half);
    let mut tau = 1.0;
    while tau <= TAU_MAX {
        sum += pair(tau);
        tau += 1.0;
    }
    let mut step = 1.0;
    let mut estimate = sum;
    for level in 1..=MAX_LEVEL {
        step *= 0.5;
        let mut tau = step;
        while tau <= TAU_MAX {
            sum += pair(tau);
            tau += 2.0 * step;
        }
        let next = step * sum;
        let settled = (next - estimate).abs() <= LEVEL_TOL * next.abs();
        if level >= 3 && settled {
            return (next, true);
        }
        estimate = next;
    }
    (estimate, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(got: f64, want: f64, rtol: f64) -> bool {
        (got - want).abs() <= rtol * want.abs()
    }

    #[test]
    fn central_and_degenerate_cases() {
        assert_eq!(cdf(7.0, 0.0, 1.3), student_t::cdf(7.0, 1.3));
        assert!(close(cdf(5.0, 1.5, 0.0), ndtr(-1.5), 1e-15));
        assert!(close(sf(5.0, 1.5, 0.0), ndtr(1.5), 1e-15));
        assert_eq!(cdf(5.0, 1.0, f64::INFINITY), 1.0);
        assert_eq!(sf(5.0, 1.0, f64::INFINITY), 0.0);
        assert!(cdf(0.0, 1.0, 1.0).is_nan());
        assert!(sf(3.0, f64::NAN, 1.0).is_nan());
        assert!(close(cdf(f64::INFINITY, 1.0, 2.5), ndtr(1.5), 1e-15));
    }

    #[test]
    fn reference_values() {
        // mpmath quadrature of E[Φ(tS − δ)] at 40 digits.
        let cases: [(f64, f64, f64, f64, f64); 5] = [
            (
                10.0,
                1.0,
                2.0,
                0.807_611_562_530_375_3,
                0.192_388_437_469_624_7,
            ),
            (
                3.0,
                -2.0,
                1.5,
                0.998_654_824_954_142_3,
                1.345_175_045_857_695_5e-3,
            ),
            (
                25.0,
                3.0,
                -1.0,
                3.873_586_064_770_672e-5,
                0.999_961_264_139_352_3,
            ),
            (
                1.0,
                0.5,
                4.0,
                0.864_611_071_508_720_4,
                0.135_388_928_491_279_56,
            ),
            (
                0.5,
                1.0,
                2.0,
                0.520_496_351_815_255_3,
                0.479_503_648_184_744_66,
            ),
        ];
        for (df, nc, t, want_cdf, want_sf) in cases {
            assert!(close(cdf(df, nc, t), want_cdf, 1e-12), "cdf {df} {nc} {t}");
            assert!(close(sf(df, nc, t), want_sf, 1e-12), "sf {df} {nc} {t}");
        }
    }

    #[test]
    fn tails_sum_to_one_and_reflect() {
        for df in [0.3, 1.0, 2.5, 9.0, 120.0, 1e5] {
            for nc in [-6.0, -0.7, 0.2, 3.0] {
                for t in [-4.0, -0.5, 0.8, 5.0] {
                    let (lower, upper) = (cdf(df, nc, t), sf(df, nc, t));
                    assert!((lower + upper - 1.0).abs() < 1e-13, "{df} {nc} {t}");
                    // T(δ) and −T(−δ) have the same law.
                    assert!(close(sf(df, -nc, -t), lower, 1e-12), "{df} {nc} {t}");
                }
            }
        }
    }

    #[test]
    fn small_opposite_tail_keeps_relative_accuracy() {
        // P(T > 3) with δ = −8: far below what 1 − CDF could resolve.
        let small = sf(20.0, -8.0, 3.0);
        assert!(close(small, 2.189_854_493_403_756e-24, 1e-12), "{small}");
        // Monotone in t and in δ.
        assert!(sf(20.0, -8.0, 3.5) < small && sf(20.0, -7.5, 3.0) > small);
    }

    #[test]
    fn helpers_are_accurate() {
        // The e-form near 0 agrees with (2h−1) ln s + h(1 − s²) where that is accurate.
        for h in [0.5, 3.0, 40.0] {
            assert_eq!(ln_density(h, 0.0), 0.0);
            for e in [-0.4_f64, 0.3] {
                let direct = (2.0 * h - 1.0) * e.ln_1p() + h * (1.0 - (1.0 + e) * (1.0 + e));
                assert!((ln_density(h, e) - direct).abs() < 1e-13 * direct.abs());
            }
        }
        assert!((ln_ndtr(-35.0) - ndtr(-35.0).ln()).abs() < 1e-12);
        assert!((ln_ndtr(-40.0) - (-804.608_442_013_753_8)).abs() < 1e-10);
        assert!((inverse_mills(-50.0) - 50.019_984_031_905_64).abs() < 1e-9);
    }
}
