//! Fused bootstrap: draw NumPy's resample indices and reduce each resample on the fly.
//!
//! `scipy.stats.bootstrap` draws `rng.integers(0, n, (n_resamples, n))` and applies the
//! statistic to the gathered matrix. We draw the very same stream (Lemire on 32-bit
//! halves of PCG64 words) without ever holding the matrix: a first parallel pass finds the
//! rare rejected draws, which fixes where every resample's indices start; a second
//! parallel pass regenerates each block of resamples from its start, gathers into a small
//! scratch buffer and reduces. The answer is identical whatever the thread count, and the
//! generator is left exactly where NumPy's `integers` would leave it.

use rayon::prelude::*;

use super::index_stream::{state_after, Accept, HalfStream, Lemire};
use super::quantile::{quantiles, Method, NanPolicy};
use super::summation::{mean, pairwise_sum, var};
use crate::error::{CoreError, CoreResult};
use crate::prng::pcg64::Pcg64;
use crate::prng::BitSource;

/// Per-sample statistics the kernel computes, each as NumPy/SciPy compute it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Reduce {
    Mean,
    Median,
    Var {
        ddof: f64,
    },
    Std {
        ddof: f64,
    },
    /// `scipy.stats.trim_mean`: cut `int(proportion * n)` values from each end.
    TrimMean {
        proportion: f64,
    },
    /// `numpy.quantile(values, q)` (linear method).
    Quantile {
        q: f64,
    },
}

impl Reduce {
    /// The statistic of `values`, which may be reordered.
    pub fn apply(self, values: &mut [f64], scratch: &mut Vec<f64>) -> f64 {
        match self {
            Reduce::Mean => mean(values),
            Reduce::Median => median(values),
            Reduce::Var { ddof } => var(values, ddof, scratch),
            Reduce::Std { ddof } => var(values, ddof, scratch).sqrt(),
            Reduce::TrimMean { proportion } => trim_mean(values, proportion),
            Reduce::Quantile { q } => quantiles(values, &[q], Method::Linear, NanPolicy::Propagate)
                .ok()
                .and_then(|v| v.first().copied())
                .unwrap_or(f64::NAN),
        }
    }
}

/// `numpy.median`: NaN if any value is NaN, else the middle value or the mean of two.
fn median(values: &mut [f64]) -> f64 {
    let n = values.len();
    if n == 0 || values.iter().any(|v| v.is_nan()) {
        return f64::NAN;
    }
    let k = n / 2;
    let (lower, middle, _) = values.select_nth_unstable_by(k, f64::total_cmp);
    let upper = *middle;
    if n % 2 == 1 {
        return upper;
    }
    let below = lower.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (0.0 + below + upper) / 2.0
}

fn trim_mean(values: &mut [f64], proportion: f64) -> f64 {
    let n = values.len();
    let cut = (proportion * n as f64) as usize;
    if 2 * cut >= n {
        return f64::NAN;
    }
    if cut > 0 {
        values.select_nth_unstable_by(cut, f64::total_cmp);
        values[cut..].select_nth_unstable_by(n - 2 * cut - 1, f64::total_cmp);
    }
    pairwise_sum(&values[cut..n - cut]) / (n - 2 * cut) as f64
}

/// Resamples per parallel task: about 2**16 draws each.
const TASK_DRAWS: usize = 1 << 16;

/// The half-word position of the `accepted`-th accepted draw, given every rejected
/// position before it.
fn position_of(accepted: u64, rejected: &[u64]) -> u64 {
    // rejected[i] - i is how many were accepted before rejection i; it never decreases.
    let (mut lo, mut hi) = (0, rejected.len());
    while lo < hi {
        let mid = (lo + hi) / 2;
        if rejected[mid] - mid as u64 <= accepted {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    accepted + lo as u64
}

struct Plan<'a, A> {
    base: Pcg64,
    first: &'a [u32],
    samples: &'a [&'a [f64]],
    n: usize,
    how: Reduce,
    accept: A,
}

/// One task's statistics and the halves it rejected along the way.
struct Block {
    stats: Vec<f64>,
    rejected: u64,
}

impl<A: Accept> Plan<'_, A> {
    /// Accepted draws before resample `r` that come from the main stream.
    fn skip(&self, r: usize) -> u64 {
        (r * self.n).saturating_sub(self.first.len()) as u64
    }

    /// Statistics of resamples `r0..r1`, whose indices start at half-word `start`.
    fn block(&self, r0: usize, r1: usize, start: u64) -> Block {
        let n = self.n;
        let mut stream = HalfStream::at(&self.base, start);
        let mut from_first = (r0 * n).min(self.first.len());
        let mut indices = vec![0_u32; n];
        let mut gathered = vec![0.0; n];
        let mut scratch = Vec::with_capacity(n);
        let mut stats = Vec::with_capacity((r1 - r0) * self.samples.len());
        let mut rejected = 0;
        for _ in r0..r1 {
            let buffered = (self.first.len() - from_first).min(n);
            indices[..buffered].copy_from_slice(&self.first[from_first..from_first + buffered]);
            from_first += buffered;
            rejected += stream.take(self.accept, &mut indices[buffered..]);
            for sample in self.samples {
                for (g, &i) in gathered.iter_mut().zip(&indices) {
                    *g = sample.get(i as usize).copied().unwrap_or(f64::NAN);
                }
                stats.push(self.how.apply(&mut gathered, &mut scratch));
            }
        }
        Block { stats, rejected }
    }
}

