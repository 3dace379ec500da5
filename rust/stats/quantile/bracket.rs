//! Selection of a few order statistics, and for large lanes the sample brackets that let
//! one parallel sweep narrow the selection to a few percent of the values.

use rayon::prelude::*;

use crate::prng::splitmix::splitmix64;

/// Partitions `values` so that `values[r]` is the r-th smallest (in `total_cmp` order) for
/// every r of `ranks` (ascending, distinct): each selection runs right of the previous one.
pub(super) fn select_ranks(values: &mut [f64], ranks: &[usize]) {
    let mut from = 0;
    for &r in ranks {
        if r < from {
            continue;
        }
        let Some(rest) = values.get_mut(from..) else {
            return;
        };
        if r - from < rest.len() {
            rest.select_nth_unstable_by(r - from, f64::total_cmp);
        }
        from = r + 1;
    }
}

/// Lanes at least this long are bracketed from a sample instead of copied whole.
pub(super) const BRACKET_MIN: usize = 1 << 16;
/// Sample size for the brackets: a bracket spans ±4.5 standard deviations of its rank's
/// sample estimate, at most about 4.5/sqrt(SAMPLE) of the values (3.5% around the median,
/// less towards the tails); it misses its rank with probability of roughly 1e-5.
const SAMPLE: usize = 1 << 14;
/// At most this many disjoint brackets; more (many scattered q) take the copy instead.
const MAX_BRACKETS: usize = 8;
/// Values per parallel task.
pub(super) const CHUNK: usize = 1 << 15;

/// A value range `[lo, hi]` expected to hold the ranks `ranks[first..end]`.
struct Bracket {
    lo: f64,
    hi: f64,
    first: usize,
    end: usize,
}

/// Brackets for `ranks` from a random sample of `lane` (seeded by the length, so the same
/// lane always gets the same brackets), disjoint and ascending.
fn brackets(lane: &[f64], n_valid: usize, ranks: &[usize]) -> Option<Vec<Bracket>> {
    let mut state = 0x2545_F491_4F6C_DD1D ^ lane.len() as u64;
    let len = lane.len() as u128;
    let mut sample: Vec<f64> = (0..SAMPLE)
        .filter_map(|_| {
            let i = ((u128::from(splitmix64(&mut state)) * len) >> 64) as usize;
            lane.get(i).copied().filter(|v| !v.is_nan())
        })
        .collect();
    if sample.len() < SAMPLE / 2 {
        return None;
    }
    let s = sample.len() as f64;
    // Sample ranks about 4.5 standard deviations either side of where each rank should
    // fall; beyond the sample the bracket is open.
    let spans: Vec<(f64, f64)> = ranks
        .iter()
        .map(|&r| {
            let f = (r as f64 + 0.5) / n_valid as f64;
            let margin = 4.5 * (s * f * (1.0 - f)).sqrt() + 8.0;
            ((f * s - margin).floor(), (f * s + margin).ceil())
        })
        .collect();
    let mut wanted: Vec<usize> = spans
        .iter()
        .flat_map(|&(lo, hi)| [lo, hi])
        .filter(|&i| i >= 0.0 && i < s)
        .map(|i| i as usize)
        .collect();
    wanted.sort_unstable();
    wanted.dedup();
    select_ranks(&mut sample, &wanted);
    let at = |i: f64, beyond: f64| {
        if i < 0.0 || i >= s {
            beyond
        } else {
            sample.get(i as usize).copied().unwrap_or(beyond)
        }
    };
    let mut out: Vec<Bracket> = Vec::new();
    for (i, &(lo_i, hi_i)) in spans.iter().enumerate() {
        let (lo, hi) = (at(lo_i, f64::NEG_INFINITY), at(hi_i, f64::INFINITY));
        match out.last_mut() {
            // Overlapping or touching brackets merge (sample values are never NaN).
            Some(last) if last.hi >= lo => {
                last.hi = last.hi.max(hi);
                last.end = i + 1;
            }
            _ => out.push(Bracket {
                lo,
                hi,
                first: i,
                end: i + 1,
            }),
        }
    }
    let everything = |b: &Bracket| b.lo == f64::NEG_INFINITY && b.hi == f64::INFINITY;
    if out.len() > MAX_BRACKETS || out.iter().any(everything) {
        return None;
    }
    Some(out)
}

/// What one sweep over a chunk found.
struct Swept<const B: usize> {
    /// Values `>= lo[j]` and `> hi[j]`, for each bracket.
    past_lo: [u64; B],
    past_hi: [u64; B],
    nans: u64,
    /// The values inside any bracket, in chunk order.
    inside: Vec<f64>,
}

