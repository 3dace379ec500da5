//! Bindings for canonical JSON and fingerprints: of JSON text (parsed in Rust), and of
//! Python values, written straight from the objects so that nothing is lost on the way:
//! integers of any size exactly, non-finite floats and lone surrogates refused, and only
//! JSON's own types accepted (a set has no stable order, a non-string key no JSON form).

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};

use super::errors::to_py;
use crate::error::CoreError;
use crate::ir::canonical::{self, utf16_order, write_number, write_sorted_object, write_string};

/// The deepest nesting written (as the parser reads: `crate::ir::parser::MAX_DEPTH`).
const MAX_DEPTH: usize = crate::ir::parser::MAX_DEPTH;

fn refuse(message: String) -> PyErr {
    to_py(CoreError::Serialization(message))
}

fn text<'a>(s: &'a Bound<'_, PyString>) -> PyResult<&'a str> {
    s.to_str()
        .map_err(|_| refuse("string holds a lone surrogate".into()))
}

fn write_value(value: &Bound<'_, PyAny>, depth: usize, out: &mut Vec<u8>) -> PyResult<()> {
    if depth > MAX_DEPTH {
        return Err(refuse(format!(
            "document nested deeper than {MAX_DEPTH} levels"
        )));
    }
    if value.is_none() {
        out.extend_from_slice(b"null");
    } else if let Ok(flag) = value.cast::<PyBool>() {
        out.extend_from_slice(if flag.is_true() { b"true" } else { b"false" });
    } else if let Ok(int) = value.cast::<PyInt>() {
        match int.extract::<i64>() {
            Ok(small) => out.extend_from_slice(small.to_string().as_bytes()),
            // beyond 64 bits: Python's own digits (int.__repr__, not a subclass's __str__)
            Err(_) => {
                let digits = value
                    .py()
                    .get_type::<PyInt>()
                    .call_method1("__repr__", (int,))?;
                out.extend_from_slice(digits.cast::<PyString>()?.to_str()?.as_bytes());
            }
        }
    } else if let Ok(float) = value.cast::<PyFloat>() {
        let x = float.value();
        if !x.is_finite() {
            return Err(refuse(format!("{x} has no JSON representation")));
        }
        write_number(x, out);
    } else if let Ok(string) = value.cast::<PyString>() {
        write_string(text(string)?, out);
    } else if let Ok(dict) = value.cast::<PyDict>() {
        write_object(dict, depth, out)?;
    } else if let Ok(list) = value.cast::<PyList>() {
        write_items(list.iter(), depth, out)?;
    } else if let Ok(tuple) = value.cast::<PyTuple>() {
        write_items(tuple.iter(), depth, out)?;
    } else {
        let name = value.get_type().name()?;
        return Err(to_py(CoreError::InvalidType(format!(
            "{name} is not a JSON value"
        ))));
    }
    Ok(())
}

fn write_items<'py>(
    items: impl Iterator<Item = Bound<'py, PyAny>>,
    depth: usize,
    out: &mut Vec<u8>,
) -> PyResult<()> {
    out.push(b'[');
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_value(&item, depth + 1, out)?;
    }
    out.push(b']');
    Ok(())
}

fn write_object(dict: &Bound<'_, PyDict>, depth: usize, out: &mut Vec<u8>) -> PyResult<()> {
    let mut keys = Vec::with_capacity(dict.len());
    for (key, value) in dict.iter() {
        let Ok(name) = key.cast::<PyString>() else {
            return Err(refuse(format!(
                "object key {} is not a string",
                key.repr()?
            )));
        };
        keys.push((name.clone(), value));
    }
    let mut members = Vec::with_capacity(keys.len());
    for (name, value) in &keys {
        members.push((text(name)?, value));
    }
    members.sort_by(|a, b| utf16_order(a.0, b.0));
    write_sorted_object(members.into_iter(), out, |value, out| {
        write_value(value, depth + 1, out)
    })
}

/// RFC 8785 canonical form of a Python JSON value (dict, list, tuple, str, int, float, bool,
/// None), as UTF-8 bytes.
#[pyfunction]
fn canonical_value<'py>(value: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyBytes>> {
    let mut out = Vec::new();
    write_value(value, 0, &mut out)?;
    Ok(PyBytes::new(value.py(), &out))
}

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
    m.add_function(wrap_pyfunction!(canonical_value, m)?)?;
    Ok(())
}