/// Resamples `n_resamples` times with NumPy's `integers(0, n, (n_resamples, n))` stream,
/// applying each resample's indices to every sample (one sample, or paired samples), and
/// returns `how` of each: `out[s * n_resamples + r]`.
pub fn resample_reduce(
    rng: &mut Pcg64,
    samples: &[&[f64]],
    n_resamples: usize,
    how: Reduce,
) -> CoreResult<Vec<f64>> {
    let n = samples.first().map_or(0, |s| s.len());
    if n < 2 {
        return Err(CoreError::InvalidArgument(
            "each sample must contain two or more observations".into(),
        ));
    }
    if samples.iter().any(|s| s.len() != n) {
        return Err(CoreError::InvalidArgument(
            "paired samples must have the same length".into(),
        ));
    }
    let below = u32::try_from(n)
        .ok()
        .filter(|&b| b < u32::MAX)
        .ok_or_else(|| CoreError::InvalidArgument("samples are too long to resample".into()))?;
    n_resamples
        .checked_mul(n)
        .ok_or_else(|| CoreError::InvalidArgument("n_resamples * n overflows".into()))?;
    Ok(resample_with(
        rng,
        samples,
        n_resamples,
        how,
        Lemire::below(below),
    ))
}

/// [`resample_reduce`] for any accept rule (tests force frequent rejections with one).
///
/// Each task starts where it would if nothing before it were rejected, and reports the
/// rejections it met. Rejections are rare, so usually every start was right; the tasks
/// after a rejection are run again from their true start. Should that not settle in one
/// round (frequent rejections), all rejections are located first and every task run
/// from its exact start.
fn resample_with<A: Accept>(
    rng: &mut Pcg64,
    samples: &[&[f64]],
    n_resamples: usize,
    how: Reduce,
    accept: A,
) -> Vec<f64> {
    let n = samples.first().map_or(0, |s| s.len());
    let total = n_resamples * n;
    // A buffered half-word from an earlier 32-bit draw is used first, as NumPy does.
    let mut first: Vec<u32> = Vec::new();
    while rng.has_uint32 && first.len() < total {
        if let Some(index) = accept.accept(rng.next_u32()) {
            first.push(index);
        }
    }
    let base = *rng;
    let need = (total - first.len()) as u64;
    let plan = Plan {
        base,
        first: &first,
        samples,
        n,
        how,
        accept,
    };
    let per_task = (TASK_DRAWS / n).max(1);
    let tasks: Vec<(usize, usize)> = (0..n_resamples)
        .step_by(per_task)
        .map(|r0| (r0, (r0 + per_task).min(n_resamples)))
        .collect();
    let mut starts: Vec<u64> = tasks.iter().map(|&(r0, _)| plan.skip(r0)).collect();
    let mut blocks: Vec<Block> = tasks
        .par_iter()
        .zip(&starts)
        .map(|(&(r0, r1), &start)| plan.block(r0, r1, start))
        .collect();
    for round in 0..2 {
        let mut shift = 0;
        let mut wrong = Vec::new();
        for (k, &(r0, _)) in tasks.iter().enumerate() {
            let truth = plan.skip(r0) + shift;
            if truth != starts[k] {
                starts[k] = truth;
                wrong.push(k);
            }
            shift += blocks[k].rejected;
        }
        if wrong.is_empty() {
            break;
        }
        if round == 1 {
            let rejected = HalfStream::at(&base, 0).rejections_before(accept, need);
            for (k, &(r0, _)) in tasks.iter().enumerate() {
                // Right after the previous task's last accepted draw, so that the
                // rejections in between are counted (by this task) as in the fast path.
                starts[k] = match plan.skip(r0) {
                    0 => 0,
                    before => position_of(before - 1, &rejected) + 1,
                };
            }
            wrong = (0..tasks.len()).collect();
        }
        let redone: Vec<(usize, Block)> = wrong
            .par_iter()
            .map(|&k| (k, plan.block(tasks[k].0, tasks[k].1, starts[k])))
            .collect();
        for (k, block) in redone {
            blocks[k] = block;
        }
    }
    let span = need + blocks.iter().map(|b| b.rejected).sum::<u64>();

    let mut out = vec![0.0; samples.len() * n_resamples];
    for (&(r0, _), block) in tasks.iter().zip(&blocks) {
        for (k, &value) in block.stats.iter().enumerate() {
            let (r, s) = (r0 + k / samples.len(), k % samples.len());
            out[s * n_resamples + r] = value;
        }
    }
    *rng = state_after(&base, span);
    out
}

