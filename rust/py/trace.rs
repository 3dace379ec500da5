//! Bindings for the trace hash chain: whole chains in, GIL released.

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyString};

use super::errors::{invalid, to_py};
use crate::trace::chain::{self, from_hex, hex64, GENESIS};
use crate::trace::seal::{self, sealed_doc_len, write_sealed_doc};

pub(super) fn prev_bytes(prev: Option<&str>) -> PyResult<[u8; 32]> {
    match prev {
        None => Ok(GENESIS),
        Some(text) => from_hex(text).ok_or_else(|| invalid("prev must be 64 hex digits")),
    }
}

fn hex_str<'py>(py: Python<'py>, hash: &[u8; 32]) -> Bound<'py, PyString> {
    let digits = hex64(hash);
    PyString::new(py, std::str::from_utf8(&digits).unwrap_or_default())
}

type SealOutput<'py> = (Bound<'py, PyList>, Option<Bound<'py, PyList>>, Vec<usize>);

/// The hashes of `sealed`, as hex strings.
pub(super) fn hex_list<'py>(
    py: Python<'py>,
    sealed: &seal::Sealed,
) -> PyResult<Bound<'py, PyList>> {
    PyList::new(py, sealed.hashes.iter().map(|h| hex_str(py, h)))
}

/// The indices (counted from `base`) of the events of `sealed` that already carried a link.
pub(super) fn linked_indices(sealed: &seal::Sealed, base: usize) -> Vec<usize> {
    let elements = sealed.elements.iter().enumerate();
    elements
        .filter_map(|(i, e)| e.linked.then_some(base + i))
        .collect()
}

/// The stored document of every event of a batch sealed in `parts` (each an array of
/// events and its [`seal::Sealed`], in chain order from `start`): its own with `prev_hash`
/// and `hash` appended, unchanged if it already carried either.
pub(super) fn sealed_docs<'py>(
    py: Python<'py>,
    parts: &[(&[u8], &seal::Sealed)],
    start: [u8; 32],
) -> PyResult<Bound<'py, PyList>> {
    let mut prev_hex = hex64(&start);
    let mut docs = Vec::new();
    for (events, sealed) in parts {
        for (element, hash) in sealed.elements.iter().zip(&sealed.hashes) {
            let own = events.get(element.start..element.end).unwrap_or_default();
            let hash_hex = hex64(hash);
            let doc = if element.linked {
                PyBytes::new(py, own)
            } else {
                let len = sealed_doc_len(own.len(), element.empty);
                PyBytes::new_with(py, len, |out| {
                    write_sealed_doc(own, element.empty, &prev_hex, &hash_hex, out).map_err(to_py)
                })?
            };
            docs.push(doc);
            prev_hex = hash_hex;
        }
    }
    PyList::new(py, docs)
}

/// Hex hashes of a batch of events given as one JSON array (`events`), chained from
/// `prev` (None: a new chain); with `stored`, each event's sealed document too (its own
/// with `prev_hash` and `hash` appended; unchanged if it already carried either); and the
/// indices of the events that already carried either.
#[pyfunction]
#[pyo3(signature = (events, prev = None, stored = false))]
fn trace_chain_seal<'py>(
    py: Python<'py>,
    events: &[u8],
    prev: Option<&str>,
    stored: bool,
) -> PyResult<SealOutput<'py>> {
    let start = prev_bytes(prev)?;
    let sealed = py.detach(|| seal::seal(events, start)).map_err(to_py)?;
    let docs = if stored {
        Some(sealed_docs(py, &[(events, &sealed)], start)?)
    } else {
        None
    };
    Ok((hex_list(py, &sealed)?, docs, linked_indices(&sealed, 0)))
}

/// The head (hex) and the first break as (index, kind, reason).
type VerifyOutput<'py> = (
    Bound<'py, PyString>,
    Option<(usize, &'static str, &'static str)>,
);

/// Checks stored event documents chained from `prev`: the head (the last verified hash)
/// and the first break as (index, kind, reason), or None if the chain is intact.
#[pyfunction]
#[pyo3(signature = (docs, prev = None))]
fn trace_chain_verify<'py>(
    py: Python<'py>,
    docs: Vec<Bound<'py, PyBytes>>,
    prev: Option<&str>,
) -> PyResult<VerifyOutput<'py>> {
    let start = prev_bytes(prev)?;
    let refs: Vec<&[u8]> = docs.iter().map(|d| d.as_bytes()).collect();
    let found = py.detach(|| chain::verify(&refs, start));
    let broken = found
        .broken
        .map(|(i, kind)| (i, kind.name(), kind.reason()));
    Ok((hex_str(py, &found.head), broken))
}

/// HMAC-SHA256 (hex) of a chain head (hex) under `key`.
#[pyfunction]
fn trace_sign_head(head: &str, key: &[u8]) -> PyResult<String> {
    let head = from_hex(head).ok_or_else(|| invalid("head must be 64 hex digits"))?;
    chain::sign_head(&head, key).map_err(to_py)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(trace_chain_seal, m)?)?;
    m.add_function(wrap_pyfunction!(trace_chain_verify, m)?)?;
    m.add_function(wrap_pyfunction!(trace_sign_head, m)?)?;
    m.add_class::<super::trace_sealer::ChainSealer>()?;
    Ok(())
}
