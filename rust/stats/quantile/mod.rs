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

mod bracket;
mod pick;
#[cfg(test)]
mod tests;

use rayon::prelude::*;

use crate::error::{CoreError, CoreResult};
use bracket::{by_brackets, select_ranks, Bracketed, BRACKET_MIN, CHUNK};
use pick::picks;

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
