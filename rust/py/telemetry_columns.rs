//! Finalised telemetry events kept as columns (made by `telemetry_finalize`).
//!
//! [`CapturedColumns`] holds one compact row per event plus what the whole batch shares
//! (experiment, stream, node, the distinct names, the payload shapes and values): nothing is
//! built per event for Python until someone asks, so a store that keeps the columns (the
//! memory store) pays no per-event object cost, and `events(rows, cls)` materialises
//! `CapturedEvent`s (measurements and metadata rebuilt as plain dicts from their shapes and
//! values) for the ones that are read.

use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString, PyTuple};

use super::telemetry_rows::Row;
use super::telemetry_shapes::Shape;
use crate::telemetry::rollup::{rollups, Contribution};

/// What the batch shares: (experiment_id, experiment_name, condition, tags, stream_id,
/// node_id) as given, plus the stream id as text for event ids.
struct Header {
    fields: Py<PyTuple>,
    stream: String,
}

impl CapturedColumns {
    /// Columns over `rows`; `header` is (experiment_id, experiment_name, condition, tags,
    /// stream_id, node_id), `names`/`categories` are indexed by the rows' name codes.
    /// `shared` holds the shapes and the values the rows' `shapes` and `at` refer to, and
    /// the objects of their texts and correlation ids.
    pub(super) fn new(
        header: Bound<'_, PyTuple>,
        stream: String,
        (names, categories): (Vec<Py<PyAny>>, Vec<Py<PyAny>>),
        shared: Shared,
        rows: Vec<Row>,
    ) -> Self {
        CapturedColumns {
            header: Header {
                fields: header.unbind(),
                stream,
            },
            names,
            categories,
            shared: Arc::new(shared),
            rows,
        }
    }
}

/// What the rows of a batch refer to (shared by the batches `tail` makes): payload shapes
/// and values, and the objects of texts and correlation ids.
pub(super) struct Shared {
    pub(super) shapes: Vec<Arc<Shape>>,
    pub(super) values: Vec<Py<PyAny>>,
    pub(super) objects: Vec<Py<PyAny>>,
}

impl Shared {
    /// The measurements and metadata of `row` as new plain dicts.
    fn dicts<'py>(&self, py: Python<'py>, row: &Row) -> PyResult<[Bound<'py, PyAny>; 2]> {
        let mut at = row.at;
        let mut out = [PyDict::new(py).into_any(), PyDict::new(py).into_any()];
        for (slot, id) in out.iter_mut().zip(row.shapes) {
            let shape = self
                .shapes
                .get(id as usize)
                .ok_or_else(|| super::errors::invalid(format!("unknown payload shape {id}")))?;
            let values = self
                .values
                .get(at..at + shape.len())
                .ok_or_else(|| super::errors::invalid("payload values out of range"))?;
            *slot = shape.dict(py, values)?.into_any();
            at += shape.len();
        }
        Ok(out)
    }
}

/// Finalised events of one stream as columns (see the module docs).
#[pyclass(module = "crucible._core", frozen)]
pub struct CapturedColumns {
    header: Header,
    names: Vec<Py<PyAny>>,
    categories: Vec<Py<PyAny>>,
    shared: Arc<Shared>,
    rows: Vec<Row>,
}

fn opt_f64(py: Python<'_>, v: Option<f64>) -> PyResult<Py<PyAny>> {
    Ok(v.into_pyobject(py)?.into_any().unbind())
}

