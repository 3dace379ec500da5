//! The exact null distribution of the Mann-Whitney U statistic, in exact integers.
//!
//! For samples of sizes m ≤ n, the number of orderings with U = u is the coefficient of
//! q^u in the Gaussian binomial [m+n choose m]_q = Π_{i=1..m} (1 - q^{n+i}) / (1 - q^i).
//! We build it factor by factor, dividing by (1 - q^i) (a strided prefix sum) and then
//! multiplying by (1 - q^{n+i}) (a strided difference), truncated at the highest degree
//! the p-value needs. The counts outgrow any machine word (C(600, 300) has 596 bits), so
//! they are fixed-width multi-word integers with wrapping arithmetic: every count after
//! a whole factor is below 2^(64·limbs), so intermediate wrap-arounds cancel exactly.
//! SciPy runs Löffler's recurrence in floats instead; the two agree to its rounding.

use crate::error::{CoreError, CoreResult};

/// Refuse tables above this many 64-bit words (1 GiB) instead of aborting on allocation.
const MAX_WORDS: usize = 1 << 27;

/// Words needed for values up to `C(n + i, i)`: from log2 of the binomial, with margin.
fn limbs_for(log2_binomial: f64) -> usize {
    (log2_binomial / 64.0).floor() as usize + 2
}

fn add_assign(dst: &mut [u64], src: &[u64]) {
    let mut carry = false;
    for (d, &s) in dst.iter_mut().zip(src) {
        let (a, c1) = d.overflowing_add(s);
        let (b, c2) = a.overflowing_add(u64::from(carry));
        *d = b;
        carry = c1 | c2;
    }
}

fn sub_assign(dst: &mut [u64], src: &[u64]) {
    let mut borrow = false;
    for (d, &s) in dst.iter_mut().zip(src) {
        let (a, b1) = d.overflowing_sub(s);
        let (b, b2) = a.overflowing_sub(u64::from(borrow));
        *d = b;
        borrow = b1 | b2;
    }
}

/// Counts of U = 0..=kmax for sizes m ≤ n, `width` words each, flat.
fn counts(m: usize, n: usize, kmax: usize, width: usize) -> Vec<u64> {
    let mut c = vec![0u64; (kmax + 1) * width];
    if let Some(first) = c.first_mut() {
        *first = 1;
    }
    let mut log2_binomial = 0.0_f64;
    for i in 1..=m {
        log2_binomial += ((n + i) as f64 / i as f64).log2();
        let w = limbs_for(log2_binomial).min(width);
        // Divide by (1 - q^i): c[u] += c[u - i], ascending.
        for u in i..=kmax {
            let (lo, hi) = c.split_at_mut(u * width);
            add_assign(&mut hi[..w], &lo[(u - i) * width..(u - i) * width + w]);
        }
        // Multiply by (1 - q^(n+i)): c[u] -= c[u - n - i], descending.
        let shift = n + i;
        for u in (shift..=kmax).rev() {
            let (lo, hi) = c.split_at_mut(u * width);
            sub_assign(
                &mut hi[..w],
                &lo[(u - shift) * width..(u - shift) * width + w],
            );
        }
    }
    c
}

/// `C(m + n, m)` as `width` words: multiply by n+i, then divide exactly by i.
fn binomial(m: usize, n: usize, width: usize) -> Vec<u64> {
    let mut b = vec![0u64; width];
    if let Some(first) = b.first_mut() {
        *first = 1;
    }
    for i in 1..=m {
        let mut carry = 0u128;
        for w in b.iter_mut() {
            let v = u128::from(*w) * (n + i) as u128 + carry;
            *w = v as u64;
            carry = v >> 64;
        }
        let mut rem = 0u128;
        for w in b.iter_mut().rev() {
            let v = (rem << 64) | u128::from(*w);
            *w = (v / i as u128) as u64;
            rem = v % i as u128;
        }
    }
    b
}

/// `num / den` for multi-word integers with `num ≤ den`, from their top 192 bits.
fn ratio(num: &[u64], den: &[u64]) -> f64 {
    let top = den.iter().rposition(|&w| w != 0).unwrap_or(0);
    let scaled = |v: &[u64]| -> f64 {
        (0..3)
            .filter_map(|k| top.checked_sub(k).map(|j| (k, j)))
            .map(|(k, j)| v.get(j).copied().unwrap_or(0) as f64 * 2f64.powi(-64 * k as i32))
            .sum()
    };
    scaled(num) / scaled(den)
}

