//! NumPy's thirteen quantile methods, by selection rather than sorting.
//!
//! Each quantile is read from one or two order statistics exactly as `numpy.quantile`
//! reads it: the same virtual index (`(n-1)q`, or `nq + (α + q(1-α-β)) - 1`, operation for
//! operation), the same clipping at both ends, the same `gamma` (measured from the clipped
//! index, then overwritten by `averaged_inverted_cdf` and `midpoint` as NumPy does) and
//! NumPy's two-sided lerp. Every float64 operation is the one NumPy performs, so results
//! are bit-equal to NumPy's, up to the sign of a zero (NumPy's partition does not order
//! -0.0 and 0.0; we order them as `total_cmp` does).
//!
//! All the order statistics a slice needs come from one pass. A small slice is copied and
//! partitioned at the needed ranks in ascending order, each selection narrowing the range
//! of the next. A large one is first sampled to bracket every needed rank between two
//! values; one parallel sweep counts what lies below each bracket and gathers what lies
//! inside, and only those few percent are partitioned. A bracket that missed its rank (an
//! unlucky sample) falls back to the copy, so the answer never depends on the sample.

use rayon::prelude::*;

use crate::error::{CoreError, CoreResult};

/// The `method=` of `numpy.quantile`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    InvertedCdf,
    AveragedInvertedCdf,
    ClosestObservation,
    InterpolatedInvertedCdf,
    Hazen,
    Weibull,
    Linear,
    MedianUnbiased,
    NormalUnbiased,
    Lower,
    Higher,
    Midpoint,
    Nearest,
}

/// NumPy's names, in NumPy's order.
pub const METHODS: [(&str, Method); 13] = [
    ("inverted_cdf", Method::InvertedCdf),
    ("averaged_inverted_cdf", Method::AveragedInvertedCdf),
    ("closest_observation", Method::ClosestObservation),
    ("interpolated_inverted_cdf", Method::InterpolatedInvertedCdf),
    ("hazen", Method::Hazen),
    ("weibull", Method::Weibull),
    ("linear", Method::Linear),
    ("median_unbiased", Method::MedianUnbiased),
    ("normal_unbiased", Method::NormalUnbiased),
    ("lower", Method::Lower),
    ("higher", Method::Higher),
    ("midpoint", Method::Midpoint),
    ("nearest", Method::Nearest),
];

impl Method {
    pub fn parse(name: &str) -> CoreResult<Method> {
        METHODS
            .iter()
            .find(|(known, _)| *known == name)
            .map(|&(_, method)| method)
            .ok_or_else(|| {
                let names: Vec<String> = METHODS.iter().map(|(n, _)| format!("'{n}'")).collect();
                CoreError::InvalidArgument(format!(
                    "'{name}' is not a valid method. Use one of: {}",
                    names.join(", ")
                ))
            })
    }
}

/// What to do with NaNs, as SciPy's `nan_policy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NanPolicy {
    /// A slice with a NaN gives NaN (`numpy.quantile`).
    Propagate,
    /// NaNs are left out (`numpy.nanquantile`); an all-NaN slice gives NaN.
    Omit,
    /// A NaN is an error.
    Raise,
}

impl NanPolicy {
    pub fn parse(name: &str) -> CoreResult<NanPolicy> {
        match name {
            "propagate" => Ok(NanPolicy::Propagate),
            "omit" => Ok(NanPolicy::Omit),
            "raise" => Ok(NanPolicy::Raise),
            _ => Err(CoreError::InvalidArgument(
                "nan_policy must be one of {'propagate', 'omit', 'raise'}".into(),
            )),
        }
    }
}

/// The statistic computed over each lane.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Reduction<'a> {
    /// `numpy.quantile(lane, qs, method=method)`, one value per q (qs in [0, 1]).
    Quantiles { qs: &'a [f64], method: Method },
    /// `numpy.median(lane)`: the middle value or the mean of the two middle values; an
    /// empty lane gives NaN, as NumPy's does.
    Median,
}

