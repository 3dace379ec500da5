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

pub(super) type SealOutput<'py> = (Bound<'py, PyList>, Option<Bound<'py, PyList>>, Vec<usize>);

/// What sealing returns for a batch sealed in `parts` (each an array of events and its
/// [`seal::Sealed`], in chain order from `start`): the hex hashes, the sealed documents
/// when `stored`, and the indices of the events that already carried a link.
pub(super) fn seal_output<'py>(
    py: Python<'py>,
    parts: &[(&[u8], &seal::Sealed)],
    start: [u8; 32],
    stored: bool,
) -> PyResult<SealOutput<'py>> {
    let hashes: Vec<Bound<'py, PyString>> = parts
        .iter()
        .flat_map(|(_, sealed)| &sealed.hashes)
        .map(|h| hex_str(py, h))
        .collect();
    let hashes = PyList::new(py, hashes)?;
    let elements = parts
        .iter()
        .flat_map(|(events, sealed)| sealed.elements.iter().map(move |e| (*events, e)));
    let linked = elements
        .clone()
        .enumerate()
        .filter_map(|(i, (_, e))| e.linked.then_some(i))
        .collect();
    if !stored {
        return Ok((hashes, None, linked));
    }
    let mut prev_hex = hex64(&start);
    let mut docs = Vec::with_capacity(hashes.len());
    let all_hashes = parts.iter().flat_map(|(_, sealed)| &sealed.hashes);
    for ((events, element), hash) in elements.zip(all_hashes) {
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
    Ok((hashes, Some(PyList::new(py, docs)?), linked))
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
    seal_output(py, &[(events, &sealed)], start, stored)
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
