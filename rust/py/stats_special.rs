//! Bindings for the special functions: elementwise over NumPy arrays.

use numpy::{PyArrayDyn, PyReadonlyArrayDyn, ToPyArray};
use pyo3::prelude::*;

use crate::stats::{fisher_f, special, student_t};

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

fn map2<'py>(
    py: Python<'py>,
    df: &PyReadonlyArrayDyn<'py, f64>,
    x: &PyReadonlyArrayDyn<'py, f64>,
    f: fn(f64, f64) -> f64,
) -> PyResult<Bound<'py, PyArrayDyn<f64>>> {
    let (df, x) = (df.as_array(), x.as_array());
    if df.shape() != x.shape() {
        return Err(super::errors::invalid("arguments must have the same shape"));
    }
    let mut out = x.to_owned();
    out.zip_mut_with(&df, |v, &d| *v = f(d, *v));
    Ok(out.to_pyarray(py))
}

/// Student's t survival function P(T > t), elementwise over equal-shaped arrays.
#[pyfunction]
fn student_t_sf<'py>(
    py: Python<'py>,
    df: PyReadonlyArrayDyn<'py, f64>,
    t: PyReadonlyArrayDyn<'py, f64>,
) -> PyResult<Bound<'py, PyArrayDyn<f64>>> {
    map2(py, &df, &t, student_t::sf)
}

/// Student's t quantile, elementwise over equal-shaped arrays.
#[pyfunction]
fn student_t_ppf<'py>(
    py: Python<'py>,
    df: PyReadonlyArrayDyn<'py, f64>,
    p: PyReadonlyArrayDyn<'py, f64>,
) -> PyResult<Bound<'py, PyArrayDyn<f64>>> {
    map2(py, &df, &p, student_t::ppf)
}

/// Snedecor's F survival function P(F > f), elementwise over equal-shaped arrays.
#[pyfunction]
fn fisher_f_sf<'py>(
    py: Python<'py>,
    dfn: PyReadonlyArrayDyn<'py, f64>,
    dfd: PyReadonlyArrayDyn<'py, f64>,
    f: PyReadonlyArrayDyn<'py, f64>,
) -> PyResult<Bound<'py, PyArrayDyn<f64>>> {
    let (dfn, dfd, f) = (dfn.as_array(), dfd.as_array(), f.as_array());
    if dfn.shape() != f.shape() || dfd.shape() != f.shape() {
        return Err(super::errors::invalid("arguments must have the same shape"));
    }
    let mut out = f.to_owned();
    ndarray_zip3(&mut out, &dfn, &dfd);
    Ok(out.to_pyarray(py))
}

fn ndarray_zip3(
    out: &mut numpy::ndarray::ArrayD<f64>,
    dfn: &numpy::ndarray::ArrayViewD<'_, f64>,
    dfd: &numpy::ndarray::ArrayViewD<'_, f64>,
) {
    for ((v, &n), &d) in out.iter_mut().zip(dfn.iter()).zip(dfd.iter()) {
        *v = fisher_f::sf(n, d, *v);
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(fisher_f_sf, m)?)?;
    m.add_function(wrap_pyfunction!(student_t_sf, m)?)?;
    m.add_function(wrap_pyfunction!(student_t_ppf, m)?)?;
    m.add_function(wrap_pyfunction!(ndtr, m)?)?;
    m.add_function(wrap_pyfunction!(ndtri, m)?)?;
    Ok(())
}
