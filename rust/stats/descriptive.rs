//! Moments as NumPy and SciPy compute them.
//!
//! `moment_sums` returns the sums behind `numpy.mean`/`var` and `scipy.stats.skew`/
//! `kurtosis`/`describe`: Σx, then Σd², Σ(d²)d and Σ(d²)² for d = x - mean, each added in
//! NumPy's pairwise order (blocks of 128 with eight accumulators, halves split at a multiple
//! of eight) without materialising the powers. The caller finishes with the same float64
//! divisions and powers SciPy performs, so results agree with SciPy to the last bit or so
//! (pairwise summation also keeps the rounding error at O(log n) ulps). Large inputs sum
//! their two halves on two threads; the order, and so the result, is unchanged.

use rayon::prelude::*;

use crate::error::{CoreError, CoreResult};

const BLOCK: usize = 128;
/// Halves longer than this are summed on two threads.
const PARALLEL_MIN: usize = 1 << 16;

/// `K` pairwise sums of `f(x)` over `a`, in the order of NumPy's `pairwise_sum`.
fn pairwise<const K: usize, F>(a: &[f64], f: &F) -> [f64; K]
where
    F: Fn(f64) -> [f64; K] + Sync,
{
    let n = a.len();
    if n < 8 {
        let mut res = [0.0; K];
        for &v in a {
            for (r, x) in res.iter_mut().zip(f(v)) {
                *r += x;
            }
        }
        return res;
    }
    if n <= BLOCK {
        let mut acc = [[0.0_f64; 8]; K];
        let whole = n - n % 8;
        let (head, tail) = a.split_at(whole);
        let mut blocks = head.chunks_exact(8);
        if let Some(first) = blocks.next() {
            for (j, &v) in first.iter().enumerate() {
                for (lane, x) in acc.iter_mut().zip(f(v)) {
                    lane[j] = x;
                }
            }
        }
        for block in blocks {
            for (j, &v) in block.iter().enumerate() {
                for (lane, x) in acc.iter_mut().zip(f(v)) {
                    lane[j] += x;
                }
            }
        }
        let mut res =
            acc.map(|r| ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7])));
        for &v in tail {
            for (r, x) in res.iter_mut().zip(f(v)) {
                *r += x;
            }
        }
        return res;
    }
    let mut half = n / 2;
    half -= half % 8;
    let (left, right) = a.split_at(half);
    let (l, r) = if n >= PARALLEL_MIN {
        rayon::join(|| pairwise(left, f), || pairwise(right, f))
    } else {
        (pairwise(left, f), pairwise(right, f))
    };
    let mut out = l;
    for (o, x) in out.iter_mut().zip(r) {
        *o += x;
    }
    out
}

/// The sums behind the moments of `values` (see the module docs). `s2..s4` are the sums of
/// the powers of `x - sum / n`; those beyond `order` are left at 0.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MomentSums {
    pub n: usize,
    pub sum: f64,
    /// NaN if any value is NaN; +inf / -inf for no values.
    pub min: f64,
    pub max: f64,
    pub s2: f64,
    pub s3: f64,
    pub s4: f64,
}

fn extremes(values: &[f64]) -> (f64, f64, bool) {
    let fold = |c: &[f64]| {
        c.iter().fold(
            (f64::INFINITY, f64::NEG_INFINITY, false),
            |(lo, hi, nan), &v| (lo.min(v), hi.max(v), nan || v.is_nan()),
        )
    };
    let join = |a: (f64, f64, bool), b: (f64, f64, bool)| (a.0.min(b.0), a.1.max(b.1), a.2 || b.2);
    if values.len() >= PARALLEL_MIN {
        values
            .par_chunks(PARALLEL_MIN)
            .map(fold)
            .reduce(|| (f64::INFINITY, f64::NEG_INFINITY, false), join)
    } else {
        fold(values)
    }
}

/// Σx, min, max and the central power sums up to `order` (1 to 4), as NumPy/SciPy add them.
pub fn moment_sums(values: &[f64], order: u8) -> CoreResult<MomentSums> {
    if !(1..=4).contains(&order) {
        return Err(CoreError::InvalidArgument(format!(
            "order must be 1, 2, 3 or 4, not {order}"
        )));
    }
    let n = values.len();
    let [sum] = pairwise(values, &|x| [x]);
    let sum = 0.0 + sum;
    let (lo, hi, nan) = extremes(values);
    let (min, max) = if nan { (f64::NAN, f64::NAN) } else { (lo, hi) };
    let mut out = MomentSums {
        n,
        sum,
        min,
        max,
        s2: 0.0,
        s3: 0.0,
        s4: 0.0,
    };
    if order == 1 {
        return Ok(out);
    }
    let mean = sum / n as f64;
    if order == 2 {
        let [s2] = pairwise(values, &|x| {
            let d = x - mean;
            [d * d]
        });
        out.s2 = 0.0 + s2;
    } else {
        let [s2, s3, s4] = pairwise(values, &|x| {
            let d = x - mean;
            let d2 = d * d;
            [d2, d2 * d, d2 * d2]
        });
        (out.s2, out.s3, out.s4) = (0.0 + s2, 0.0 + s3, 0.0 + s4);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prng::splitmix::splitmix64;
    use crate::stats::summation::{mean, pairwise_sum, var};

    fn noise(n: usize, seed: u64) -> Vec<f64> {
        let mut state = seed;
        (0..n)
            .map(|_| (splitmix64(&mut state) >> 11) as f64 / (1u64 << 53) as f64)
            .collect()
    }

    #[test]
    fn sums_follow_numpy_pairwise_order() {
        for n in [0, 1, 7, 8, 9, 127, 128, 129, 1000, 70_001, 200_000] {
            let values: Vec<f64> = noise(n, n as u64).iter().map(|v| v * 1e3 - 400.0).collect();
            let sums = moment_sums(&values, 4).unwrap();
            assert_eq!(sums.sum.to_bits(), pairwise_sum(&values).to_bits(), "{n}");
            if n == 0 {
                continue;
            }
            let m = mean(&values);
            let d2: Vec<f64> = values.iter().map(|x| (x - m) * (x - m)).collect();
            let d3: Vec<f64> = values
                .iter()
                .map(|x| ((x - m) * (x - m)) * (x - m))
                .collect();
            assert_eq!(sums.s2.to_bits(), pairwise_sum(&d2).to_bits(), "{n}");
            assert_eq!(sums.s3.to_bits(), pairwise_sum(&d3).to_bits(), "{n}");
            let mut scratch = Vec::new();
            let v = var(&values, 0.0, &mut scratch);
            assert_eq!((sums.s2 / n as f64).to_bits(), v.to_bits());
        }
    }

    #[test]
    fn extremes_and_nan() {
        let s = moment_sums(&[3.0, -1.0, 2.0], 1).unwrap();
        assert_eq!((s.n, s.sum, s.min, s.max), (3, 4.0, -1.0, 3.0));
        let s = moment_sums(&[3.0, f64::NAN], 2).unwrap();
        assert!(s.min.is_nan() && s.max.is_nan() && s.sum.is_nan() && s.s2.is_nan());
        let s = moment_sums(&[], 4).unwrap();
        assert_eq!((s.n, s.min, s.max), (0, f64::INFINITY, f64::NEG_INFINITY));
        assert!(moment_sums(&[1.0], 5).is_err());
        assert!(moment_sums(&[1.0], 0).is_err());
    }
}