impl CapturedColumns {
    fn picked<'a>(&'a self, rows: &'a [usize]) -> impl Iterator<Item = PyResult<&'a Row>> + 'a {
        rows.iter().map(|&i| {
            self.rows
                .get(i)
                .ok_or_else(|| super::errors::invalid(format!("row {i} out of range")))
        })
    }

    fn event_id(&self, row: &Row) -> String {
        format!("{}-{:x}", self.header.stream, row.seq)
    }

    fn header_item<'py>(&self, py: Python<'py>, i: usize) -> PyResult<Bound<'py, PyAny>> {
        self.header.fields.bind(py).get_item(i)
    }

    fn by_code<'py>(list: &[Py<PyAny>], py: Python<'py>, code: u32) -> Bound<'py, PyAny> {
        list.get(code as usize)
            .map_or_else(|| py.None().into_bound(py), |o| o.bind(py).clone())
    }

    /// The value of one scalar column (a `COLUMN_KINDS` key) for one row.
    fn cell<'py>(&self, py: Python<'py>, row: &Row, column: &str) -> PyResult<Bound<'py, PyAny>> {
        let objects = &self.shared.objects;
        let text = |i: usize| -> Bound<'py, PyAny> {
            row.text(objects, i)
                .map_or_else(|| py.None().into_bound(py), |t| t.bind(py).clone())
        };
        let numbers = row.numbers();
        Ok(match column {
            "event_id" => PyString::new(py, &self.event_id(row)).into_any(),
            "event_name" => {
                let name = Self::by_code(&self.names, py, row.name);
                let parts: Vec<String> = name.extract()?;
                PyString::new(py, &parts.join(".")).into_any()
            }
            "experiment_id" => self.header_item(py, 0)?,
            "experiment_name" => self.header_item(py, 1)?,
            "condition" => self.header_item(py, 2)?,
            "tags" => self.header_item(py, 3)?,
            "stream_id" => self.header_item(py, 4)?,
            "node_id" => self.header_item(py, 5)?,
            "correlation_id" => row
                .corr(objects)
                .map_or_else(|| py.None().into_bound(py), |c| c.bind(py).clone()),
            "sequence" => row.seq.into_pyobject(py)?.into_any(),
            "wall_time_us" => row.wall_us.into_pyobject(py)?.into_any(),
            "monotonic_ns" => row.mono_ns.into_pyobject(py)?.into_any(),
            "category" => Self::by_code(&self.categories, py, row.name),
            "latency_ms" => opt_f64(py, numbers.latency_ms)?.into_bound(py),
            "cost_usd" => opt_f64(py, numbers.cost_usd)?.into_bound(py),
            "success" => numbers.success.into_pyobject(py)?.into_any(),
            "tokens_in" => numbers.tokens_in.into_pyobject(py)?.into_any(),
            "tokens_out" => numbers.tokens_out.into_pyobject(py)?.into_any(),
            "model" => text(0),
            "provider" => text(1),
            "error" => text(2),
            "session_id" => text(3),
            "user_id" => text(4),
            "sample_id" => text(5),
            "cohort" => text(6),
            "weight" => row.weight.into_pyobject(py)?.into_any(),
            other => return Err(super::errors::invalid(format!("unknown column {other:?}"))),
        })
    }
}

const FIELDS: [&str; 29] = [
    "event_id",
    "event_name",
    "experiment_id",
    "experiment_name",
    "condition",
    "tags",
    "correlation_id",
    "stream_id",
    "sequence",
    "wall_time_us",
    "monotonic_ns",
    "node_id",
    "category",
    "measurements",
    "metadata",
    "latency_ms",
    "cost_usd",
    "success",
    "model",
    "provider",
    "tokens_in",
    "tokens_out",
    "error",
    "session_id",
    "user_id",
    "sample_id",
    "cohort",
    "derived",
    "weight",
];

#[pymethods]
impl CapturedColumns {
    fn __len__(&self) -> usize {
        self.rows.len()
    }

