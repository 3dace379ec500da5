//! The capture hot path of `crucible.telemetry`: a bus handler that records events into a
//! buffer, and the buffer's hand-over to finalisation.
//!
//! `CaptureBuffer.capture` is attached to the event bus as the experiment's handler, so
//! each event costs one call into Rust: the scope check, the two timestamps, the correlation
//! id (a `ContextVar` read by its C `get`), a shallow copy of measurements and metadata
//! (an emitter may reuse its dicts) and a push under a mutex. When `batch_size` events are
//! waiting it calls the experiment's `_drain`, which takes them out as one [`RawBatch`] and
//! finalises it (`telemetry_columns.rs`).
//!
//! No Python object is created or dropped while a mutex is held, so a fork (which happens
//! with the GIL held, as every critical section here runs) never sees one locked.

use std::sync::{Mutex, MutexGuard};

use pyo3::exceptions::PyRuntimeError;
use pyo3::gc::{PyTraverseError, PyVisit};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};

use super::{telemetry_columns, telemetry_finalize};
use crate::telemetry::clock::{wall_us, MonotonicClock};

/// One event as captured, before finalisation.
pub struct Raw {
    pub name: Py<PyAny>,
    pub m: Py<PyDict>,
    pub md: Py<PyDict>,
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

/// A shallow copy as a plain dict (`dict(value)`).
fn copy_dict<'py>(value: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyDict>> {
    match value.cast::<PyDict>() {
        Ok(d) => d.copy(),
        Err(_) => Ok(value
            .py()
            .get_type::<PyDict>()
            .call1((value,))?
            .cast_into::<PyDict>()?),
    }
}

/// The buffer of one experiment stream; its `capture` method is the bus handler.
#[pyclass(module = "crucible._core", frozen)]
pub struct CaptureBuffer {
    rows: Mutex<Vec<Raw>>,
    owner: Mutex<Option<Py<PyAny>>>,
    owner_addr: usize,
    correlation: Py<PyAny>,
    scope: Option<Py<PyAny>>,
    batch_size: usize,
    high_water: usize,
    clock: MonotonicClock,
}

impl CaptureBuffer {
    /// Copies the payload dicts, reads the correlation id and records the event.
    fn keep(
        &self,
        py: Python<'_>,
        event_name: Bound<'_, PyAny>,
        measurements: &Bound<'_, PyAny>,
        metadata: &Bound<'_, PyAny>,
        (wall_us, mono_ns): (i64, i64),
        weight: f64,
    ) -> PyResult<()> {
        let m = copy_dict(measurements)?;
        let md = copy_dict(metadata)?;
        let corr = self.correlation.bind(py).call0()?;
        self.record(
            py,
            Raw {
                name: event_name.unbind(),
                m: m.unbind(),
                md: md.unbind(),
                wall_us,
                mono_ns,
                corr: corr.unbind(),
                weight,
            },
        )
    }

    fn record(&self, py: Python<'_>, raw: Raw) -> PyResult<()> {
        let waiting = {
            let mut rows = locked(&self.rows)?;
            rows.push(raw);
            rows.len()
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
            rows: Mutex::new(Vec::new()),
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
        self.keep(py, event_name, &measurements, &metadata, stamp, 1.0)
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
        self.keep(py, event_name, &measurements, &metadata, stamp, weight)
    }

    /// Take up to `limit` of the oldest events (None when there are none).
    fn take(&self, limit: usize) -> PyResult<Option<RawBatch>> {
        let taken = {
            let mut rows = locked(&self.rows)?;
            if rows.is_empty() {
                return Ok(None);
            }
            if rows.len() <= limit.max(1) {
                std::mem::take(&mut *rows)
            } else {
                let rest = rows.split_off(limit.max(1));
                std::mem::replace(&mut *rows, rest)
            }
        };
        Ok(Some(RawBatch::new(taken)))
    }

    /// Drop every waiting event (a forked child: they belong to the parent).
    fn clear(&self) -> PyResult<()> {
        let dropped = std::mem::take(&mut *locked(&self.rows)?);
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
        Ok(locked(&self.rows)?.len())
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
    rows: Mutex<Vec<Raw>>,
    codes: Mutex<Option<NameCodes>>,
}

impl RawBatch {
    fn new(rows: Vec<Raw>) -> Self {
        RawBatch {
            rows: Mutex::new(rows),
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
        let names_of: Vec<Py<PyAny>> = locked(&self.rows)?
            .iter()
            .map(|r| r.name.clone_ref(py))
            .collect();
        let index = PyDict::new(py);
        let mut distinct: Vec<Py<PyAny>> = Vec::new();
        let mut codes = Vec::with_capacity(names_of.len());
        let mut last: Option<(usize, u32)> = None;
        for name in &names_of {
            let addr = name.as_ptr() as usize;
            let code = match last {
                Some((a, c)) if a == addr => c,
                _ => {
                    let bound = name.bind(py);
                    match index.get_item(bound)? {
                        Some(c) => c.extract::<u32>()?,
                        None => {
                            let c = u32::try_from(distinct.len())
                                .map_err(|_| super::errors::invalid("too many event names"))?;
                            index.set_item(bound, c)?;
                            distinct.push(name.clone_ref(py));
                            c
                        }
                    }
                }
            };
            last = Some((addr, code));
            codes.push(code);
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
        Ok(locked(&self.rows)?.len())
    }

    /// The distinct event names, in order of first appearance (their codes are 0, 1, ...).
    fn names<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let (_, names) = self.name_codes(py)?;
        PyList::new(py, names)
    }

    /// (row, measurements, metadata) of the rows whose name has code `code`.
    fn payloads<'py>(&self, py: Python<'py>, code: u32) -> PyResult<Bound<'py, PyList>> {
        let (codes, _) = self.name_codes(py)?;
        let items: Vec<(usize, Py<PyDict>, Py<PyDict>)> = locked(&self.rows)?
            .iter()
            .zip(codes.iter())
            .enumerate()
            .filter(|(_, (_, &c))| c == code)
            .map(|(i, (r, _))| (i, r.m.clone_ref(py), r.md.clone_ref(py)))
            .collect();
        let tuples = items
            .into_iter()
            .map(|(i, m, md)| {
                PyTuple::new(
                    py,
                    [
                        i.into_pyobject(py)?.into_any(),
                        m.into_bound(py).into_any(),
                        md.into_bound(py).into_any(),
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
        let rows = std::mem::take(&mut *locked(&self.rows)?);
        telemetry_finalize::finalize(
            py,
            telemetry_finalize::Input {
                rows,
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