impl Reduction<'_> {
    fn width(&self) -> usize {
        match self {
            Reduction::Quantiles { qs, .. } => qs.len(),
            Reduction::Median => 1,
        }
    }
}

/// Where a result is read from the order statistics (0-based ranks).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Pick {
    Take(usize),
    /// NumPy's `_lerp(arr[prev], arr[next], gamma)`.
    Lerp {
        prev: usize,
        next: usize,
        gamma: f64,
    },
    /// `numpy.mean` of one (lo == hi) or two order statistics.
    Mean {
        lo: usize,
        hi: usize,
    },
}

impl Pick {
    fn ranks(self) -> [usize; 2] {
        match self {
            Pick::Take(k) => [k, k],
            Pick::Lerp { prev, next, .. } => [prev, next],
            Pick::Mean { lo, hi } => [lo, hi],
        }
    }

    fn value(self, at: impl Fn(usize) -> f64) -> f64 {
        match self {
            Pick::Take(k) => at(k),
            Pick::Lerp { prev, next, gamma } => lerp(at(prev), at(next), gamma),
            Pick::Mean { lo, hi } if lo == hi => 0.0 + at(lo),
            Pick::Mean { lo, hi } => (0.0 + (at(lo) + at(hi))) / 2.0,
        }
    }
}

/// NumPy's `_lerp`: from `a` below one half, from `b` above, so both ends are exact.
fn lerp(a: f64, b: f64, t: f64) -> f64 {
    let diff = b - a;
    if t >= 0.5 {
        b - diff * (1.0 - t)
    } else {
        a + diff * t
    }
}

/// NumPy's `_compute_virtual_index`: `n*q + (alpha + q*(1 - alpha - beta)) - 1`.
fn hyndman_fan(n: f64, q: f64, alpha: f64, beta: f64) -> f64 {
    n * q + (alpha + q * (1.0 - alpha - beta)) - 1.0
}

/// A float index (integral or negative) as a rank in `0..=last`.
fn clip(index: f64, last: usize) -> usize {
    (index.max(0.0) as usize).min(last)
}

/// NumPy's `_discrete_interpolation_to_boundaries`: floor or floor + 1, clipped below.
fn discrete(index: f64, last: usize, use_previous: impl Fn(f64, f64) -> bool) -> Pick {
    let previous = index.floor();
    let gamma = index - previous;
    let chosen = if use_previous(gamma, previous) {
        previous
    } else {
        previous + 1.0
    };
    Pick::Take(clip(chosen, last))
}

/// NumPy's `_get_indexes` and `_get_gamma`: neighbours of the virtual index `v`, both set
/// to the last rank (index -1) at or above it and to 0 below 0; `gamma` is `v` minus the
/// *clipped* previous index, then passed through the method's `fix_gamma`.
fn interpolate(v: f64, last: usize, fix_gamma: impl Fn(f64, f64) -> f64) -> Pick {
    let (mut previous, mut next) = (v.floor(), v.floor() + 1.0);
    if v >= last as f64 {
        (previous, next) = (-1.0, -1.0);
    }
    if v < 0.0 {
        (previous, next) = (0.0, 0.0);
    }
    let gamma = fix_gamma(v - previous, v);
    let rank = |i: f64| if i < 0.0 { last } else { clip(i, last) };
    Pick::Lerp {
        prev: rank(previous),
        next: rank(next),
        gamma,
    }
}

fn keep(gamma: f64, _: f64) -> f64 {
    gamma
}

