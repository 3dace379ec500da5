//! The capture hot path of `crucible.telemetry`: a bus handler that records events into a
//! buffer, and the buffer's hand-over to finalisation.
//!
//! `CaptureBuffer.capture` is attached to the event bus as the experiment's handler, so
//! each event costs one call into Rust: the scope check, the two timestamps, the correlation
//! id (a `ContextVar` read by its C `get`), a snapshot of measurements and metadata (an
//! emitter may reuse its dicts) and a push under a mutex. The snapshot is a shape id plus
//! values appended to one vector (`telemetry_shapes.rs`), not a dict copy. When
//! `batch_size` events are waiting it calls the experiment's `_drain`, which takes them out
//! as one [`RawBatch`] and finalises it (`telemetry_finalize.rs`).
//!
//! No Python object is created or freed while a mutex is held, so a fork (which happens
//! with the GIL held, as every critical section here runs) never sees one locked, and no
//! Python code (which could switch threads) runs inside one.

use std::sync::{Arc, Mutex, MutexGuard};

use pyo3::exceptions::PyRuntimeError;
use pyo3::gc::{PyTraverseError, PyVisit};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};

use super::telemetry_shapes::{width, Payloads, Shape, Snapshot};
use super::{telemetry_columns, telemetry_finalize};
use crate::telemetry::clock::{wall_us, MonotonicClock};

/// One event as captured, before finalisation; its payload values follow those of the
/// previous event in the batch's value vector (measurements, then metadata).
pub struct Raw {
    pub name: Py<PyAny>,
    /// Shape ids of measurements and metadata.
    pub shapes: [u32; 2],
    pub wall_us: i64,
    pub mono_ns: i64,
    pub corr: Py<PyAny>,
    pub weight: f64,
}

fn locked<T>(m: &Mutex<T>) -> PyResult<MutexGuard<'_, T>> {
    m.lock()
        .map_err(|_| PyRuntimeError::new_err("telemetry buffer lock poisoned"))
}

/// The bound `get` of a `ContextVar` (read per event: one C call, no Python frame).
fn getter_of<'py>(var: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let contextvars = var.py().import(pyo3::intern!(var.py(), "contextvars"))?;
    if !var.is_exact_instance(
        &contextvars
            .getattr(pyo3::intern!(var.py(), "ContextVar"))?
            .cast_into()?,
    ) {
        return Err(super::errors::invalid(
            "correlation and scope must be ContextVars",
        ));
    }
    var.getattr(pyo3::intern!(var.py(), "get"))
}

/// A payload as a dict whose items can be read without running Python code: an exact dict
/// as it is, anything else as `dict(value)` (what a shallow copy would hold).
fn as_dict<'py>(value: Bound<'py, PyAny>) -> PyResult<Bound<'py, PyDict>> {
    if value.is_exact_instance_of::<PyDict>() {
        return Ok(value.cast_into::<PyDict>()?);
    }
    Ok(value
        .py()
        .get_type::<PyDict>()
        .call1((value,))?
        .cast_into::<PyDict>()?)
}

/// Events waiting to be drained, and the shapes and values of their payloads.
#[derive(Default)]
struct Pending {
    rows: Vec<Raw>,
    payloads: Payloads,
}

impl Pending {
    /// Record the payloads of one event, returning their shape ids; on error nothing of
    /// them is kept.
    fn record(&mut self, m: &Bound<'_, PyDict>, md: &Bound<'_, PyDict>) -> PyResult<[u32; 2]> {
        let start = self.payloads.values_len();
        let shapes = self
            .payloads
            .record(0, m)
            .and_then(|sm| Ok([sm, self.payloads.record(1, md)?]));
        if shapes.is_err() {
            self.payloads.truncate(start);
        }
        shapes
    }

    /// The oldest `limit` (at least one) events and their payloads.
    fn take(&mut self, limit: usize) -> Option<(Vec<Raw>, Snapshot)> {
        if self.rows.is_empty() {
            return None;
        }
        let limit = limit.max(1);
        if self.rows.len() <= limit {
            let capacity = self.rows.len();
            let rows = std::mem::replace(&mut self.rows, Vec::with_capacity(capacity));
            return Some((rows, self.payloads.take_all()));
        }
        let n: usize = self
            .rows
            .iter()
            .take(limit)
            .map(|r| self.payloads.width(r.shapes[0]) + self.payloads.width(r.shapes[1]))
            .sum();
        let rest = self.rows.split_off(limit);
        let rows = std::mem::replace(&mut self.rows, rest);
        Some((rows, self.payloads.take_head(n)))
    }
}

