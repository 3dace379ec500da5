//! NumPy parity of every method, the bracket path and NaN policies.

use super::pick::pick;
use super::*;
use crate::prng::splitmix::splitmix64;

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
