//! Bindings for the ranking kernels and the exact null distributions of the rank tests.
//!
//! Arrays are borrowed without copying when contiguous; every kernel runs off the GIL.

use std::borrow::Cow;

use numpy::{PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;

use super::errors::to_py;
use crate::stats::rank::{self, RankMethod};
use crate::stats::{mann_whitney, signed_rank};

fn borrow<'a>(arr: &'a PyReadonlyArray1<'_, f64>) -> Cow<'a, [f64]> {
    match arr.as_slice() {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => Cow::Owned(arr.as_array().iter().copied().collect()),
    }
}

/// Ranks of `values` by `method` (1-based, input order) and the tie term Σ(t³ - t).
#[pyfunction]
fn rank_values<'py>(
    py: Python<'py>,
    values: PyReadonlyArray1<'py, f64>,
    method: &str,
) -> PyResult<(Bound<'py, PyArray1<f64>>, f64)> {
    let method = RankMethod::parse(method).map_err(to_py)?;
    let data = borrow(&values);
    let ranked = py.detach(|| rank::rank(&data, method));
    Ok((PyArray1::from_vec(py, ranked.ranks), ranked.tie_term))
}

/// Rank sum of `x` in the pooled sample and the pooled tie term (NaN if any NaN).
#[pyfunction]
fn mann_whitney_rank_sum(
    py: Python<'_>,
    x: PyReadonlyArray1<'_, f64>,
    y: PyReadonlyArray1<'_, f64>,
) -> (f64, f64) {
    let (x, y) = (borrow(&x), borrow(&y));
    let r = py.detach(|| rank::two_sample_rank_sum(&x, &y));
    (r.rank_sum, r.tie_term)
}

/// Rank sum of each sample in the pooled data and the pooled tie term.
#[pyfunction]
fn group_rank_sums<'py>(
    py: Python<'py>,
    samples: Vec<PyReadonlyArray1<'py, f64>>,
) -> (Bound<'py, PyArray1<f64>>, f64) {
    let owned: Vec<Cow<'_, [f64]>> = samples.iter().map(borrow).collect();
    let views: Vec<&[f64]> = owned.iter().map(|c| c.as_ref()).collect();
    let r = py.detach(|| rank::group_rank_sums(&views));
    (PyArray1::from_vec(py, r.rank_sums), r.tie_term)
}

/// Rank sums of |d| where d > 0, d < 0 and d == 0, and the tie term of |d|.
#[pyfunction]
fn signed_rank_sums(py: Python<'_>, d: PyReadonlyArray1<'_, f64>) -> (f64, f64, f64, f64) {
    let d = borrow(&d);
    let s = py.detach(|| rank::signed_rank_sums(&d));
    (s.plus, s.minus, s.zero, s.tie_term)
}

/// P(U ≥ k) under the null for samples of sizes `n1` and `n2`, exactly.
#[pyfunction]
fn mann_whitney_exact_sf(py: Python<'_>, n1: u64, n2: u64, k: i64) -> PyResult<f64> {
    py.detach(|| mann_whitney::sf(n1, n2, k)).map_err(to_py)
}

/// (P(T⁺ ≤ cdf_at), P(T⁺ ≥ sf_at)) of the signed-rank statistic for `n` ranks.
#[pyfunction]
fn signed_rank_exact_tails(
    py: Python<'_>,
    n: u64,
    cdf_at: i64,
    sf_at: i64,
) -> PyResult<(f64, f64)> {
    py.detach(|| signed_rank::tails(n, cdf_at, sf_at))
        .map_err(to_py)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(rank_values, m)?)?;
    m.add_function(wrap_pyfunction!(mann_whitney_rank_sum, m)?)?;
    m.add_function(wrap_pyfunction!(group_rank_sums, m)?)?;
    m.add_function(wrap_pyfunction!(signed_rank_sums, m)?)?;
    m.add_function(wrap_pyfunction!(mann_whitney_exact_sf, m)?)?;
    m.add_function(wrap_pyfunction!(signed_rank_exact_tails, m)?)?;
    Ok(())
}