/// P(U ≥ k) under the null for samples of sizes `n1` and `n2` (SciPy's `_MWU.sf`),
/// computed from whichever tail lies below the mean so only half the table is built.
pub fn sf(n1: u64, n2: u64, k: i64) -> CoreResult<f64> {
    let (m, n) = (n1.min(n2), n1.max(n2));
    let (Ok(m), Ok(n)) = (usize::try_from(m), usize::try_from(n)) else {
        return Err(too_large());
    };
    let top = (m as i128) * (n as i128);
    let k = i128::from(k);
    if k <= 0 {
        return Ok(1.0);
    }
    if k > top {
        return Ok(0.0);
    }
    // P(U ≥ k) = 1 - P(U ≤ k - 1), or by symmetry P(U ≤ mn - k).
    let (upper, complement) = if k <= top - k {
        (k - 1, true)
    } else {
        (top - k, false)
    };
    let kmax = usize::try_from(upper).map_err(|_| too_large())?;
    let log2_total: f64 = (1..=m).map(|i| ((n + i) as f64 / i as f64).log2()).sum();
    let width = limbs_for(log2_total);
    if (kmax + 1).saturating_mul(width) > MAX_WORDS {
        return Err(too_large());
    }
    let table = counts(m, n, kmax, width);
    let mut cumulative = vec![0u64; width];
    for row in table.chunks_exact(width) {
        add_assign(&mut cumulative, row);
    }
    let total = binomial(m, n, width);
    if complement {
        let mut rest = total.clone();
        sub_assign(&mut rest, &cumulative);
        Ok(ratio(&rest, &total))
    } else {
        Ok(ratio(&cumulative, &total))
    }
}

fn too_large() -> CoreError {
    CoreError::InvalidArgument(
        "the exact distribution of U for samples this large needs more than 1 GiB; \
         use method='asymptotic'"
            .into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counts by brute force over all subsets of positions for the smaller sample.
    fn brute_sf(m: usize, n: usize, k: i64) -> f64 {
        let total = m + n;
        let (mut hits, mut all) = (0u64, 0u64);
        for mask in 0u32..(1 << total) {
            if mask.count_ones() as usize != m {
                continue;
            }
            // U = pairs (x, y) with x after y in sorted order.
            let mut u = 0i64;
            let mut ys = 0i64;
            for pos in 0..total {
                if mask >> pos & 1 == 1 {
                    u += ys;
                } else {
                    ys += 1;
                }
            }
            all += 1;
            hits += u64::from(u >= k);
        }
        hits as f64 / all as f64
    }

    #[test]
    fn matches_brute_force() {
        for (m, n) in [(1, 1), (2, 5), (3, 4), (4, 4), (5, 7), (1, 12)] {
            for k in -1..=(m * n + 1) as i64 {
                let got = sf(m as u64, n as u64, k).unwrap();
                let want = brute_sf(m, n, k);
                assert!(
                    (got - want).abs() <= 1e-15 * want.max(1e-300),
                    "{m} {n} {k}"
                );
                assert_eq!(got, sf(n as u64, m as u64, k).unwrap());
            }
        }
    }

    #[test]
    fn known_values() {
        // SciPy: mannwhitneyu(males, females, method="exact") -> p = 0.1111 (two-sided).
        assert!((2.0 * sf(5, 4, 17).unwrap() - 0.111_111_111_111_111_1).abs() < 1e-16);
        // Sizes whose counts need several words stay exact: symmetric halves sum to one.
        let (m, n) = (60u64, 61u64);
        let half = (m * n / 2) as i64;
        let total = sf(m, n, half + 1).unwrap() + sf(m, n, half + 1).unwrap();
        let centre = sf(m, n, half).unwrap() - sf(m, n, half + 1).unwrap();
        assert!((total + centre - 1.0).abs() < 1e-15);
    }

    #[test]
    fn binomial_is_exact() {
        let b = binomial(30, 30, 2);
        assert_eq!(b, vec![118_264_581_564_861_424, 0]);
        let wide = binomial(300, 300, limbs_for(600.0));
        assert!(wide.iter().filter(|&&w| w != 0).count() >= 9);
    }

    #[test]
    fn refuses_huge_tables() {
        assert!(sf(100_000, 100_000, 5_000_000_000).is_err());
    }
}