/// The buffer of one experiment stream; its `capture` method is the bus handler.
#[pyclass(module = "crucible._core", frozen)]
pub struct CaptureBuffer {
    pending: Mutex<Pending>,
    owner: Mutex<Option<Py<PyAny>>>,
    owner_addr: usize,
    correlation: Py<PyAny>,
    scope: Option<Py<PyAny>>,
    batch_size: usize,
    high_water: usize,
    clock: MonotonicClock,
}

impl CaptureBuffer {
    /// Reads the correlation id and records the event with a snapshot of its payloads.
    fn keep(
        &self,
        py: Python<'_>,
        event_name: Bound<'_, PyAny>,
        measurements: Bound<'_, PyAny>,
        metadata: Bound<'_, PyAny>,
        (wall_us, mono_ns): (i64, i64),
        weight: f64,
    ) -> PyResult<()> {
        let m = as_dict(measurements)?;
        let md = as_dict(metadata)?;
        let corr = self.correlation.bind(py).call0()?;
        // Nothing is dropped under the lock: on error the guard goes first, then the rest.
        let waiting = {
            let mut pending = locked(&self.pending)?;
            let shapes = pending.record(&m, &md)?;
            pending.rows.push(Raw {
                name: event_name.unbind(),
                shapes,
                wall_us,
                mono_ns,
                corr: corr.unbind(),
                weight,
            });
            pending.rows.len()
        };
        if waiting >= self.batch_size {
            let owner = locked(&self.owner)?.as_ref().map(|o| o.clone_ref(py));
            if let Some(owner) = owner {
                let kwargs = PyDict::new(py);
                kwargs.set_item(pyo3::intern!(py, "block"), waiting >= self.high_water)?;
                owner.call_method(py, pyo3::intern!(py, "_drain"), (), Some(&kwargs))?;
            }
        }
        Ok(())
    }

    fn in_scope(&self, py: Python<'_>) -> PyResult<bool> {
        match &self.scope {
            None => Ok(true),
            Some(var) => Ok(var.bind(py).call0()?.as_ptr() as usize == self.owner_addr),
        }
    }
}

#[pymethods]
impl CaptureBuffer {
    /// `owner`: the experiment (its `_drain(block=...)` runs when `batch_size` events wait,
    /// blocking from `high_water` on); `correlation`: the correlation-id ContextVar;
    /// `monotonic_ns`: Python's `time.monotonic_ns` (anchors the clock); `scope`: when
    /// given, a ContextVar that must hold `owner` for an event to be captured.
    #[new]
    #[pyo3(signature = (owner, correlation, monotonic_ns, *, batch_size, high_water, scope = None))]
    fn new(
        owner: Bound<'_, PyAny>,
        correlation: Bound<'_, PyAny>,
        monotonic_ns: Bound<'_, PyAny>,
        batch_size: usize,
        high_water: usize,
        scope: Option<Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let correlation = getter_of(&correlation)?;
        let scope = scope.map(|s| getter_of(&s)).transpose()?;
        if batch_size == 0 {
            return Err(super::errors::invalid("batch_size must be >= 1"));
        }
        let mut failed = None;
        let clock =
            MonotonicClock::anchored(|| match monotonic_ns.call0().and_then(|v| v.extract()) {
                Ok(ns) => ns,
                Err(e) => {
                    failed = Some(e);
                    0
                }
            });
        if let Some(e) = failed {
            return Err(e);
        }
        Ok(CaptureBuffer {
            pending: Mutex::new(Pending::default()),
            owner_addr: owner.as_ptr() as usize,
            owner: Mutex::new(Some(owner.unbind())),
            correlation: correlation.unbind(),
            scope: scope.map(Bound::unbind),
            batch_size,
            high_water: high_water.max(batch_size),
            clock,
        })
    }

    /// The bus handler: `capture(event_name, measurements, metadata, config)`.
    fn capture(
        &self,
        py: Python<'_>,
        event_name: Bound<'_, PyAny>,
        measurements: Bound<'_, PyAny>,
        metadata: Bound<'_, PyAny>,
        config: Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let _ = config;
        if !self.in_scope(py)? {
            return Ok(());
        }
        let stamp = (wall_us(), self.clock.now_ns());
        self.keep(py, event_name, measurements, metadata, stamp, 1.0)
    }

