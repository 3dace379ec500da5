//! Ranking kernels for the rank tests (Mann-Whitney U, Wilcoxon, Kruskal-Wallis).
//!
//! Every kernel sorts once and walks the tie groups of the sorted values. Floats are
//! sorted as order-preserving `u64` keys (plain integer comparisons, far cheaper than
//! `total_cmp` on indices), with -0.0 folded onto +0.0 because NumPy compares them
//! equal. Rank sums are accumulated as exact integers (twice the average rank is always
//! an integer) and the tie term `Σ(t³ - t)` likewise, so both equal SciPy's float sums,
//! which are exact at any size that fits in memory. NaN is not ranked: any NaN in the
//! input makes the numeric outputs NaN (SciPy's `nan_policy="propagate"`); callers that
//! omit NaNs drop them first.

use rayon::prelude::*;

use crate::error::{CoreError, CoreResult};

/// Inputs at least this long are sorted on all threads (the result does not depend on it).
const PARALLEL_MIN: usize = 1 << 15;

/// The order-preserving `u64` image of a non-NaN float; -0.0 and +0.0 map to one key.
#[inline]
pub fn sort_key(v: f64) -> u64 {
    let bits = (v + 0.0).to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    }
}

fn sort_keys(keys: &mut [u64]) {
    if keys.len() >= PARALLEL_MIN {
        keys.par_sort_unstable();
    } else {
        keys.sort_unstable();
    }
}

fn sort_pairs(pairs: &mut [(u64, usize)]) {
    if pairs.len() >= PARALLEL_MIN {
        pairs.par_sort_unstable();
    } else {
        pairs.sort_unstable();
    }
}

/// `t³ - t` for a tie group of `t` equal values, exactly.
#[inline]
fn tie_contribution(t: usize) -> u128 {
    let t = t as u128;
    t * t * t - t
}

/// How tied values share ranks, as in `scipy.stats.rankdata`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RankMethod {
    /// The mean of the ranks the tied values would occupy.
    Average,
    /// The lowest of those ranks.
    Min,
    /// The highest of those ranks.
    Max,
    /// Consecutive ranks for distinct values.
    Dense,
    /// Distinct ranks, ties broken by position (a stable sort).
    Ordinal,
}

impl RankMethod {
    pub fn parse(name: &str) -> CoreResult<RankMethod> {
        Ok(match name {
            "average" => RankMethod::Average,
            "min" => RankMethod::Min,
            "max" => RankMethod::Max,
            "dense" => RankMethod::Dense,
            "ordinal" => RankMethod::Ordinal,
            other => {
                return Err(CoreError::InvalidArgument(format!(
                    "unknown rank method {other:?}; expected 'average', 'min', 'max', \
                     'dense' or 'ordinal'"
                )))
            }
        })
    }
}

/// Ranks (1-based, in input order) and the tie term `Σ(t³ - t)` over tie groups.
#[derive(Clone, Debug, PartialEq)]
pub struct Ranked {
    pub ranks: Vec<f64>,
    pub tie_term: f64,
}

/// Rank `values` by `method`; any NaN makes every rank and the tie term NaN.
pub fn rank(values: &[f64], method: RankMethod) -> Ranked {
    if values.iter().any(|v| v.is_nan()) {
        return Ranked {
            ranks: vec![f64::NAN; values.len()],
            tie_term: f64::NAN,
        };
    }
    // Sorting (key, position) pairs orders ties by position: a stable sort, which the
    // ordinal method needs and the others do not mind.
    let mut pairs: Vec<(u64, usize)> = values
        .iter()
        .enumerate()
        .map(|(i, &v)| (sort_key(v), i))
        .collect();
    sort_pairs(&mut pairs);
    let mut ranks = vec![0.0; values.len()];
    let mut tie_term = 0u128;
    let mut dense = 0usize;
    for (start, end) in tie_groups(&pairs) {
        dense += 1;
        tie_term += tie_contribution(end - start);
        for (offset, &(_, i)) in pairs[start..end].iter().enumerate() {
            let r = match method {
                RankMethod::Average => (start + end + 1) as f64 / 2.0,
                RankMethod::Min => (start + 1) as f64,
                RankMethod::Max => end as f64,
                RankMethod::Dense => dense as f64,
                RankMethod::Ordinal => (start + offset + 1) as f64,
            };
            if let Some(slot) = ranks.get_mut(i) {
                *slot = r;
            }
        }
    }
    Ranked {
        ranks,
        tie_term: tie_term as f64,
    }
}

