//! Bindings for the fused bootstrap kernels.

use numpy::{PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;

use super::errors::{invalid, to_py};
use super::prng::Pcg64Core;
use crate::stats::bootstrap::{jackknife_reduce, reduce, resample_reduce, Reduce};

fn parse(name: &str, param: f64) -> PyResult<Reduce> {
    Ok(match name {
        "mean" => Reduce::Mean,
        "median" => Reduce::Median,
        "var" => Reduce::Var { ddof: param },
        "std" => Reduce::Std { ddof: param },
        "trim_mean" => Reduce::TrimMean { proportion: param },
        "quantile" if (0.0..=1.0).contains(&param) => Reduce::Quantile { q: param },
        "quantile" => return Err(invalid("quantile q must be in [0, 1]")),
        other => return Err(invalid(format!("unknown built-in statistic {other:?}"))),
    })
}

fn slices<'a>(samples: &'a [PyReadonlyArray1<'_, f64>]) -> PyResult<Vec<&'a [f64]>> {
    samples
        .iter()
        .map(|s| {
            s.as_slice()
                .map_err(|_| invalid("samples must be contiguous"))
        })
        .collect()
}

/// `how` of each of `n_resamples` resamples drawn from `core` (the caller holds its
/// lock); several samples share indices (paired). Layout: `[s * n_resamples + r]`.
#[pyfunction]
fn bootstrap_resample_reduce<'py>(
    py: Python<'py>,
    core: &Pcg64Core,
    samples: Vec<PyReadonlyArray1<'py, f64>>,
    n_resamples: usize,
    name: &str,
    param: f64,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let how = parse(name, param)?;
    let views = slices(&samples)?;
    let rng = core.rng();
    let out = py
        .detach(|| resample_reduce(rng, &views, n_resamples, how))
        .map_err(to_py)?;
    Ok(PyArray1::from_vec(py, out))
}

/// Leave-one-out statistics, the same index left out of every sample: `[s * n + i]`.
#[pyfunction]
fn bootstrap_jackknife<'py>(
    py: Python<'py>,
    samples: Vec<PyReadonlyArray1<'py, f64>>,
    name: &str,
    param: f64,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let how = parse(name, param)?;
    let views = slices(&samples)?;
    let out = py.detach(|| jackknife_reduce(&views, how)).map_err(to_py)?;
    Ok(PyArray1::from_vec(py, out))
}

/// The statistic of one whole sample, computed as inside the resampling.
#[pyfunction]
fn bootstrap_reduce(sample: PyReadonlyArray1<'_, f64>, name: &str, param: f64) -> PyResult<f64> {
    let how = parse(name, param)?;
    let view = sample
        .as_slice()
        .map_err(|_| invalid("samples must be contiguous"))?;
    Ok(reduce(view, how))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(bootstrap_resample_reduce, m)?)?;
    m.add_function(wrap_pyfunction!(bootstrap_jackknife, m)?)?;
    m.add_function(wrap_pyfunction!(bootstrap_reduce, m)?)?;
    Ok(())
}