    /// (experiment_id, experiment_name, condition, tags, stream_id, node_id).
    #[getter]
    fn header<'py>(&self, py: Python<'py>) -> Bound<'py, PyTuple> {
        self.header.fields.bind(py).clone()
    }

    /// The distinct event names; rows refer to them by index.
    #[getter]
    fn names<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        PyList::new(py, self.names.iter().map(|n| n.bind(py)))
    }

    /// Rows whose name index is in `codes` (all when None) and whose wall time lies in
    /// `[since_us, until_us)`.
    #[pyo3(signature = (codes, since_us, until_us))]
    fn matching(
        &self,
        codes: Option<Vec<u32>>,
        since_us: Option<i64>,
        until_us: Option<i64>,
    ) -> Vec<usize> {
        let lo = since_us.unwrap_or(i64::MIN);
        let hi = until_us.map_or(i128::from(i64::MAX) + 1, i128::from);
        self.rows
            .iter()
            .enumerate()
            .filter(|(_, r)| {
                r.wall_us >= lo
                    && i128::from(r.wall_us) < hi
                    && codes.as_ref().is_none_or(|c| c.contains(&r.name))
            })
            .map(|(i, _)| i)
            .collect()
    }

    /// (wall_time_us, event_id) of the given rows: the store's sort key.
    fn sort_keys(&self, rows: Vec<usize>) -> PyResult<Vec<(i64, String)>> {
        self.picked(&rows)
            .map(|r| r.map(|row| (row.wall_us, self.event_id(row))))
            .collect()
    }

    /// The event ids of all rows.
    fn event_ids(&self) -> Vec<String> {
        self.rows.iter().map(|r| self.event_id(r)).collect()
    }

    /// Runs of consecutive sequence numbers, as [lo, hi), of the first `stop` rows.
    fn seq_runs(&self, stop: usize) -> Vec<(i64, i64)> {
        let mut runs: Vec<(i64, i64)> = Vec::new();
        for row in self.rows.iter().take(stop) {
            match runs.last_mut() {
                Some((_, hi)) if *hi == row.seq => *hi += 1,
                _ => runs.push((row.seq, row.seq + 1)),
            }
        }
        runs
    }

    /// The rows from `start` on, as a new batch (eviction of the head).
    fn tail(&self, py: Python<'_>, start: usize) -> CapturedColumns {
        CapturedColumns {
            header: Header {
                fields: self.header.fields.clone_ref(py),
                stream: self.header.stream.clone(),
            },
            names: self.names.iter().map(|n| n.clone_ref(py)).collect(),
            categories: self.categories.iter().map(|n| n.clone_ref(py)).collect(),
            shared: Arc::clone(&self.shared),
            rows: self
                .rows
                .iter()
                .skip(start)
                .map(|r| r.clone_ref(py))
                .collect(),
        }
    }

    /// The given rows (all when None) as `cls(**fields)` objects (`cls`: CapturedEvent).
    #[pyo3(signature = (rows, cls))]
    fn events<'py>(
        &self,
        py: Python<'py>,
        rows: Option<Vec<usize>>,
        cls: Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyList>> {
        let all: Vec<usize>;
        let rows = match rows {
            Some(r) => r,
            None => {
                all = (0..self.rows.len()).collect();
                all
            }
        };
        let keys: Vec<Bound<'py, PyString>> =
            FIELDS.iter().map(|f| PyString::intern(py, f)).collect();
        let out = PyList::empty(py);
        for row in self.picked(&rows) {
            let row = row?;
            let kw = PyDict::new(py);
            let [m, md] = self.shared.dicts(py, row)?;
            for (key, field) in keys.iter().zip(FIELDS) {
                let value = match field {
                    "event_name" => Self::by_code(&self.names, py, row.name),
                    "measurements" => m.clone(),
                    "metadata" => md.clone(),
                    "derived" => match &row.derived {
                        Some(d) => d.bind(py).clone().into_any(),
                        None => PyDict::new(py).into_any(),
                    },
                    other => self.cell(py, row, other)?,
                };
                kw.set_item(key, value)?;
            }
            out.append(cls.call((), Some(&kw))?)?;
        }
        Ok(out)
    }

    /// The named scalar columns of the given rows, as lists of Python values.
    fn columns<'py>(
        &self,
        py: Python<'py>,
        names: Vec<String>,
        rows: Vec<usize>,
    ) -> PyResult<Vec<Bound<'py, PyList>>> {
        names
            .iter()
            .map(|c| {
                let cells = self
                    .picked(&rows)
                    .map(|r| r.and_then(|row| self.cell(py, row, c)))
                    .collect::<PyResult<Vec<_>>>()?;
                PyList::new(py, cells)
            })
            .collect()
    }

    /// The rollups of all rows, per (name index, window) in order of first appearance:
    /// (name index, window_start_us, count, weight_sum, success_count, error_count,
    /// latency_count, latency_sum, latency_sum_sq, latency_min, latency_max,
    /// {bucket: count}, cost_usd, tokens_in, tokens_out).
    fn rollups<'py>(&self, py: Python<'py>, window_us: i64) -> PyResult<Bound<'py, PyList>> {
        if window_us < 1 {
            return Err(super::errors::invalid("window_us must be positive"));
        }
        let groups = rollups(
            self.rows.iter().map(|r| {
                let n = r.numbers();
                (
                    r.name,
                    r.wall_us,
                    Contribution {
                        weight: r.weight,
                        success: n.success,
                        latency_ms: n.latency_ms,
                        cost_usd: n.cost_usd,
                        tokens_in: n.tokens_in,
                        tokens_out: n.tokens_out,
                    },
                )
            }),
            window_us,
        );
        let out = PyList::empty(py);
        for g in groups {
            let hist = PyDict::new(py);
            for (bucket, n) in &g.latency_hist {
                hist.set_item(bucket, n)?;
            }
            let item: [Bound<'py, PyAny>; 15] = [
                g.name.into_pyobject(py)?.into_any(),
                g.window_start_us.into_pyobject(py)?.into_any(),
                g.count.into_pyobject(py)?.into_any(),
                g.weight_sum.into_pyobject(py)?.into_any(),
                g.success_count.into_pyobject(py)?.into_any(),
                g.error_count.into_pyobject(py)?.into_any(),
                g.latency_count.into_pyobject(py)?.into_any(),
                g.latency_sum.into_pyobject(py)?.into_any(),
                g.latency_sum_sq.into_pyobject(py)?.into_any(),
                opt_f64(py, g.latency_min)?.into_bound(py),
                opt_f64(py, g.latency_max)?.into_bound(py),
                hist.into_any(),
                g.cost_usd.into_pyobject(py)?.into_any(),
                g.tokens_in.into_pyobject(py)?.into_any(),
                g.tokens_out.into_pyobject(py)?.into_any(),
            ];
            out.append(PyTuple::new(py, item)?)?;
        }
        Ok(out)
    }
}
