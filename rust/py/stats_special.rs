//! Bindings for the special functions: elementwise over NumPy arrays.

use numpy::{PyArrayDyn, PyReadonlyArrayDyn, ToPyArray};
use pyo3::prelude::*;

use crate::stats::special;

fn map<'py>(
    py: Python<'py>,
    x: &PyReadonlyArrayDyn<'py, f64>,
    f: fn(f64) -> f64,
) -> Bound<'py, PyArrayDyn<f64>> {
    x.as_array().mapv(f).to_pyarray(py)
}

/// Standard normal CDF, elementwise.
#[pyfunction]
fn ndtr<'py>(py: Python<'py>, x: PyReadonlyArrayDyn<'py, f64>) -> Bound<'py, PyArrayDyn<f64>> {
    map(py, &x, special::ndtr)
}

/// Standard normal quantile, elementwise.
#[pyfunction]
fn ndtri<'py>(py: Python<'py>, p: PyReadonlyArrayDyn<'py, f64>) -> Bound<'py, PyArrayDyn<f64>> {
    map(py, &p, special::ndtri)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(ndtr, m)?)?;
    m.add_function(wrap_pyfunction!(ndtri, m)?)?;
    Ok(())
}
