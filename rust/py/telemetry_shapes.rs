//! Captured payloads as *shapes* plus values, instead of a dict copy per event.
//!
//! An emitter sends the same keys, in the same order, event after event; copying its
//! measurements and metadata into two new dicts per event (as a shallow snapshot must, since
//! the emitter may reuse and mutate its dicts) costs an allocation, a hash table fill and a
//! free later, for keys that never change. [`Payloads`] instead keeps each distinct key
//! sequence once, as a [`Shape`], and appends only the values of each payload to one
//! batch-wide vector (an incref each, no allocation per event). A payload matches a shape
//! when it has the same length and each key is the shape's key object, or an exact `str`
//! equal to it; the few most recently used shapes are tried first, then a hash table of
//! every shape of the batch. Rebuilding `dict(zip(shape, values))` gives a dict equal to
//! the copy, items and order alike, so readers see what they saw before.
//!
//! Everything here runs with the GIL held and calls no Python code (dict iteration, exact
//! `str` hashing and comparison, increfs; the only decrefs are of values a dict still
//! holds), so the capture buffer may do it under its mutex.

use std::collections::HashMap;
use std::sync::Arc;

use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};

/// Shapes tried per payload position, most recent first, before the hash table.
const RECENT: usize = 4;

/// Payload positions of an event: measurements, metadata (each has its own recent shapes).
pub const POSITIONS: usize = 2;

/// A sequence of payload keys shared by every payload that has them, in that order.
pub struct Shape {
    keys: Vec<Py<PyAny>>,
    hash: u64,
}

impl Shape {
    pub fn keys(&self) -> &[Py<PyAny>] {
        &self.keys
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// The payload as a plain dict: the shape's keys with `values` (one per key).
    pub fn dict<'py>(&self, py: Python<'py>, values: &[Py<PyAny>]) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        for (k, v) in self.keys.iter().zip(values) {
            d.set_item(k.bind(py), v.bind(py))?;
        }
        Ok(d)
    }
}

/// The items of a dict as borrowed pointers, in order.
///
/// Safety argument: the dict is alive (the caller holds a `Bound`), the GIL is held (the
/// `Bound` proves it) and nothing between two `next` calls runs Python code, so the dict
/// cannot change under the iteration and the borrowed pointers stay valid as long as the
/// dict keeps them.
struct Items<'a, 'py> {
    dict: &'a Bound<'py, PyDict>,
    pos: ffi::Py_ssize_t,
}

impl<'a, 'py> Iterator for Items<'a, 'py> {
    type Item = (*mut ffi::PyObject, *mut ffi::PyObject);

    fn next(&mut self) -> Option<Self::Item> {
        let mut key: *mut ffi::PyObject = std::ptr::null_mut();
        let mut value: *mut ffi::PyObject = std::ptr::null_mut();
        // SAFETY: see the type's docs; `PyDict_Next` returns borrowed, non-null pointers
        // when it returns non-zero.
        let more =
            unsafe { ffi::PyDict_Next(self.dict.as_ptr(), &mut self.pos, &mut key, &mut value) };
        (more != 0 && !key.is_null() && !value.is_null()).then_some((key, value))
    }
}

fn items<'a, 'py>(dict: &'a Bound<'py, PyDict>) -> Items<'a, 'py> {
    Items { dict, pos: 0 }
}

/// A new strong reference to a borrowed pointer from [`Items`].
fn owned(py: Python<'_>, ptr: *mut ffi::PyObject) -> Py<PyAny> {
    // SAFETY: `ptr` is a live object borrowed from a dict the caller holds (see `Items`).
    unsafe { Bound::from_borrowed_ptr(py, ptr) }.unbind()
}

/// Whether a payload key is a shape's key: the same object, or exact `str`s that are equal.
fn same_key(py: Python<'_>, key: *mut ffi::PyObject, shape_key: &Py<PyAny>) -> PyResult<bool> {
    if key == shape_key.as_ptr() {
        return Ok(true);
    }
    // SAFETY: `key` is live (borrowed from a dict the caller holds, see `Items`).
    let key = unsafe { Bound::from_borrowed_ptr(py, key) };
    let shape_key = shape_key.bind(py);
    if !key.is_exact_instance_of::<PyString>() || !shape_key.is_exact_instance_of::<PyString>() {
        return Ok(false);
    }
    Ok(key.hash()? == shape_key.hash()? && key.eq(shape_key)?)
}

