//! Snedecor's F distribution (survival function), for ANOVA p-values.
//!
//! P(F > f) = I_x(d₂/2, d₁/2) with x = d₂ / (d₂ + d₁ f), evaluated through
//! [`ibeta_at_ratio`] with q = d₁ f / d₂ so that neither tail cancels.

use super::beta::ibeta_at_ratio;

/// P(F > f) for `dfn` and `dfd` degrees of freedom (NaN for invalid arguments).
pub fn sf(dfn: f64, dfd: f64, f: f64) -> f64 {
    if dfn.is_nan() || dfd.is_nan() || f.is_nan() || dfn <= 0.0 || dfd <= 0.0 {
        return f64::NAN;
    }
    if f <= 0.0 {
        return 1.0;
    }
    ibeta_at_ratio(0.5 * dfd, 0.5 * dfn, dfn * f / dfd).0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_forms() {
        // d₁ = 2: P(F > f) = (1 + 2f/d₂)^(-d₂/2).
        for (dfd, f) in [(4.0_f64, 1.5_f64), (10.0, 0.2), (30.0, 7.0)] {
            let exact: f64 = (1.0 + 2.0 * f / dfd).powf(-dfd / 2.0);
            assert!((sf(2.0, dfd, f) / exact - 1.0).abs() < 1e-14, "{dfd} {f}");
        }
        assert_eq!(sf(3.0, 4.0, 0.0), 1.0);
        assert!(sf(0.0, 4.0, 1.0).is_nan());
    }

    #[test]
    fn tails_are_complementary_at_huge_df() {
        // P(F(a,b) > f) + P(F(b,a) > 1/f) = 1 (f chosen so 1/f is exact); the front
        // factor must not lose a·ε.
        for (a, b, f) in [
            (69_556.0, 537_867.0, 1.0),
            (2e6, 3e5, 1.0),
            (40.0, 9e6, 0.5),
            (1e3, 1e3, 2.0),
        ] {
            let total = sf(a, b, f) + sf(b, a, 1.0 / f);
            assert!((total - 1.0).abs() < 1e-14, "{a} {b} {f}: {total}");
        }
    }
}