/// How `numpy.quantile(a, q, method=method)` reads the quantile of `n >= 1` values.
fn pick(method: Method, n: usize, q: f64) -> Pick {
    let last = n.saturating_sub(1);
    let (nf, lf) = (n as f64, last as f64);
    match method {
        Method::InvertedCdf => discrete(nf * q - 1.0, last, |gamma, _| gamma == 0.0),
        Method::ClosestObservation => discrete(nf * q - 1.0 - 0.5, last, |gamma, previous| {
            gamma == 0.0 && previous.rem_euclid(2.0) == 1.0
        }),
        Method::Lower => Pick::Take(clip((lf * q).floor(), last)),
        Method::Higher => Pick::Take(clip((lf * q).ceil(), last)),
        Method::Nearest => Pick::Take(clip((lf * q).round_ties_even(), last)),
        Method::AveragedInvertedCdf => {
            interpolate(
                nf * q - 1.0,
                last,
                |gamma, _| {
                    if gamma == 0.0 {
                        0.5
                    } else {
                        1.0
                    }
                },
            )
        }
        Method::InterpolatedInvertedCdf => interpolate(hyndman_fan(nf, q, 0.0, 1.0), last, keep),
        Method::Hazen => interpolate(hyndman_fan(nf, q, 0.5, 0.5), last, keep),
        Method::Weibull => interpolate(hyndman_fan(nf, q, 0.0, 0.0), last, keep),
        Method::Linear => interpolate(lf * q, last, keep),
        Method::MedianUnbiased => interpolate(hyndman_fan(nf, q, 1.0 / 3.0, 1.0 / 3.0), last, keep),
        Method::NormalUnbiased => interpolate(hyndman_fan(nf, q, 3.0 / 8.0, 3.0 / 8.0), last, keep),
        Method::Midpoint => {
            let w = lf * q;
            interpolate(0.5 * (w.floor() + w.ceil()), last, |_, v| {
                if v.rem_euclid(1.0) == 0.0 {
                    0.0
                } else {
                    0.5
                }
            })
        }
    }
}

fn picks(reduction: &Reduction<'_>, n: usize) -> Vec<Pick> {
    match reduction {
        Reduction::Quantiles { qs, method } => qs.iter().map(|&q| pick(*method, n, q)).collect(),
        Reduction::Median => {
            let half = n / 2;
            let lo = if n % 2 == 1 {
                half
            } else {
                half.saturating_sub(1)
            };
            vec![Pick::Mean { lo, hi: half }]
        }
    }
}