/// `[start, end)` of each run of equal keys in the sorted `pairs`.
fn tie_groups(pairs: &[(u64, usize)]) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut start = 0;
    std::iter::from_fn(move || {
        let first = pairs.get(start)?.0;
        let len = pairs[start..].iter().take_while(|p| p.0 == first).count();
        let group = (start, start + len);
        start += len;
        Some(group)
    })
}

/// The rank sum of each sample within the pooled data, and the pooled tie term.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupRanks {
    pub rank_sums: Vec<f64>,
    pub tie_term: f64,
}

/// Rank the pooled `samples` (average method) and sum the ranks of each sample, as the
/// Kruskal-Wallis statistic needs; any NaN makes every output NaN.
pub fn group_rank_sums(samples: &[&[f64]]) -> GroupRanks {
    if samples.iter().any(|s| s.iter().any(|v| v.is_nan())) {
        return GroupRanks {
            rank_sums: vec![f64::NAN; samples.len()],
            tie_term: f64::NAN,
        };
    }
    let mut pairs: Vec<(u64, usize)> = samples
        .iter()
        .enumerate()
        .flat_map(|(g, s)| s.iter().map(move |&v| (sort_key(v), g)))
        .collect();
    sort_pairs(&mut pairs);
    let mut doubled = vec![0u128; samples.len()];
    let mut tie_term = 0u128;
    for (start, end) in tie_groups(&pairs) {
        tie_term += tie_contribution(end - start);
        let twice_rank = (start + end + 1) as u128;
        for &(_, g) in &pairs[start..end] {
            if let Some(acc) = doubled.get_mut(g) {
                *acc += twice_rank;
            }
        }
    }
    GroupRanks {
        rank_sums: doubled.iter().map(|&d| d as f64 / 2.0).collect(),
        tie_term: tie_term as f64,
    }
}

/// Sums of the ranks of `|d|` by the sign of `d`, for the Wilcoxon signed-rank test.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SignedRanks {
    /// Σ ranks where d > 0.
    pub plus: f64,
    /// Σ ranks where d < 0.
    pub minus: f64,
    /// Σ ranks where d == 0 (zeros rank lowest: 1..=n_zero, averaged).
    pub zero: f64,
    /// `Σ(t³ - t)` over all tie groups of `|d|`, the zeros' group included.
    pub tie_term: f64,
}

/// Rank `|d|` (average method) and split the rank sum by sign; NaN in, NaN out.
pub fn signed_rank_sums(d: &[f64]) -> SignedRanks {
    if d.iter().any(|v| v.is_nan()) {
        let nan = f64::NAN;
        return SignedRanks {
            plus: nan,
            minus: nan,
            zero: nan,
            tie_term: nan,
        };
    }
    // The sign class rides in the payload: 0 zero, 1 positive, 2 negative.
    let mut pairs: Vec<(u64, usize)> = d
        .iter()
        .map(|&v| {
            let class = if v > 0.0 {
                1
            } else if v < 0.0 {
                2
            } else {
                0
            };
            (sort_key(v.abs()), class)
        })
        .collect();
    sort_pairs(&mut pairs);
    let mut doubled = [0u128; 3];
    let mut tie_term = 0u128;
    for (start, end) in tie_groups(&pairs) {
        tie_term += tie_contribution(end - start);
        let twice_rank = (start + end + 1) as u128;
        for &(_, class) in &pairs[start..end] {
            if let Some(acc) = doubled.get_mut(class) {
                *acc += twice_rank;
            }
        }
    }
    let half = |d: u128| d as f64 / 2.0;
    SignedRanks {
        plus: half(doubled[1]),
        minus: half(doubled[2]),
        zero: half(doubled[0]),
        tie_term: tie_term as f64,
    }
}