    /// Whether an event emitted now would be captured (the scope check of `capture`).
    fn in_scope_now(&self, py: Python<'_>) -> PyResult<bool> {
        self.in_scope(py)
    }

    /// (Unix µs, monotonic ns) now, on the clocks `capture` uses.
    fn now(&self) -> (i64, i64) {
        (wall_us(), self.clock.now_ns())
    }

    /// Record an event whose timestamps were taken with `now()` (the sampled path);
    /// `stamp` is the `(wall_time_us, monotonic_ns)` of `now()`.
    fn push(
        &self,
        py: Python<'_>,
        event_name: Bound<'_, PyAny>,
        measurements: Bound<'_, PyAny>,
        metadata: Bound<'_, PyAny>,
        stamp: (i64, i64),
        weight: f64,
    ) -> PyResult<()> {
        self.keep(py, event_name, measurements, metadata, stamp, weight)
    }

    /// Take up to `limit` of the oldest events (None when there are none).
    fn take(&self, limit: usize) -> PyResult<Option<RawBatch>> {
        let taken = locked(&self.pending)?.take(limit);
        Ok(taken.map(|(rows, payloads)| RawBatch::new(rows, payloads)))
    }

    /// Drop every waiting event (a forked child: they belong to the parent).
    fn clear(&self) -> PyResult<()> {
        let dropped = std::mem::take(&mut *locked(&self.pending)?);
        drop(dropped);
        Ok(())
    }

    /// Forget the owner (on stop), breaking the owner <-> buffer cycle.
    fn release(&self) -> PyResult<()> {
        let owner = locked(&self.owner)?.take();
        drop(owner);
        Ok(())
    }

    fn __len__(&self) -> PyResult<usize> {
        Ok(locked(&self.pending)?.rows.len())
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        if let Ok(owner) = self.owner.try_lock() {
            if let Some(o) = owner.as_ref() {
                visit.call(o)?;
            }
        }
        Ok(())
    }

    fn __clear__(&self) {
        let owner = self.owner.try_lock().ok().and_then(|mut o| o.take());
        drop(owner);
    }
}

/// Per row the index of its name, and the distinct names.
type NameCodes = (Vec<u32>, Vec<Py<PyAny>>);

/// Events taken from a buffer, oldest first, waiting to be finalised.
#[pyclass(module = "crucible._core", frozen)]
pub struct RawBatch {
    taken: Mutex<Taken>,
    codes: Mutex<Option<NameCodes>>,
}

/// The rows of a [`RawBatch`] and their payloads.
#[derive(Default)]
struct Taken {
    rows: Vec<Raw>,
    payloads: Snapshot,
}

/// A payload to rebuild as a dict: its shape and its values.
type Payload = (Arc<Shape>, Vec<Py<PyAny>>);

impl RawBatch {
    fn new(rows: Vec<Raw>, payloads: Snapshot) -> Self {
        RawBatch {
            taken: Mutex::new(Taken { rows, payloads }),
            codes: Mutex::new(None),
        }
    }

    /// Per row, the index of its name among the distinct names (first appearance order).
    fn name_codes(&self, py: Python<'_>) -> PyResult<NameCodes> {
        if let Some((codes, names)) = locked(&self.codes)?.as_ref() {
            return Ok((
                codes.clone(),
                names.iter().map(|n| n.clone_ref(py)).collect(),
            ));
        }
        // Runs of rows with the same name object, read under the lock (increfs only); the
        // names are hashed (which may run Python code) after it.
        let runs: Vec<(Py<PyAny>, usize)> = {
            let taken = locked(&self.taken)?;
            let mut runs: Vec<(Py<PyAny>, usize)> = Vec::new();
            for r in &taken.rows {
                match runs.last_mut() {
                    Some((name, n)) if name.as_ptr() == r.name.as_ptr() => *n += 1,
                    _ => runs.push((r.name.clone_ref(py), 1)),
                }
            }
            runs
        };
        let index = PyDict::new(py);
        let mut distinct: Vec<Py<PyAny>> = Vec::new();
        let mut codes = Vec::with_capacity(runs.iter().map(|(_, n)| n).sum());
        for (name, n) in &runs {
            let bound = name.bind(py);
            let code = match index.get_item(bound)? {
                Some(c) => c.extract::<u32>()?,
                None => {
                    let c = u32::try_from(distinct.len())
                        .map_err(|_| super::errors::invalid("too many event names"))?;
                    index.set_item(bound, c)?;
                    distinct.push(name.clone_ref(py));
                    c
                }
            };
            codes.extend(std::iter::repeat_n(code, *n));
        }
        let out = (
            codes.clone(),
            distinct.iter().map(|n| n.clone_ref(py)).collect(),
        );
        *locked(&self.codes)? = Some((codes, distinct));
        Ok(out)
    }
}