/// Partitions `values` so that `values[r]` is the r-th smallest (in `total_cmp` order) for
/// every r of `ranks` (ascending, distinct): each selection runs right of the previous one.
fn select_ranks(values: &mut [f64], ranks: &[usize]) {
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
const BRACKET_MIN: usize = 1 << 16;
/// Sample size for the brackets: a bracket spans ±4.5 standard deviations of its rank's
/// sample estimate, at most about 4.5/sqrt(SAMPLE) of the values (3.5% around the median,
/// less towards the tails); it misses its rank with probability of roughly 1e-5.
const SAMPLE: usize = 1 << 14;
/// At most this many disjoint brackets; more (many scattered q) take the copy instead.
const MAX_BRACKETS: usize = 8;
/// Values per parallel task.
const CHUNK: usize = 1 << 15;

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

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
enum Bracketed {
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
fn by_brackets(lane: &[f64], n_valid: usize, ranks: &[usize]) -> Bracketed {
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

/// The order statistics `ranks` (ascending, distinct, below `n_valid`) of the non-NaN
/// values of `lane`, or `None` if the lane holds NaNs although `nans_counted` is false
/// (large lanes leave the NaN check to the bracket sweep, saving a pass).
fn order_statistics(
    lane: &[f64],
    n_valid: usize,
    nans_counted: bool,
    ranks: &[usize],
    scratch: &mut Vec<f64>,
) -> Option<Vec<f64>> {
    let mut nans_counted = nans_counted;
    if lane.len() >= BRACKET_MIN {
        match by_brackets(lane, n_valid, ranks) {
            Bracketed::Values(values) => return Some(values),
            Bracketed::UncountedNans => return None,
            Bracketed::Missed { swept } => nans_counted |= swept,
        }
    }
    if !nans_counted && count_nans(lane) > 0 {
        return None;
    }
    scratch.clear();
    if n_valid == lane.len() {
        scratch.extend_from_slice(lane);
    } else {
        scratch.extend(lane.iter().copied().filter(|v| !v.is_nan()));
    }
    select_ranks(scratch, ranks);
    Some(
        ranks
            .iter()
            .map(|&r| scratch.get(r).copied().unwrap_or(f64::NAN))
            .collect(),
    )
}

fn count_nans(lane: &[f64]) -> usize {
    let count = |c: &[f64]| c.iter().map(|v| usize::from(v.is_nan())).sum::<usize>();
    if lane.len() >= BRACKET_MIN {
        lane.par_chunks(CHUNK).map(count).sum()
    } else {
        count(lane)
    }
}

/// A lane holds NaNs under `propagate` (NaN results) or `raise` (an error).
fn nan_found(policy: NanPolicy, out: &mut [f64]) -> CoreResult<()> {
    if policy == NanPolicy::Raise {
        return Err(CoreError::InvalidArgument(
            "The input contains nan values".into(),
        ));
    }
    out.fill(f64::NAN);
    Ok(())
}

fn reduce_lane(
    lane: &[f64],
    reduction: &Reduction<'_>,
    policy: NanPolicy,
    scratch: &mut Vec<f64>,
    out: &mut [f64],
) -> CoreResult<()> {
    // Omit needs the count up front; otherwise a large lane's sweep checks for NaNs.
    let nans_counted = policy == NanPolicy::Omit || lane.len() < BRACKET_MIN;
    let nans = if nans_counted { count_nans(lane) } else { 0 };
    if nans > 0 && policy != NanPolicy::Omit {
        return nan_found(policy, out);
    }
    let n = lane.len() - nans;
    if n == 0 {
        if policy == NanPolicy::Omit || *reduction == Reduction::Median {
            out.fill(f64::NAN);
            return Ok(());
        }
        return Err(CoreError::InvalidArgument(
            "cannot compute a quantile of an empty array".into(),
        ));
    }
    let picks = picks(reduction, n);
    let mut ranks: Vec<usize> = picks.iter().flat_map(|p| p.ranks()).collect();
    ranks.sort_unstable();
    ranks.dedup();
    let Some(values) = order_statistics(lane, n, nans_counted, &ranks, scratch) else {
        return nan_found(policy, out);
    };
    let at = |r: usize| {
        ranks
            .binary_search(&r)
            .ok()
            .and_then(|i| values.get(i).copied())
            .unwrap_or(f64::NAN)
    };
    for (slot, p) in out.iter_mut().zip(&picks) {
        *slot = p.value(at);
    }
    Ok(())
}

/// Totals below this run on one thread.
const PARALLEL_MIN: usize = 1 << 15;

/// `reduction` of each of `lanes` consecutive lanes of `lane_len` values in `data`:
/// `out[j * lanes + lane]` for the j-th value (the j-th q) of each lane. Lanes run in
/// parallel when there is enough work; the result does not depend on the thread count.
pub fn reduce_lanes(
    data: &[f64],
    lanes: usize,
    lane_len: usize,
    reduction: Reduction<'_>,
    policy: NanPolicy,
) -> CoreResult<Vec<f64>> {
    if lanes.checked_mul(lane_len) != Some(data.len()) {
        return Err(CoreError::InvalidArgument(format!(
            "{lanes} lanes of {lane_len} values do not match {} values",
            data.len()
        )));
    }
    if let Reduction::Quantiles { qs, .. } = reduction {
        if qs.iter().any(|q| !(0.0..=1.0).contains(q)) {
            return Err(CoreError::InvalidArgument(
                "Quantiles must be in the range [0, 1]".into(),
            ));
        }
    }
    let width = reduction.width();
    if width == 0 || lanes == 0 {
        return Ok(Vec::new());
    }
    let mut by_lane = vec![0.0; lanes * width];
    if lane_len == 0 {
        let mut scratch = Vec::new();
        for out in by_lane.chunks_mut(width) {
            reduce_lane(&[], &reduction, policy, &mut scratch, out)?;
        }
    } else if lanes > 1 && data.len() >= PARALLEL_MIN {
        by_lane
            .par_chunks_mut(width)
            .zip(data.par_chunks(lane_len))
            .try_for_each_init(Vec::new, |scratch, (out, lane)| {
                reduce_lane(lane, &reduction, policy, scratch, out)
            })?;
    } else {
        let mut scratch = Vec::new();
        for (out, lane) in by_lane.chunks_mut(width).zip(data.chunks(lane_len)) {
            reduce_lane(lane, &reduction, policy, &mut scratch, out)?;
        }
    }
    let mut out = vec![0.0; lanes * width];
    for (lane, values) in by_lane.chunks(width).enumerate() {
        for (j, &v) in values.iter().enumerate() {
            if let Some(slot) = out.get_mut(j * lanes + lane) {
                *slot = v;
            }
        }
    }
    Ok(out)
}

/// `numpy.quantile(values, qs, method=method)` (or `nanquantile` with `Omit`).
pub fn quantiles(
    values: &[f64],
    qs: &[f64],
    method: Method,
    policy: NanPolicy,
) -> CoreResult<Vec<f64>> {
    reduce_lanes(
        values,
        1,
        values.len(),
        Reduction::Quantiles { qs, method },
        policy,
    )
}

/// `numpy.median(values)` (or `nanmedian` with `Omit`).
pub fn median(values: &[f64], policy: NanPolicy) -> CoreResult<f64> {
    let out = reduce_lanes(values, 1, values.len(), Reduction::Median, policy)?;
    Ok(out.first().copied().unwrap_or(f64::NAN))
}

#[cfg(test)]
mod tests {
    use super::*;

    const QS: [f64; 6] = [0.0, 0.1, 0.25, 0.5, 0.9, 1.0];
    const X: [f64; 7] = [3.0, 1.0, 4.0, 1.5, 9.0, 2.5, 6.5];

    /// `numpy.quantile(X, QS, method=m)` for each method (NumPy 2.4).
    #[allow(clippy::type_complexity)]
    const NUMPY: [(&str, [f64; 6]); 13] = [
        ("inverted_cdf", [1.0, 1.0, 1.5, 3.0, 9.0, 9.0]),
        ("averaged_inverted_cdf", [1.0, 1.0, 1.5, 3.0, 9.0, 9.0]),
        ("closest_observation", [1.0, 1.0, 1.5, 3.0, 6.5, 9.0]),
        (
            "interpolated_inverted_cdf",
            [1.0, 1.0, 1.375, 2.75, 7.25, 9.0],
        ),
        ("hazen", [1.0, 1.1, 1.75, 3.0, 8.5, 9.0]),
        ("weibull", [1.0, 1.0, 1.5, 3.0, 9.0, 9.0]),
        ("linear", [1.0, 1.3, 2.0, 3.0, 7.500000000000001, 9.0]),
        (
            "median_unbiased",
            [
                1.0,
                1.0333333333333332,
                1.6666666666666665,
                3.0,
                8.833333333333334,
                9.0,
            ],
        ),
        (
            "normal_unbiased",
            [1.0, 1.05, 1.6875, 3.0, 8.749999999999998, 9.0],
        ),
        ("lower", [1.0, 1.0, 1.5, 3.0, 6.5, 9.0]),
        ("higher", [1.0, 1.5, 2.5, 3.0, 9.0, 9.0]),
        ("midpoint", [1.0, 1.25, 2.0, 3.0, 7.75, 9.0]),
        ("nearest", [1.0, 1.5, 2.5, 3.0, 6.5, 9.0]),
    ];

    fn sorted_reference(values: &[f64], qs: &[f64], method: Method) -> Vec<f64> {
        let mut sorted: Vec<f64> = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        qs.iter()
            .map(|&q| pick(method, sorted.len(), q).value(|r| sorted[r]))
            .collect()
    }

    fn bits(values: &[f64]) -> Vec<u64> {
        values.iter().map(|v| v.to_bits()).collect()
    }

    fn noise(n: usize, seed: u64) -> Vec<f64> {
        let mut state = seed;
        (0..n)
            .map(|_| (splitmix64(&mut state) >> 11) as f64 / (1u64 << 53) as f64 - 0.5)
            .collect()
    }

    #[test]
    fn every_method_matches_numpy_bit_for_bit() {
        for (name, expected) in NUMPY {
            let method = Method::parse(name).unwrap();
            let got = quantiles(&X, &QS, method, NanPolicy::Propagate).unwrap();
            let got_bits: Vec<u64> = got.iter().map(|v| v.to_bits()).collect();
            let want_bits: Vec<u64> = expected.iter().map(|v| v.to_bits()).collect();
            assert_eq!(got_bits, want_bits, "{name}");
        }
    }

    #[test]
    fn numpy_lerp_quirks_at_infinities() {
        // NumPy's lerp makes inf - inf, and inf * 0, so these are NaN there too.
        let got = quantiles(
            &[1.0, f64::INFINITY],
            &[0.0, 0.5, 1.0],
            Method::Linear,
            NanPolicy::Propagate,
        )
        .unwrap();
        assert!(got.iter().all(|v| v.is_nan()));
        let got = quantiles(
            &[f64::NEG_INFINITY, 1.0],
            &[0.7, 1.0],
            Method::Linear,
            NanPolicy::Propagate,
        )
        .unwrap();
        assert_eq!(got, vec![f64::NEG_INFINITY, 1.0]);
        let got = quantiles(
            &[1.0, f64::INFINITY],
            &[1.0],
            Method::Lower,
            NanPolicy::Propagate,
        )
        .unwrap();
        assert_eq!(got, vec![f64::INFINITY]);
    }

    #[test]
    fn brackets_agree_with_sorting_for_every_method() {
        let qs = [0.0, 1e-6, 0.01, 0.5, 0.5000001, 0.9, 0.95, 0.99, 1.0];
        let mut values = noise(200_003, 7);
        // Heavy ties and infinities must not confuse the brackets.
        for (i, v) in values.iter_mut().enumerate().step_by(5) {
            *v = (i % 7) as f64 / 10.0;
        }
        values[11] = f64::INFINITY;
        values[12] = f64::NEG_INFINITY;
        for (_, method) in METHODS {
            let mut scratch = Vec::new();
            let ranks = [0, 20_000, 50_000, 100_000, 150_000, 180_000, 200_002];
            let Bracketed::Values(direct) = by_brackets(&values, values.len(), &ranks) else {
                panic!("brackets missed");
            };
            let copied = {
                let mut c = values.clone();
                select_ranks(&mut c, &ranks);
                ranks.iter().map(|&r| c[r]).collect::<Vec<_>>()
            };
            assert_eq!(direct, copied);
            // Too many scattered ranks: no brackets, the copy answers.
            let scattered: Vec<usize> = (0..20).map(|i| i * 10_000).collect();
            let miss = by_brackets(&values, values.len(), &scattered);
            assert!(matches!(miss, Bracketed::Missed { swept: false }));
            let got = quantiles(&values, &qs, method, NanPolicy::Propagate).unwrap();
            assert_eq!(
                bits(&got),
                bits(&sorted_reference(&values, &qs, method)),
                "{method:?}"
            );
            let got = order_statistics(&values, values.len(), false, &ranks, &mut scratch);
            assert_eq!(got, Some(copied));
        }
    }

    #[test]
    fn constant_and_sorted_large_lanes() {
        let constant = vec![2.5; 100_000];
        let got = quantiles(
            &constant,
            &[0.0, 0.3, 1.0],
            Method::Linear,
            NanPolicy::Raise,
        );
        assert_eq!(got.unwrap(), vec![2.5; 3]);
        let sorted: Vec<f64> = (0..100_000).map(f64::from).collect();
        let got = quantiles(&sorted, &[0.25, 0.75], Method::Linear, NanPolicy::Raise);
        assert_eq!(got.unwrap(), vec![24_999.75, 74_999.25]);
    }

    #[test]
    fn nan_policies() {
        let values = [2.0, f64::NAN, 1.0, 4.0];
        let p = quantiles(&values, &[0.5], Method::Linear, NanPolicy::Propagate).unwrap();
        assert!(p[0].is_nan());
        let o = quantiles(&values, &[0.5], Method::Linear, NanPolicy::Omit).unwrap();
        assert_eq!(o, vec![2.0]);
        assert!(quantiles(&values, &[0.5], Method::Linear, NanPolicy::Raise).is_err());
        let all_nan = quantiles(&[f64::NAN; 3], &[0.5], Method::Linear, NanPolicy::Omit);
        assert!(all_nan.unwrap()[0].is_nan());
        let mut big = noise(100_000, 3);
        big[500] = f64::NAN;
        let o = quantiles(&big, &[0.5, 0.99], Method::Hazen, NanPolicy::Omit).unwrap();
        // Large lanes find NaNs in the bracket sweep, or before the copy when they miss.
        for qs in [
            &[0.5, 0.99][..],
            &(0..40).map(|i| f64::from(i) / 40.0).collect::<Vec<_>>(),
        ] {
            let p = quantiles(&big, qs, Method::Linear, NanPolicy::Propagate).unwrap();
            assert!(p.iter().all(|v| v.is_nan()));
            assert!(quantiles(&big, qs, Method::Linear, NanPolicy::Raise).is_err());
        }
        let clean: Vec<f64> = big.iter().copied().filter(|v| !v.is_nan()).collect();
        assert_eq!(o, sorted_reference(&clean, &[0.5, 0.99], Method::Hazen));
    }

    #[test]
    fn errors_and_empty_input() {
        assert!(Method::parse("foo").is_err());
        assert!(NanPolicy::parse("ignore").is_err());
        assert!(quantiles(&X, &[1.5], Method::Linear, NanPolicy::Propagate).is_err());
        assert!(quantiles(&X, &[f64::NAN], Method::Linear, NanPolicy::Propagate).is_err());
        assert!(quantiles(&[], &[0.5], Method::Linear, NanPolicy::Propagate).is_err());
        let omit = quantiles(&[], &[0.5], Method::Linear, NanPolicy::Omit).unwrap();
        assert!(omit[0].is_nan());
        assert!(median(&[], NanPolicy::Propagate).unwrap().is_nan());
        assert!(reduce_lanes(&X, 2, 3, Reduction::Median, NanPolicy::Omit).is_err());
        assert_eq!(
            reduce_lanes(&[], 0, 5, Reduction::Median, NanPolicy::Omit),
            Ok(vec![])
        );
    }

    #[test]
    fn medians_and_lanes() {
        assert_eq!(median(&X, NanPolicy::Propagate), Ok(3.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0], NanPolicy::Propagate), Ok(2.5));
        // Two lanes of three, two qs: out[q * lanes + lane].
        let data = [3.0, 1.0, 2.0, 10.0, 30.0, 20.0];
        let red = Reduction::Quantiles {
            qs: &[0.0, 1.0],
            method: Method::Linear,
        };
        let got = reduce_lanes(&data, 2, 3, red, NanPolicy::Propagate).unwrap();
        assert_eq!(got, vec![1.0, 10.0, 3.0, 30.0]);
        // Many lanes in parallel agree with one at a time.
        let values = noise(64 * 1024, 11);
        let qs = [0.1, 0.5];
        let red = Reduction::Quantiles {
            qs: &qs,
            method: Method::MedianUnbiased,
        };
        let got = reduce_lanes(&values, 64, 1024, red, NanPolicy::Propagate).unwrap();
        for (lane, chunk) in values.chunks(1024).enumerate() {
            let want = sorted_reference(chunk, &qs, Method::MedianUnbiased);
            assert_eq!(got[lane], want[0]);
            assert_eq!(got[64 + lane], want[1]);
        }
    }
}
