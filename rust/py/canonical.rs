//! Bindings for canonical JSON and fingerprints.

use pyo3::prelude::*;
use pyo3::types::PyBytes;

use super::errors::to_py;
use crate::ir::canonical;

/// RFC 8785 canonical form of a JSON document, without the top-level members in `drop`.
#[pyfunction]
#[pyo3(signature = (doc, drop = Vec::new()))]
fn canonical_json<'py>(
    py: Python<'py>,
    doc: &[u8],
    drop: Vec<String>,
) -> PyResult<Bound<'py, PyBytes>> {
    let names: Vec<&str> = drop.iter().map(String::as_str).collect();
    let out = py
        .detach(|| canonical::canonicalize(doc, &names))
        .map_err(to_py)?;
    Ok(PyBytes::new(py, &out))
}

/// SHA-256 (hex) of a JSON document's canonical form.
#[pyfunction]
fn fingerprint(py: Python<'_>, doc: &[u8]) -> PyResult<String> {
    py.detach(|| canonical::fingerprint(doc)).map_err(to_py)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(canonical_json, m)?)?;
    m.add_function(wrap_pyfunction!(fingerprint, m)?)?;
    Ok(())
}