/// The rank sum of `x` in the pooled `x ∪ y` and the pooled tie term.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TwoSampleRanks {
    pub rank_sum: f64,
    pub tie_term: f64,
}

/// Mann-Whitney's kernel: sort `x` and `y` apart (concurrently when large), then merge
/// the two sorted runs once, tallying each tie group's size and how many of it are from
/// `x`. No ranks or indices are materialised. NaN in either sample makes both outputs NaN.
pub fn two_sample_rank_sum(x: &[f64], y: &[f64]) -> TwoSampleRanks {
    let (kx, ky) = if x.len() + y.len() >= PARALLEL_MIN / 4 {
        rayon::join(|| sentinel_keys(x), || sentinel_keys(y))
    } else {
        (sentinel_keys(x), sentinel_keys(y))
    };
    let (Some(kx), Some(ky)) = (kx, ky) else {
        return TwoSampleRanks {
            rank_sum: f64::NAN,
            tie_term: f64::NAN,
        };
    };
    merge_ranks(&kx, &ky)
}

/// Sorted keys of `s` followed by `u64::MAX`, above every non-NaN key (+inf's key is
/// `0xFFF0…`), so the merge needs no bounds tests; `None` if `s` holds a NaN.
fn sentinel_keys(s: &[f64]) -> Option<Vec<u64>> {
    let mut k = Vec::with_capacity(s.len() + 1);
    for &v in s {
        if v.is_nan() {
            return None;
        }
        k.push(sort_key(v));
    }
    sort_keys(&mut k);
    k.push(u64::MAX);
    Some(k)
}

