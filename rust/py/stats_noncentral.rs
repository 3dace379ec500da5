//! Bindings for the noncentral t distribution: elementwise over equal-shaped arrays.

use numpy::ndarray::{ArrayD, Zip};
use numpy::{PyArrayDyn, PyReadonlyArrayDyn, ToPyArray};
use pyo3::prelude::*;

use super::errors::invalid;
use crate::stats::noncentral_t;

/// Each element costs a quadrature (tens of µs), so the GIL is released throughout.
fn map3<'py>(
    py: Python<'py>,
    df: &PyReadonlyArrayDyn<'py, f64>,
    nc: &PyReadonlyArrayDyn<'py, f64>,
    t: &PyReadonlyArrayDyn<'py, f64>,
    f: fn(f64, f64, f64) -> f64,
) -> PyResult<Bound<'py, PyArrayDyn<f64>>> {
    let (df, nc, t) = (df.as_array(), nc.as_array(), t.as_array());
    if df.shape() != t.shape() || nc.shape() != t.shape() {
        return Err(invalid("arguments must have the same shape"));
    }
    let out: ArrayD<f64> = py.detach(|| {
        Zip::from(&df)
            .and(&nc)
            .and(&t)
            .map_collect(|&d, &n, &x| f(d, n, x))
    });
    Ok(out.to_pyarray(py))
}

/// Noncentral t CDF P(T ≤ t), elementwise.
#[pyfunction]
fn noncentral_t_cdf<'py>(
    py: Python<'py>,
    df: PyReadonlyArrayDyn<'py, f64>,
    nc: PyReadonlyArrayDyn<'py, f64>,
    t: PyReadonlyArrayDyn<'py, f64>,
) -> PyResult<Bound<'py, PyArrayDyn<f64>>> {
    map3(py, &df, &nc, &t, noncentral_t::cdf)
}

/// Noncentral t survival function P(T > t), elementwise.
#[pyfunction]
fn noncentral_t_sf<'py>(
    py: Python<'py>,
    df: PyReadonlyArrayDyn<'py, f64>,
    nc: PyReadonlyArrayDyn<'py, f64>,
    t: PyReadonlyArrayDyn<'py, f64>,
) -> PyResult<Bound<'py, PyArrayDyn<f64>>> {
    map3(py, &df, &nc, &t, noncentral_t::sf)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(noncentral_t_cdf, m)?)?;
    m.add_function(wrap_pyfunction!(noncentral_t_sf, m)?)?;
    Ok(())
}
