//! Where NumPy reads each quantile from: the order statistics and the interpolation.

use super::{Method, Reduction};

/// Where a result is read from the order statistics (0-based ranks).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Pick {
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
    pub(super) fn ranks(self) -> [usize; 2] {
        match self {
            Pick::Take(k) => [k, k],
            Pick::Lerp { prev, next, .. } => [prev, next],
            Pick::Mean { lo, hi } => [lo, hi],
        }
    }

    pub(super) fn value(self, at: impl Fn(usize) -> f64) -> f64 {
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
pub(super) fn pick(method: Method, n: usize, q: f64) -> Pick {
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

pub(super) fn picks(reduction: &Reduction<'_>, n: usize) -> Vec<Pick> {
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