/// Merge two sentinel-terminated sorted key runs. Each step takes the smaller head with
/// arithmetic rather than a branch (a merge of random data mispredicts every other
/// branch), and tie groups close where the merged value changes.
fn merge_ranks(kx: &[u64], ky: &[u64]) -> TwoSampleRanks {
    let n = (kx.len() + ky.len()).saturating_sub(2);
    let (mut i, mut j) = (0usize, 0usize);
    let (mut current, mut start, mut from_x) = (u64::MAX, 0usize, 0usize);
    let mut doubled = 0u128;
    let mut tie_term = 0u128;
    let mut close = |start: usize, end: usize, from_x: usize| {
        // Ranks start+1 ..= end share (start + end + 1) / 2.
        doubled += from_x as u128 * (start + end + 1) as u128;
        if end - start > 1 {
            tie_term += tie_contribution(end - start);
        }
    };
    for k in 0..n {
        let (a, b) = (
            kx.get(i).copied().unwrap_or(u64::MAX),
            ky.get(j).copied().unwrap_or(u64::MAX),
        );
        let take_x = a <= b;
        let v = a.min(b);
        i += usize::from(take_x);
        j += usize::from(!take_x);
        if v != current {
            close(start, k, from_x);
            (current, start, from_x) = (v, k, 0);
        }
        from_x += usize::from(take_x);
    }
    close(start, n, from_x);
    TwoSampleRanks {
        rank_sum: doubled as f64 / 2.0,
        tie_term: tie_term as f64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_preserve_order_and_fold_signed_zero() {
        let vals = [
            f64::NEG_INFINITY,
            -1e300,
            -1.0,
            -5e-324,
            0.0,
            5e-324,
            1.0,
            1e300,
            f64::INFINITY,
        ];
        for w in vals.windows(2) {
            assert!(sort_key(w[0]) < sort_key(w[1]), "{w:?}");
        }
        assert_eq!(sort_key(-0.0), sort_key(0.0));
    }

    #[test]
    fn average_ranks_and_ties() {
        let r = rank(&[3.0, 2.0, 1.0, 2.0, 2.0, 2.0, 1.0], RankMethod::Average);
        assert_eq!(r.ranks, vec![7.0, 4.5, 1.5, 4.5, 4.5, 4.5, 1.5]);
        assert_eq!(r.tie_term, (8 - 2 + 64 - 4) as f64);
    }

    #[test]
    fn other_methods_match_scipy() {
        let v = [0.0, 2.0, 3.0, 2.0, -0.0];
        let ranks = |m| rank(&v, m).ranks;
        assert_eq!(ranks(RankMethod::Min), vec![1.0, 3.0, 5.0, 3.0, 1.0]);
        assert_eq!(ranks(RankMethod::Max), vec![2.0, 4.0, 5.0, 4.0, 2.0]);
        assert_eq!(ranks(RankMethod::Dense), vec![1.0, 2.0, 3.0, 2.0, 1.0]);
        assert_eq!(ranks(RankMethod::Ordinal), vec![1.0, 3.0, 5.0, 4.0, 2.0]);
        assert!(RankMethod::parse("nope").is_err());
    }

    #[test]
    fn nan_propagates() {
        assert!(rank(&[1.0, f64::NAN], RankMethod::Average).ranks[0].is_nan());
        assert!(two_sample_rank_sum(&[1.0], &[f64::NAN]).rank_sum.is_nan());
        assert!(signed_rank_sums(&[f64::NAN]).plus.is_nan());
        assert!(group_rank_sums(&[&[1.0], &[f64::NAN]]).tie_term.is_nan());
    }

    #[test]
    fn empty_inputs() {
        assert!(rank(&[], RankMethod::Average).ranks.is_empty());
        let t = two_sample_rank_sum(&[], &[]);
        assert_eq!((t.rank_sum, t.tie_term), (0.0, 0.0));
    }

    /// A deterministic sample with many ties: integers 0..9 scrambled.
    fn sample(n: usize, seed: u64) -> Vec<f64> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s = s.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                ((s >> 33) % 10) as f64 - 4.0
            })
            .collect()
    }

    #[test]
    fn fused_kernels_agree_with_full_ranking() {
        for (nx, ny) in [(1, 1), (3, 7), (50, 20), (3000, 40_000)] {
            let (x, y) = (sample(nx, 1), sample(ny, 2));
            let pooled: Vec<f64> = x.iter().chain(&y).copied().collect();
            let full = rank(&pooled, RankMethod::Average);
            let expected: f64 = full.ranks[..nx].iter().sum();
            let fused = two_sample_rank_sum(&x, &y);
            assert_eq!(fused.rank_sum, expected);
            assert_eq!(fused.tie_term, full.tie_term);
            let groups = group_rank_sums(&[&x, &y]);
            assert_eq!(groups.rank_sums[0], expected);
            assert_eq!(groups.tie_term, full.tie_term);
        }
    }

    #[test]
    fn fused_kernel_handles_infinities_and_signed_zeros() {
        let x = [f64::INFINITY, -0.0, 2.5, f64::NEG_INFINITY];
        let y = [0.0, f64::INFINITY, 1.0];
        let pooled: Vec<f64> = x.iter().chain(&y).copied().collect();
        let full = rank(&pooled, RankMethod::Average);
        let fused = two_sample_rank_sum(&x, &y);
        assert_eq!(fused.rank_sum, full.ranks[..4].iter().sum::<f64>());
        assert_eq!((fused.tie_term, full.tie_term), (12.0, 12.0));
    }

    #[test]
    fn signed_ranks_split_by_sign() {
        let s = signed_rank_sums(&[0.0, -1.0, 2.0, -2.0, 0.0, 3.0]);
        // |d| = 0 0 1 2 2 3 -> ranks 1.5 1.5 3 4.5 4.5 6
        assert_eq!((s.zero, s.minus, s.plus), (3.0, 7.5, 10.5));
        assert_eq!(s.tie_term, 12.0);
    }
}
