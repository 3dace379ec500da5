//! The hypergeometric distribution and Fisher's exact test for 2×2 tables.
//!
//! The probability mass is formed as Loader (2000) forms binomial probabilities, so that
//! it stays accurate to a few ulp for counts in the millions, where
//! `ln C(n₁,k) + ln C(n₂,n-k) - ln C(N,n)` from log-gamma values would leave
//! `N·ε` of absolute error in the exponent:
//!
//! `pmf(k) = b(k; n₁, p) · b(n - k; n₂, p) / b(n; N, p)` with p = n/N, where each binomial
//! probability is `√(m / (2π x (m-x))) · exp(δ(m) - δ(x) - δ(m-x) - D(x, mp) - D(m-x, mq))`,
//! δ is Stirling's remainder and `D(x, M) = x ln(x/M) + M - x = x·r((M-x)/x)` with
//! r(e) = e - ln(1+e). Here `M - x = (m·n - x·N)/N` is taken from exact integer arithmetic,
//! so nothing cancels and p's rounding never enters.
//!
//! Fisher's p-values follow `scipy.stats.fisher_exact` step for step (the mode, the
//! relative tolerance 1e-14 for "as or less probable", the binary search for the far
//! side), so that ties are decided the same way.

use super::beta::{log1p_remainder, stirling_remainder};
use crate::error::{CoreError, CoreResult};

/// Stirling's remainder `ln n! - (n + ½) ln n + n - ln √(2π)` for n = 1..=9 (mpmath).
const SMALL_REMAINDER: [f64; 9] = [
    0.081_061_466_795_327_26,
    0.041_340_695_955_409_3,
    0.027_677_925_684_998_34,
    0.020_790_672_103_765_093,
    0.016_644_691_189_821_193,
    0.013_876_128_823_070_748,
    0.011_896_709_945_891_77,
    0.010_411_265_261_972_096,
    0.009_255_462_182_712_733,
];

/// Stirling's remainder of n! for n ≥ 1.
fn remainder(n: u64) -> f64 {
    match n {
        1..=9 => SMALL_REMAINDER[(n - 1) as usize],
        _ => stirling_remainder(n as f64),
    }
}

/// `D(x, M) = x ln(x/M) + M - x` for M = m·hits/total, x ≥ 1, as `x·r(e)` with
/// e = (M - x)/x = (m·hits - x·total)/(x·total), whose numerator is exact.
fn deviance(x: u64, m: u64, hits: u64, total: u64) -> f64 {
    let mean_part = u128::from(m) * u128::from(hits);
    let x_part = u128::from(x) * u128::from(total);
    let excess = (mean_part as i128 - x_part as i128) as f64;
    let e = excess / x_part as f64;
    if e >= -0.5 {
        return x as f64 * log1p_remainder(e);
    }
    // Near e = -1, 1 + e = M/x would cancel: take it from the exact products instead.
    x as f64 * (e - (mean_part as f64 / x_part as f64).ln())
}

/// A binomial probability `b(x; m, p)` with p = draws/total, as `exp(log) · √scale²`.
#[derive(Clone, Copy)]
struct Part {
    log: f64,
    scale2: f64,
}

fn binomial_part(x: u64, m: u64, draws: u64, total: u64) -> Part {
    let big = total as f64;
    if x == 0 || x == m {
        // q^m or p^m; ln q = ln(1 - n/N) through ln_1p while n/N is small.
        let (hits, misses) = if x == 0 {
            (total - draws, draws)
        } else {
            (draws, total - draws)
        };
        let ln_share = if 2 * misses < total {
            (-(misses as f64) / big).ln_1p()
        } else {
            (hits as f64 / big).ln()
        };
        let log = if m == 0 { 0.0 } else { m as f64 * ln_share };
        return Part { log, scale2: 1.0 };
    }
    let rest = m - x;
    let dev_hits = deviance(x, m, draws, total);
    let dev_misses = deviance(rest, m, total - draws, total);
    let (xf, rf) = (x as f64, rest as f64);
    Part {
        log: remainder(m) - remainder(x) - remainder(rest) - dev_hits - dev_misses,
        scale2: m as f64 / (std::f64::consts::TAU * xf * rf),
    }
}

/// The number of marked items among `draws` taken without replacement from `total`
/// items of which `good` are marked.
#[derive(Clone, Copy, Debug)]
pub struct Hypergeom {
    total: u64,
    good: u64,
    draws: u64,
}

