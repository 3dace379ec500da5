//! NumPy's pairwise summation, reproduced operation for operation.
//!
//! `numpy.sum` over a contiguous float64 axis adds blocks of up to 128 values with eight
//! running accumulators and splits longer runs in two (at a multiple of eight). Summing
//! in exactly that order makes our means bit-identical to NumPy's (and so to SciPy's
//! statistics built on them), which matters wherever a result is compared, counted or
//! ranked against another, as the BCa bootstrap does.

const BLOCK: usize = 128;

/// `numpy.add.reduce` of a contiguous slice (an empty slice sums to 0).
pub fn pairwise_sum(values: &[f64]) -> f64 {
    0.0 + pairwise(values)
}

fn pairwise(a: &[f64]) -> f64 {
    let n = a.len();
    if n < 8 {
        return a.iter().fold(0.0, |acc, &v| acc + v);
    }
    if n <= BLOCK {
        let mut r = [0.0_f64; 8];
        r.copy_from_slice(&a[..8]);
        let whole = n - n % 8;
        for block in a[8..whole].chunks_exact(8) {
            for (acc, &v) in r.iter_mut().zip(block) {
                *acc += v;
            }
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for &v in &a[whole..] {
            res += v;
        }
        return res;
    }
    let mut half = n / 2;
    half -= half % 8;
    pairwise(&a[..half]) + pairwise(&a[half..])
}

/// `numpy.mean` of a contiguous slice.
pub fn mean(values: &[f64]) -> f64 {
    pairwise_sum(values) / values.len() as f64
}

/// `numpy.var(values, ddof=ddof)`: mean, squared deviations, pairwise sum, divide.
pub fn var(values: &[f64], ddof: f64, scratch: &mut Vec<f64>) -> f64 {
    let m = mean(values);
    scratch.clear();
    scratch.extend(values.iter().map(|&v| {
        let d = v - m;
        d * d
    }));
    pairwise_sum(scratch) / (values.len() as f64 - ddof).max(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_and_blocked_orders() {
        assert_eq!(pairwise_sum(&[]), 0.0);
        assert_eq!(pairwise_sum(&[1.0, 2.0, 3.0]), 6.0);
        // 1e16 + 1 - 1e16 loses the 1 in a left-to-right sum; eight accumulators keep it
        // in a separate lane, as NumPy does.
        let mut v = vec![0.0; 16];
        v[0] = 1e16;
        v[1] = 1.0;
        v[8] = -1e16;
        assert_eq!(pairwise_sum(&v), 1.0);
    }

    #[test]
    fn long_runs_split_at_multiples_of_eight() {
        let v: Vec<f64> = (0..1000).map(|i| f64::from(i) * 0.1).collect();
        let expected = pairwise(&v[..496]) + pairwise(&v[496..]);
        assert_eq!(pairwise_sum(&v), expected);
        assert!((mean(&v) - 49.95).abs() < 1e-12);
        let mut scratch = Vec::new();
        assert!((var(&[1.0, 2.0, 3.0, 4.0], 1.0, &mut scratch) - 5.0 / 3.0).abs() < 1e-15);
    }
}
