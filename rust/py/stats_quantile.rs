//! Bindings for quantiles, medians, moment sums and the KLL sketch.
//!
//! The Python side lays the data out as C-contiguous lanes (one row per slice reduced);
//! these functions borrow the arrays without copying and run the kernels off the GIL.

use numpy::{PyArray1, PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::prelude::*;

use super::errors::{invalid, to_py};
use crate::stats::descriptive::moment_sums as kernel_moment_sums;
use crate::stats::kll::KllSketch;
use crate::stats::quantile::{reduce_lanes, Method, NanPolicy, Reduction};

fn lanes_of<'a>(data: &'a PyReadonlyArray2<'_, f64>) -> PyResult<(&'a [f64], usize, usize)> {
    let (lanes, lane_len) = match data.shape() {
        [lanes, lane_len] => (*lanes, *lane_len),
        _ => return Err(invalid("data must be two-dimensional")),
    };
    let values = data
        .as_slice()
        .map_err(|_| invalid("data must be C-contiguous"))?;
    Ok((values, lanes, lane_len))
}

fn slice_of<'a>(arr: &'a PyReadonlyArray1<'_, f64>, what: &str) -> PyResult<&'a [f64]> {
    arr.as_slice()
        .map_err(|_| invalid(format!("{what} must be contiguous")))
}

/// `numpy.quantile` of each row of `data` at each q: `out[j * rows + row]`.
#[pyfunction]
fn quantile_lanes<'py>(
    py: Python<'py>,
    data: PyReadonlyArray2<'py, f64>,
    q: PyReadonlyArray1<'py, f64>,
    method: &str,
    nan_policy: &str,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let method = Method::parse(method).map_err(to_py)?;
    let policy = NanPolicy::parse(nan_policy).map_err(to_py)?;
    let (values, lanes, lane_len) = lanes_of(&data)?;
    let qs = slice_of(&q, "q")?;
    let reduction = Reduction::Quantiles { qs, method };
    let out = py
        .detach(|| reduce_lanes(values, lanes, lane_len, reduction, policy))
        .map_err(to_py)?;
    Ok(PyArray1::from_vec(py, out))
}

/// `numpy.median` of each row of `data`.
#[pyfunction]
fn median_lanes<'py>(
    py: Python<'py>,
    data: PyReadonlyArray2<'py, f64>,
    nan_policy: &str,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let policy = NanPolicy::parse(nan_policy).map_err(to_py)?;
    let (values, lanes, lane_len) = lanes_of(&data)?;
    let out = py
        .detach(|| reduce_lanes(values, lanes, lane_len, Reduction::Median, policy))
        .map_err(to_py)?;
    Ok(PyArray1::from_vec(py, out))
}

/// `(n, Σx, min, max, Σd², Σd³, Σd⁴)` with d = x - Σx/n, powers beyond `order` left 0.
#[pyfunction]
#[allow(clippy::type_complexity)]
fn moment_sums(
    py: Python<'_>,
    values: PyReadonlyArray1<'_, f64>,
    order: u8,
) -> PyResult<(usize, f64, f64, f64, f64, f64, f64)> {
    let view = slice_of(&values, "values")?;
    let s = py
        .detach(|| kernel_moment_sums(view, order))
        .map_err(to_py)?;
    Ok((s.n, s.sum, s.min, s.max, s.s2, s.s3, s.s4))
}

/// The Rust half of `crucible.stats.QuantileSketch`.
#[pyclass(module = "crucible._core")]
pub struct KllSketchCore {
    inner: KllSketch,
}

#[pymethods]
impl KllSketchCore {
    #[new]
    fn new(k: usize, seed: u64) -> PyResult<Self> {
        Ok(KllSketchCore {
            inner: KllSketch::new(k, seed).map_err(to_py)?,
        })
    }

    fn update(&mut self, py: Python<'_>, values: PyReadonlyArray1<'_, f64>) -> PyResult<()> {
        let view = slice_of(&values, "values")?;
        let inner = &mut self.inner;
        py.detach(|| inner.update(view));
        Ok(())
    }

    fn merge(&mut self, other: &Self) -> PyResult<()> {
        self.inner.merge(&other.inner).map_err(to_py)
    }

    fn copy(&self) -> Self {
        KllSketchCore {
            inner: self.inner.clone(),
        }
    }

    fn quantiles<'py>(
        &self,
        py: Python<'py>,
        q: PyReadonlyArray1<'py, f64>,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let qs = slice_of(&q, "q")?;
        let out = self.inner.quantiles(qs).map_err(to_py)?;
        Ok(PyArray1::from_vec(py, out))
    }

    fn __len__(&self) -> usize {
        usize::try_from(self.inner.len()).unwrap_or(usize::MAX)
    }

    #[getter]
    fn k(&self) -> usize {
        self.inner.k()
    }

    #[getter]
    fn min(&self) -> f64 {
        self.inner.min()
    }

    #[getter]
    fn max(&self) -> f64 {
        self.inner.max()
    }

    #[getter]
    fn retained(&self) -> usize {
        self.inner.retained()
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(quantile_lanes, m)?)?;
    m.add_function(wrap_pyfunction!(median_lanes, m)?)?;
    m.add_function(wrap_pyfunction!(moment_sums, m)?)?;
    m.add_class::<KllSketchCore>()?;
    Ok(())
}