/// Leave-one-out statistics (SciPy's jackknife order), the same index left out of every
/// sample: `out[s * n + i]`.
pub fn jackknife_reduce(samples: &[&[f64]], how: Reduce) -> CoreResult<Vec<f64>> {
    let n = samples.first().map_or(0, |s| s.len());
    if n < 2 || samples.iter().any(|s| s.len() != n) {
        return Err(CoreError::InvalidArgument(
            "jackknife needs samples of equal length, two or more observations".into(),
        ));
    }
    let per_left_out: Vec<Vec<f64>> = (0..n)
        .into_par_iter()
        .map_init(
            || (Vec::with_capacity(n - 1), Vec::with_capacity(n)),
            |(kept, scratch), left_out| {
                samples
                    .iter()
                    .map(|sample| {
                        kept.clear();
                        kept.extend_from_slice(&sample[..left_out]);
                        kept.extend_from_slice(&sample[left_out + 1..]);
                        how.apply(kept, scratch)
                    })
                    .collect()
            },
        )
        .collect();
    let mut out = vec![0.0; samples.len() * n];
    for (i, stats) in per_left_out.into_iter().enumerate() {
        for (s, value) in stats.into_iter().enumerate() {
            out[s * n + i] = value;
        }
    }
    Ok(out)
}

/// `how` of one whole sample, computed exactly as inside the resampling.
pub fn reduce(sample: &[f64], how: Reduce) -> f64 {
    let mut values = sample.to_vec();
    how.apply(&mut values, &mut Vec::new())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prng::bounded::fill;

    fn seeded() -> Pcg64 {
        Pcg64::from_seed_words([5, 6, 7, 8])
    }

    #[test]
    fn resampling_draws_numpy_integers_stream() {
        let sample: Vec<f64> = (0..37).map(|i| f64::from(i) * 1.5).collect();
        for pre in [false, true] {
            let mut a = seeded();
            if pre {
                a.next_u32();
            }
            let mut b = a;
            let got = resample_reduce(&mut a, &[&sample], 501, Reduce::Mean).unwrap();
            let mut idx = vec![0_u64; 501 * 37];
            fill(&mut b, 0, 36, &mut idx);
            for (r, row) in idx.chunks(37).enumerate() {
                let values: Vec<f64> = row.iter().map(|&i| sample[i as usize]).collect();
                assert_eq!(got[r], mean(&values));
            }
            assert_eq!(a, b);
        }
    }

    #[test]
    fn rejected_draws_shift_later_resamples() {
        // Reject one half-word in seven, so every task but the first starts too early and
        // must be run again from its true start.
        let n = 50_usize;
        let sample: Vec<f64> = (0..n).map(|i| i as f64).collect();
        #[derive(Clone, Copy)]
        struct EverySeventh;
        impl Accept for EverySeventh {
            fn accept(self, h: u32) -> Option<u32> {
                (h % 7 != 0).then_some(h % 50)
            }
        }
        let accept = EverySeventh;
        for pre in [false, true] {
            let mut a = seeded();
            if pre {
                a.next_u32();
            }
            let mut b = a;
            let resamples = 3 * TASK_DRAWS / n + 7;
            let got = resample_with(&mut a, &[&sample], resamples, Reduce::Mean, accept);
            for (r, &stat) in got.iter().enumerate() {
                let values: Vec<f64> = (0..n)
                    .map(|_| loop {
                        if let Some(i) = accept.accept(b.next_u32()) {
                            break sample[i as usize];
                        }
                    })
                    .collect();
                assert_eq!(stat, mean(&values), "resample {r}");
            }
            assert_eq!(a, b);
        }
    }

    #[test]
    fn positions_count_earlier_rejections() {
        // Rejections at half-words 3 and 4: accepted #3 sits at 5, #2 at 2.
        assert_eq!(position_of(2, &[3, 4]), 2);
        assert_eq!(position_of(3, &[3, 4]), 5);
        assert_eq!(position_of(10, &[3, 4]), 12);
        assert_eq!(position_of(0, &[0]), 1);
    }

    #[test]
    fn reductions_match_definitions() {
        let mut s = Vec::new();
        assert_eq!(
            Reduce::Median.apply(&mut [3.0, 1.0, 2.0, 10.0], &mut s),
            2.5
        );
        assert_eq!(Reduce::Median.apply(&mut [3.0, 1.0, 2.0], &mut s), 2.0);
        assert!(Reduce::Median.apply(&mut [3.0, f64::NAN], &mut s).is_nan());
        let v = [1.0, 2.0, 3.0, 4.0, 100.0];
        assert_eq!(reduce(&v, Reduce::TrimMean { proportion: 0.2 }), 3.0);
        assert_eq!(reduce(&v, Reduce::Quantile { q: 0.25 }), 2.0);
        assert_eq!(reduce(&v, Reduce::Quantile { q: 0.875 }), 52.0);
        assert!((reduce(&v, Reduce::Std { ddof: 1.0 }) - 43.617_656_975_128_5).abs() < 1e-12);
        let jk = jackknife_reduce(&[&v], Reduce::Mean).unwrap();
        assert_eq!(jk, vec![27.25, 27.0, 26.75, 26.5, 2.5]);
    }
}