/// One sweep over `chunk`, branch-free: the counters stay in registers and every value is
/// stored into `slots` (at least `chunk.len() + 1` long), the slot kept only when the
/// value is inside a bracket. Unused brackets are NaN, which nothing passes; NaN values
/// pass nothing, so they are never kept (and are counted apart).
fn sweep<const B: usize>(
    chunk: &[f64],
    lo: &[f64; B],
    hi: &[f64; B],
    slots: &mut [f64],
) -> Swept<B> {
    let (mut past_lo, mut past_hi, mut nans) = ([0_u64; B], [0_u64; B], 0_u64);
    let mut pos = 0;
    for &v in chunk {
        let mut gap = 0_u64;
        for j in 0..B {
            let a = u64::from(v >= lo[j]);
            let b = u64::from(v > hi[j]);
            past_lo[j] += a;
            past_hi[j] += b;
            gap += a + b;
        }
        nans += u64::from(v.is_nan());
        if let Some(slot) = slots.get_mut(pos) {
            *slot = v;
        }
        pos += (gap & 1) as usize;
    }
    let inside = slots.get(..pos).map_or_else(Vec::new, <[f64]>::to_vec);
    Swept {
        past_lo,
        past_hi,
        nans,
        inside,
    }
}

/// The sweep of the whole lane, chunks in parallel, combined in chunk order.
fn sweep_all<const B: usize>(lane: &[f64], brackets: &[Bracket]) -> Swept<B> {
    let (mut lo, mut hi) = ([f64::NAN; B], [f64::NAN; B]);
    for ((l, h), b) in lo.iter_mut().zip(hi.iter_mut()).zip(brackets) {
        (*l, *h) = (b.lo, b.hi);
    }
    let parts: Vec<Swept<B>> = lane
        .par_chunks(CHUNK)
        .map_init(
            || vec![0.0; CHUNK + 1],
            |slots, chunk| sweep(chunk, &lo, &hi, slots),
        )
        .collect();
    let mut total = Swept {
        past_lo: [0; B],
        past_hi: [0; B],
        nans: 0,
        inside: Vec::with_capacity(parts.iter().map(|p| p.inside.len()).sum()),
    };
    for part in parts {
        for (t, x) in total.past_lo.iter_mut().zip(part.past_lo) {
            *t += x;
        }
        for (t, x) in total.past_hi.iter_mut().zip(part.past_hi) {
            *t += x;
        }
        total.nans += part.nans;
        total.inside.extend(part.inside);
    }
    total
}

/// The outcome of bracketing.
pub(super) enum Bracketed {
    Values(Vec<f64>),
    /// The lane holds NaNs the caller did not count.
    UncountedNans,
    /// No usable brackets, or one missed its ranks; `swept` if the NaNs were counted.
    Missed {
        swept: bool,
    },
}

fn select_inside<const B: usize>(
    lane: &[f64],
    n_valid: usize,
    ranks: &[usize],
    brackets: &[Bracket],
) -> Bracketed {
    let Swept {
        past_lo,
        past_hi,
        nans,
        mut inside,
    } = sweep_all::<B>(lane, brackets);
    if nans != (lane.len() - n_valid) as u64 {
        return Bracketed::UncountedNans;
    }
    let missed = Bracketed::Missed { swept: true };
    let n = n_valid as u64;
    let mut local = Vec::with_capacity(ranks.len());
    let mut inside_below = 0_u64;
    for ((bracket, &above_lo), &above_hi) in brackets.iter().zip(&past_lo).zip(&past_hi) {
        let (Some(start), Some(end)) = (n.checked_sub(above_lo), n.checked_sub(above_hi)) else {
            return missed;
        };
        let Some(wanted) = ranks.get(bracket.first..bracket.end) else {
            return missed;
        };
        for &r in wanted {
            let r = r as u64;
            if r < start || r >= end {
                return missed;
            }
            local.push((r - (start - inside_below)) as usize);
        }
        inside_below += end - start;
    }
    select_ranks(&mut inside, &local);
    Bracketed::Values(
        local
            .iter()
            .map(|&r| inside.get(r).copied().unwrap_or(f64::NAN))
            .collect(),
    )
}

/// The order statistics `ranks` (ascending, distinct, below `n_valid`) of the non-NaN
/// values of a large lane, via brackets.
///
/// The brackets are disjoint value ranges in ascending order, so the values inside them,
/// taken together, sort as the brackets' contents one after another: rank r of the lane,
/// in bracket j, is rank r - (values outside and below bracket j) of the inside values.
pub(super) fn by_brackets(lane: &[f64], n_valid: usize, ranks: &[usize]) -> Bracketed {
    let Some(brackets) = brackets(lane, n_valid, ranks) else {
        return Bracketed::Missed { swept: false };
    };
    match brackets.len() {
        1 => select_inside::<1>(lane, n_valid, ranks, &brackets),
        2 => select_inside::<2>(lane, n_valid, ranks, &brackets),
        3 | 4 => select_inside::<4>(lane, n_valid, ranks, &brackets),
        _ => select_inside::<MAX_BRACKETS>(lane, n_valid, ranks, &brackets),
    }
}