impl Hypergeom {
    pub fn new(total: u64, good: u64, draws: u64) -> CoreResult<Self> {
        if good > total || draws > total {
            return Err(CoreError::InvalidArgument(
                "hypergeometric: `good` and `draws` must not exceed `total`".into(),
            ));
        }
        Ok(Hypergeom { total, good, draws })
    }

    /// The smallest and largest possible counts.
    pub fn support(&self) -> (i64, i64) {
        let low = self.draws.saturating_sub(self.total - self.good);
        (low as i64, self.good.min(self.draws) as i64)
    }

    /// The most probable count, `⌊(n+1)(K+1)/(N+2)⌋`.
    pub fn mode(&self) -> i64 {
        (u128::from(self.draws + 1) * u128::from(self.good + 1) / u128::from(self.total + 2)) as i64
    }

    /// P(X = k).
    pub fn pmf(&self, k: i64) -> f64 {
        let (low, high) = self.support();
        if k < low || k > high {
            return 0.0;
        }
        let k = k as u64;
        let (n, big) = (self.draws, self.total);
        let first = binomial_part(k, self.good, n, big);
        let second = binomial_part(n - k, big - self.good, n, big);
        let whole = binomial_part(n, big, n, big);
        let scale = (first.scale2 * second.scale2 / whole.scale2).sqrt();
        (first.log + second.log - whole.log).exp() * scale
    }

    /// P(X ≤ k), summed from k down until the terms no longer count.
    pub fn cdf(&self, k: i64) -> f64 {
        let (low, high) = self.support();
        if k < low {
            return 0.0;
        }
        if k >= high {
            return 1.0;
        }
        let mode = self.mode();
        let mut sum = Neumaier::default();
        for j in (low..=k).rev() {
            let term = self.pmf(j);
            sum.add(term);
            if j <= mode && term <= 1e-17 * sum.value() {
                break;
            }
        }
        sum.value().min(1.0)
    }

    /// P(X > k), summed from k + 1 up until the terms no longer count.
    pub fn sf(&self, k: i64) -> f64 {
        let (low, high) = self.support();
        if k < low {
            return 1.0;
        }
        if k >= high {
            return 0.0;
        }
        let mode = self.mode();
        let mut sum = Neumaier::default();
        for j in (k + 1)..=high {
            let term = self.pmf(j);
            sum.add(term);
            if j >= mode && term <= 1e-17 * sum.value() {
                break;
            }
        }
        sum.value().min(1.0)
    }
}

/// Compensated summation (Neumaier), so long tails add up to the last bit.
#[derive(Default)]
struct Neumaier {
    sum: f64,
    carry: f64,
}

impl Neumaier {
    fn add(&mut self, v: f64) {
        let t = self.sum + v;
        if self.sum.abs() >= v.abs() {
            self.carry += (self.sum - t) + v;
        } else {
            self.carry += (v - t) + self.sum;
        }
        self.sum = t;
    }