/// The hash of a key sequence: exact `str`s by value, any other key by identity.
fn shape_hash(keys: &[Bound<'_, PyAny>]) -> PyResult<u64> {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ keys.len() as u64;
    for k in keys {
        let part = if k.is_exact_instance_of::<PyString>() {
            k.hash()? as u64
        } else {
            k.as_ptr() as u64
        };
        h = (h.rotate_left(5) ^ part).wrapping_mul(0x0100_0000_01b3);
    }
    Ok(h)
}

/// The shapes and values of the payloads captured since the last drain.
pub struct Payloads {
    shapes: Vec<Arc<Shape>>,
    values: Vec<Py<PyAny>>,
    by_hash: HashMap<u64, Vec<u32>>,
    recent: [[u32; RECENT]; POSITIONS],
}

impl Default for Payloads {
    fn default() -> Self {
        Payloads {
            shapes: Vec::new(),
            values: Vec::new(),
            by_hash: HashMap::new(),
            recent: [[u32::MAX; RECENT]; POSITIONS],
        }
    }
}

/// Shapes and values handed over from [`Payloads`] (the values of one batch of events).
#[derive(Default)]
pub struct Snapshot {
    pub shapes: Vec<Arc<Shape>>,
    pub values: Vec<Py<PyAny>>,
}

/// The length of shape `id` of `shapes` (0 for an unknown id, which no recorded row has).
pub fn width(shapes: &[Arc<Shape>], id: u32) -> usize {
    shapes.get(id as usize).map_or(0, |s| s.len())
}

impl Payloads {
    /// An empty table whose vectors start with room for `values` values.
    pub fn with_capacity(values: usize) -> Self {
        Payloads {
            values: Vec::with_capacity(values),
            ..Payloads::default()
        }
    }

    pub fn values_len(&self) -> usize {
        self.values.len()
    }

    /// Forget the values from `len` on (a payload of an event that was not recorded).
    /// Their objects are still held by the payloads they came from, so no object dies here.
    pub fn truncate(&mut self, len: usize) {
        self.values.truncate(len);
    }

    /// The length of shape `id`.
    pub fn width(&self, id: u32) -> usize {
        width(&self.shapes, id)
    }

    /// Record the values of `dict`, the payload at `position` (< [`POSITIONS`]) of an
    /// event, and return the id of its shape.
    pub fn record(&mut self, position: usize, dict: &Bound<'_, PyDict>) -> PyResult<u32> {
        let start = self.values.len();
        let recent = self.recent.get(position).copied().unwrap_or_default();
        for (slot, &id) in recent.iter().enumerate() {
            if id == u32::MAX {
                break;
            }
            match self.append_if_shaped(id, dict) {
                Ok(true) => {
                    if let (true, Some(r)) = (slot > 0, self.recent.get_mut(position)) {
                        r[..=slot].rotate_right(1);
                    }
                    return Ok(id);
                }
                Ok(false) => self.values.truncate(start),
                Err(e) => {
                    self.values.truncate(start);
                    return Err(e);
                }
            }
        }
        let id = self.shape_of(dict)?;
        let py = dict.py();
        self.values
            .extend(items(dict).map(|(_, value)| owned(py, value)));
        if let Some(r) = self.recent.get_mut(position) {
            r.rotate_right(1);
            r[0] = id;
        }
        Ok(id)
    }

    /// Append the values of `dict` if its keys are those of shape `id` (on `false` some
    /// values may have been appended: the caller truncates). The dict's length is checked
    /// by running out of items exactly with the shape's keys.
    fn append_if_shaped(&mut self, id: u32, dict: &Bound<'_, PyDict>) -> PyResult<bool> {
        let Some(shape) = self.shapes.get(id as usize) else {
            return Ok(false);
        };
        let py = dict.py();
        let mut items = items(dict);
        for shape_key in &shape.keys {
            let Some((key, value)) = items.next() else {
                return Ok(false);
            };
            if key != shape_key.as_ptr() && !same_key(py, key, shape_key)? {
                return Ok(false);
            }
            self.values.push(owned(py, value));
        }
        Ok(items.next().is_none())
    }

    /// The id of the shape of `dict`'s keys, made if the batch has none.
    fn shape_of(&mut self, dict: &Bound<'_, PyDict>) -> PyResult<u32> {
        let py = dict.py();
        let keys: Vec<Bound<'_, PyAny>> = items(dict)
            .map(|(key, _)| owned(py, key).into_bound(py))
            .collect();
        let hash = shape_hash(&keys)?;
        if let Some(ids) = self.by_hash.get(&hash) {
            for &id in ids {
                if let Some(shape) = self.shapes.get(id as usize) {
                    if shape.len() == keys.len() && Self::keys_match(py, shape, &keys)? {
                        return Ok(id);
                    }
                }
            }
        }
        let id = u32::try_from(self.shapes.len())
            .map_err(|_| super::errors::invalid("too many payload shapes in one batch"))?;
        self.shapes.push(Arc::new(Shape {
            keys: keys.into_iter().map(Bound::unbind).collect(),
            hash,
        }));
        self.by_hash.entry(hash).or_default().push(id);
        Ok(id)
    }

    fn keys_match(py: Python<'_>, shape: &Shape, keys: &[Bound<'_, PyAny>]) -> PyResult<bool> {
        for (key, shape_key) in keys.iter().zip(&shape.keys) {
            if !same_key(py, key.as_ptr(), shape_key)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Hand everything over, leaving a table with no values that keeps only the recently
    /// used shapes (so the next batch starts on the fast path).
    pub fn take_all(&mut self) -> Snapshot {
        let mut fresh = Payloads::with_capacity(self.values.len());
        for (recent, fresh_recent) in self.recent.iter().zip(fresh.recent.iter_mut()) {
            for (&id, new) in recent.iter().zip(fresh_recent.iter_mut()) {
                let Some(shape) = self.shapes.get(id as usize) else {
                    break;
                };
                *new = match fresh.shapes.iter().position(|s| Arc::ptr_eq(s, shape)) {
                    Some(at) => at as u32,
                    None => {
                        let at = fresh.shapes.len() as u32;
                        fresh.by_hash.entry(shape.hash).or_default().push(at);
                        fresh.shapes.push(Arc::clone(shape));
                        at
                    }
                };
            }
        }
        let taken = std::mem::replace(self, fresh);
        Snapshot {
            shapes: taken.shapes,
            values: taken.values,
        }
    }

    /// Hand over the first `n` values (and every shape, which the rest may still use).
    pub fn take_head(&mut self, n: usize) -> Snapshot {
        let rest = self.values.split_off(n.min(self.values.len()));
        Snapshot {
            shapes: self.shapes.clone(),
            values: std::mem::replace(&mut self.values, rest),
        }
    }
}
