//! Bindings for the permutation-test kernels.

use numpy::{PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;

use super::errors::{invalid, to_py};
use super::prng::Pcg64Core;
use crate::stats::bootstrap::Reduce;
use crate::stats::permutation::{independent_null, permutation_rows};

/// `rows` consecutive `permutation(n)` draws from `core` (the caller holds its lock),
/// flattened row-major.
#[pyfunction]
fn permutation_rows_draw<'py>(
    py: Python<'py>,
    core: &Pcg64Core,
    rows: usize,
    n: usize,
) -> PyResult<Bound<'py, PyArray1<i64>>> {
    let rng = core.rng();
    let out = py
        .detach(|| permutation_rows(rng, rows, n))
        .map_err(to_py)?;
    Ok(PyArray1::from_vec(py, out))
}

/// Null distribution of `name(first) − name(second)` (`name` is "mean" or "median")
/// over `n_resamples` reassignments of `pooled`, drawn from `core` (lock held by caller).
#[pyfunction]
fn permutation_independent_null<'py>(
    py: Python<'py>,
    core: &Pcg64Core,
    pooled: PyReadonlyArray1<'py, f64>,
    n_first: usize,
    n_resamples: usize,
    name: &str,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let how = match name {
        "mean" => Reduce::Mean,
        "median" => Reduce::Median,
        other => return Err(invalid(format!("unknown built-in reduction {other:?}"))),
    };
    let view = pooled
        .as_slice()
        .map_err(|_| invalid("data must be contiguous"))?;
    let rng = core.rng();
    let out = py
        .detach(|| independent_null(rng, view, n_first, n_resamples, how))
        .map_err(to_py)?;
    Ok(PyArray1::from_vec(py, out))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(permutation_rows_draw, m)?)?;
    m.add_function(wrap_pyfunction!(permutation_independent_null, m)?)?;
    Ok(())
}