    fn value(&self) -> f64 {
        self.sum + self.carry
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Alternative {
    TwoSided,
    Less,
    Greater,
}

/// SciPy's search: the i in [lo, hi] with f(i) ≤ target < f(i+1), for f increasing there.
fn binary_search(f: impl Fn(i64) -> f64, target: f64, mut lo: i64, mut hi: i64) -> i64 {
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let value = f(mid);
        if value < target {
            lo = mid + 1;
        } else if value > target {
            hi = mid - 1;
        } else {
            return mid;
        }
    }
    if f(lo) <= target {
        lo
    } else {
        lo - 1
    }
}

/// The p-value of Fisher's exact test for `[[a, b], [c, d]]` (1 for an empty row or
/// column, as SciPy).
pub fn fisher_exact_pvalue(table: [[u64; 2]; 2], alternative: Alternative) -> CoreResult<f64> {
    let [[a, b], [c, d]] = table;
    let overflow = || CoreError::InvalidArgument("table counts are too large".into());
    let n1 = a.checked_add(b).ok_or_else(overflow)?;
    let n2 = c.checked_add(d).ok_or_else(overflow)?;
    let total = n1.checked_add(n2).ok_or_else(overflow)?;
    if total >= 1 << 62 {
        return Err(overflow());
    }
    if n1 == 0 || n2 == 0 || a + c == 0 || b + d == 0 {
        return Ok(1.0);
    }
    let n = a + c;
    let dist = Hypergeom::new(total, n1, n)?;
    let a = a as i64;
    let p = match alternative {
        Alternative::Less => dist.cdf(a),
        Alternative::Greater => Hypergeom::new(total, n1, b + d)?.cdf(b as i64),
        Alternative::TwoSided => {
            // SciPy forms the mode in floating point: int((n+1)(n1+1)/(N+2)).
            let ratio = (u128::from(n + 1) * u128::from(n1 + 1)) as f64 / (total + 2) as f64;
            let mode = ratio as i64;
            let p_exact = dist.pmf(a);
            let p_mode = dist.pmf(mode);
            let gamma = 1.0 + 1e-14;
            let n = n as i64;
            if (p_exact - p_mode).abs() / p_exact.max(p_mode) <= 1e-14 {
                return Ok(1.0);
            }
            if a < mode {
                let lower = dist.cdf(a);
                if dist.pmf(n) > p_exact * gamma {
                    return Ok(lower);
                }
                let guess = binary_search(|x| -dist.pmf(x), -p_exact * gamma, mode, n);
                lower + dist.sf(guess)
            } else {
                let upper = dist.sf(a - 1);
                if dist.pmf(0) > p_exact * gamma {
                    return Ok(upper);
                }
                let guess = binary_search(|x| dist.pmf(x), p_exact * gamma, 0, mode);
                upper + dist.cdf(guess)
            }
        }
    };
    Ok(p.min(1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// C(n, k) as f64 for small n.
    fn choose(n: u64, k: u64) -> f64 {
        (0..k).fold(1.0, |acc, i| acc * (n - i) as f64 / (i + 1) as f64)
    }

    #[test]
    fn pmf_matches_binomial_coefficients() {
        let dist = Hypergeom::new(30, 12, 9).unwrap();
        let mut total = 0.0;
        for k in 0..=9 {
            let want = choose(12, k) * choose(18, 9 - k) / choose(30, 9);
            let got = dist.pmf(k as i64);
            assert!((got - want).abs() <= 4e-15 * want, "{k}: {got} vs {want}");
            total += got;
        }
        assert!((total - 1.0).abs() < 1e-14);
        assert_eq!(dist.pmf(-1), 0.0);
        assert_eq!(dist.pmf(10), 0.0);
    }

    #[test]
    fn cdf_and_sf_are_complementary() {
        let dist = Hypergeom::new(2_000_000, 700_000, 1_000_000).unwrap();
        for k in [349_000, 349_500, 350_000, 350_700, 351_500] {
            let both = dist.cdf(k) + dist.sf(k);
            assert!((both - 1.0).abs() < 1e-14, "{k}: {both}");
        }
    }

    #[test]
    fn scipy_documentation_examples() {
        // scipy.stats.fisher_exact docs: [[6, 2], [1, 4]].
        let t = [[6, 2], [1, 4]];
        let two = fisher_exact_pvalue(t, Alternative::TwoSided).unwrap();
        assert!((two - 0.102_564_102_564_102_57).abs() < 1e-16);
        let greater = fisher_exact_pvalue(t, Alternative::Greater).unwrap();
        assert!((greater - 0.086_247_086_247_086_27).abs() < 2e-16);
        // SciPy prints 0.9953379953379957; the exact value is 1708/1716.
        let less = fisher_exact_pvalue(t, Alternative::Less).unwrap();
        assert!((less - 1708.0 / 1716.0).abs() < 2e-16, "{less}");
        let p = fisher_exact_pvalue([[8, 2], [1, 5]], Alternative::TwoSided).unwrap();
        assert!((p - 0.034_965_034_965_034_975).abs() < 1e-16);
        assert_eq!(
            fisher_exact_pvalue([[0, 0], [3, 4]], Alternative::Less),
            Ok(1.0)
        );
    }

    #[test]
    fn symmetric_tables_are_ties() {
        // Rows of equal size: pmf(k) = pmf(n - k) exactly, and both sides count.
        let p = fisher_exact_pvalue([[3, 7], [7, 3]], Alternative::TwoSided).unwrap();
        let dist = Hypergeom::new(20, 10, 10).unwrap();
        let want = 2.0 * dist.cdf(3);
        assert!((p - want).abs() < 1e-16, "{p} {want}");
    }
}
