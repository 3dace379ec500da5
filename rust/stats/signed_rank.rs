//! The exact null distribution of the Wilcoxon signed-rank statistic T⁺.
//!
//! Under the null each rank 1..=n is positive with probability ½ independently, so
//! P(T⁺ = u) for n ranks follows p_k(u) = ½ p_{k-1}(u) + ½ p_{k-1}(u - k). We run this
//! recurrence in place, in the same floating-point operations as SciPy's
//! `_get_wilcoxon_distr`, and sum tails with NumPy's pairwise order over the same slices
//! as `WilcoxonDistribution`, so even SciPy's `1 - (sum near 1)` tails, which lose
//! digits, come out bit for bit the same.

use super::summation::pairwise_sum;
use crate::error::{CoreError, CoreResult};

/// Refuse tables above 2^27 probabilities (1 GiB) instead of aborting on allocation.
const MAX_LEN: usize = 1 << 27;

/// P(T⁺ = u) for u = 0..=n(n+1)/2.
pub fn pmf(n: u64) -> CoreResult<Vec<f64>> {
    let too_large = || {
        CoreError::InvalidArgument(
            "the exact signed-rank distribution for this many observations needs more than \
             1 GiB; use method='approx'"
                .into(),
        )
    };
    let n = usize::try_from(n).map_err(|_| too_large())?;
    let top = n
        .checked_mul(n + 1)
        .map(|v| v / 2)
        .filter(|&t| t < MAX_LEN)
        .ok_or_else(too_large)?;
    let mut p = vec![0.0; top + 1];
    if let Some(first) = p.first_mut() {
        *first = 1.0;
    }
    let mut len = 1; // support of p_{k-1} is 0..len
    for k in 1..=n {
        let new_len = len + k;
        for u in (0..new_len).rev() {
            let stay = if u < len { p[u] * 0.5 } else { 0.0 };
            p[u] = if u >= k { stay + p[u - k] * 0.5 } else { stay };
        }
        len = new_len;
    }
    Ok(p)
}

/// `(P(T⁺ ≤ cdf_at), P(T⁺ ≥ sf_at))` for `n` ranks, computed as SciPy's
/// `WilcoxonDistribution.cdf` and `.sf` do (direct sums below the mean, complements above).
pub fn tails(n: u64, cdf_at: i64, sf_at: i64) -> CoreResult<(f64, f64)> {
    let p = pmf(n)?;
    let mean = n as f64 * (n as f64 + 1.0) / 4.0;
    // p[..end] and p[start..] with SciPy's slice semantics for in-range indices.
    let head = |end: i64| pairwise_sum(p.get(..clamp(end, p.len())).unwrap_or(&[]));
    let tail = |start: i64| pairwise_sum(p.get(clamp(start, p.len())..).unwrap_or(&[]));
    let cdf = if cdf_at as f64 <= mean {
        head(cdf_at + 1)
    } else {
        1.0 - tail(cdf_at + 1)
    };
    let sf = if sf_at as f64 <= mean {
        tail(sf_at)
    } else {
        1.0 - head(sf_at)
    };
    Ok((cdf, sf))
}

fn clamp(i: i64, len: usize) -> usize {
    usize::try_from(i.max(0)).map_or(len, |i| i.min(len))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brute_pmf(n: usize) -> Vec<f64> {
        let top = n * (n + 1) / 2;
        let mut counts = vec![0u64; top + 1];
        for mask in 0u32..(1 << n) {
            let t: usize = (0..n).filter(|i| mask >> i & 1 == 1).map(|i| i + 1).sum();
            counts[t] += 1;
        }
        counts
            .iter()
            .map(|&c| c as f64 / f64::from(1u32 << n))
            .collect()
    }

    #[test]
    fn matches_enumeration() {
        for n in 0..=12 {
            assert_eq!(pmf(n as u64).unwrap(), brute_pmf(n), "n = {n}");
        }
    }

    #[test]
    fn tails_known_values() {
        // n = 10: P(T⁺ ≤ 8) = 25/1024; both tails at the extremes.
        let (cdf, sf) = tails(10, 8, 47).unwrap();
        assert_eq!(cdf, 25.0 / 1024.0);
        assert_eq!(sf, 25.0 / 1024.0);
        assert_eq!(tails(10, 55, 0).unwrap(), (1.0, 1.0));
        assert_eq!(tails(0, 0, 0).unwrap(), (1.0, 1.0));
    }

    #[test]
    fn refuses_huge_tables() {
        assert!(pmf(1 << 20).is_err());
    }
}
