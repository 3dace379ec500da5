//! Bindings for the trace hash chain: whole chains in, GIL released.

use pyo3::prelude::*;
use pyo3::types::PyBytes;

use super::errors::{invalid, to_py};
use crate::ir::canonical::to_hex;
use crate::trace::chain::{self, from_hex, GENESIS};

fn prev_bytes(prev: Option<&str>) -> PyResult<[u8; 32]> {
    match prev {
        None => Ok(GENESIS),
        Some(text) => from_hex(text).ok_or_else(|| invalid("prev must be 64 hex digits")),
    }
}

fn views<'a>(docs: &'a [Bound<'_, PyBytes>]) -> Vec<&'a [u8]> {
    docs.iter().map(|d| d.as_bytes()).collect()
}

/// Hex hashes of event documents chained from `prev` (None: a new chain).
#[pyfunction]
#[pyo3(signature = (docs, prev = None))]
fn trace_chain_build(
    py: Python<'_>,
    docs: Vec<Bound<'_, PyBytes>>,
    prev: Option<&str>,
) -> PyResult<Vec<String>> {
    let start = prev_bytes(prev)?;
    let refs = views(&docs);
    let hashes = py.detach(|| chain::build(&refs, start)).map_err(to_py)?;
    Ok(hashes.iter().map(|h| to_hex(h)).collect())
}

/// The first break of a stored chain as (index, kind, reason), or None if it is intact.
#[pyfunction]
#[pyo3(signature = (docs, prev = None))]
fn trace_chain_verify(
    py: Python<'_>,
    docs: Vec<Bound<'_, PyBytes>>,
    prev: Option<&str>,
) -> PyResult<Option<(usize, &'static str, &'static str)>> {
    let start = prev_bytes(prev)?;
    let refs = views(&docs);
    let found = py.detach(|| chain::verify(&refs, start)).map_err(to_py)?;
    Ok(found.map(|(i, kind)| {
        let name = match kind {
            chain::Break::Link => "link",
            chain::Break::Content => "content",
            chain::Break::Missing => "missing",
        };
        (i, name, kind.reason())
    }))
}

/// HMAC-SHA256 (hex) of a chain head (hex) under `key`.
#[pyfunction]
fn trace_sign_head(head: &str, key: &[u8]) -> PyResult<String> {
    let head = from_hex(head).ok_or_else(|| invalid("head must be 64 hex digits"))?;
    chain::sign_head(&head, key).map_err(to_py)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(trace_chain_build, m)?)?;
    m.add_function(wrap_pyfunction!(trace_chain_verify, m)?)?;
    m.add_function(wrap_pyfunction!(trace_sign_head, m)?)?;
    Ok(())
}