#[pymethods]
impl RawBatch {
    fn __len__(&self) -> PyResult<usize> {
        Ok(locked(&self.taken)?.rows.len())
    }

    /// The distinct event names, in order of first appearance (their codes are 0, 1, ...).
    fn names<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let (_, names) = self.name_codes(py)?;
        PyList::new(py, names)
    }

    /// (row, measurements, metadata) of the rows whose name has code `code`, the payloads
    /// as new dicts.
    fn payloads<'py>(&self, py: Python<'py>, code: u32) -> PyResult<Bound<'py, PyList>> {
        let (codes, _) = self.name_codes(py)?;
        // Shapes and values are picked under the lock; dicts are built (keys hashed) after.
        let picked: Vec<(usize, Payload, Payload)> = {
            let taken = locked(&self.taken)?;
            let Snapshot { shapes, values } = &taken.payloads;
            let mut at = 0;
            let mut picked = Vec::new();
            for (i, (raw, &c)) in taken.rows.iter().zip(codes.iter()).enumerate() {
                let [m, md] = raw.shapes.map(|id| shapes.get(id as usize));
                let (wm, wmd) = (width(shapes, raw.shapes[0]), width(shapes, raw.shapes[1]));
                if c == code {
                    let part = |from: usize, n: usize| -> Vec<Py<PyAny>> {
                        values
                            .get(from..from + n)
                            .unwrap_or_default()
                            .iter()
                            .map(|v| v.clone_ref(py))
                            .collect()
                    };
                    if let (Some(m), Some(md)) = (m, md) {
                        picked.push((
                            i,
                            (Arc::clone(m), part(at, wm)),
                            (Arc::clone(md), part(at + wm, wmd)),
                        ));
                    }
                }
                at += wm + wmd;
            }
            picked
        };
        let tuples = picked
            .into_iter()
            .map(|(i, (m, mv), (md, mdv))| {
                PyTuple::new(
                    py,
                    [
                        i.into_pyobject(py)?.into_any(),
                        m.dict(py, &mv)?.into_any(),
                        md.dict(py, &mdv)?.into_any(),
                    ],
                )
            })
            .collect::<PyResult<Vec<_>>>()?;
        PyList::new(py, tuples)
    }

    /// Finalise into columns (see `telemetry_finalize::finalize`); consumes the rows.
    #[pyo3(signature = (header, categories, lifted, rejected, seq_start, rates_of))]
    #[allow(clippy::too_many_arguments)]
    fn finalize(
        &self,
        py: Python<'_>,
        header: Bound<'_, PyTuple>,
        categories: Vec<Bound<'_, PyAny>>,
        lifted: Vec<Vec<Bound<'_, PyAny>>>,
        rejected: Vec<usize>,
        seq_start: i64,
        rates_of: Bound<'_, PyAny>,
    ) -> PyResult<telemetry_columns::CapturedColumns> {
        let (codes, names) = self.name_codes(py)?;
        if categories.len() != names.len() || lifted.len() != names.len() {
            return Err(super::errors::invalid(
                "one category and lifted list per name",
            ));
        }
        let Taken { rows, payloads } = std::mem::take(&mut *locked(&self.taken)?);
        telemetry_finalize::finalize(
            py,
            telemetry_finalize::Input {
                rows,
                payloads,
                codes,
                names,
                header,
                categories,
                lifted,
                rejected,
                seq_start,
                rates_of,
            },
        )
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<CaptureBuffer>()?;
    m.add_class::<RawBatch>()?;
    m.add_class::<telemetry_columns::CapturedColumns>()?;
    m.add(
        "TELEMETRY_TOKEN_KEYS",
        (
            crate::telemetry::derive::INPUT_TOKEN_KEYS,
            crate::telemetry::derive::OUTPUT_TOKEN_KEYS,
            crate::telemetry::derive::CACHED_TOKEN_KEYS,
        ),
    )?;
    Ok(())
}
