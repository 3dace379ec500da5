//! Bindings for the incomplete gamma and χ² functions: elementwise over two equal-length,
//! contiguous 1-D arrays (the Python layer broadcasts and flattens first).

use numpy::{PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;
use rayon::prelude::*;

use crate::stats::gamma;

/// Above this many elements the work runs on rayon's pool; each output depends on its
/// own inputs only, so the result does not depend on the thread count.
const PARALLEL_FROM: usize = 16_384;

fn zip_map<'py>(
    py: Python<'py>,
    first: &PyReadonlyArray1<'py, f64>,
    second: &PyReadonlyArray1<'py, f64>,
    f: fn(f64, f64) -> f64,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let (first, second) = (first.as_slice()?, second.as_slice()?);
    if first.len() != second.len() {
        return Err(super::errors::invalid(
            "arguments must have the same length",
        ));
    }
    let out: Vec<f64> = py.detach(|| {
        if first.len() >= PARALLEL_FROM {
            first
                .par_iter()
                .zip(second.par_iter())
                .map(|(&u, &v)| f(u, v))
                .collect()
        } else {
            first.iter().zip(second).map(|(&u, &v)| f(u, v)).collect()
        }
    });
    Ok(PyArray1::from_vec(py, out))
}

/// Regularized lower incomplete gamma P(a, x), elementwise.
#[pyfunction]
fn gammainc<'py>(
    py: Python<'py>,
    a: PyReadonlyArray1<'py, f64>,
    x: PyReadonlyArray1<'py, f64>,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    zip_map(py, &a, &x, gamma::gammainc)
}

/// Regularized upper incomplete gamma Q(a, x), elementwise.
#[pyfunction]
fn gammaincc<'py>(
    py: Python<'py>,
    a: PyReadonlyArray1<'py, f64>,
    x: PyReadonlyArray1<'py, f64>,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    zip_map(py, &a, &x, gamma::gammaincc)
}

/// χ² survival function P(X > x), elementwise.
#[pyfunction]
fn chi2_sf<'py>(
    py: Python<'py>,
    df: PyReadonlyArray1<'py, f64>,
    x: PyReadonlyArray1<'py, f64>,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    zip_map(py, &df, &x, gamma::chi2_sf)
}

/// χ² CDF P(X ≤ x), elementwise.
#[pyfunction]
fn chi2_cdf<'py>(
    py: Python<'py>,
    df: PyReadonlyArray1<'py, f64>,
    x: PyReadonlyArray1<'py, f64>,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    zip_map(py, &df, &x, gamma::chi2_cdf)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(gammainc, m)?)?;
    m.add_function(wrap_pyfunction!(gammaincc, m)?)?;
    m.add_function(wrap_pyfunction!(chi2_sf, m)?)?;
    m.add_function(wrap_pyfunction!(chi2_cdf, m)?)?;
    Ok(())
}
