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
    /// The rows asked for: all of them when None.
    fn row_list(&self, rows: Option<Vec<usize>>) -> Vec<usize> {
        rows.unwrap_or_else(|| (0..self.rows.len()).collect())
    }

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
        match Column::scalar(column) {
            Some(col) => self.value(py, row, col, None),
            None => Err(super::errors::invalid(format!("unknown column {column:?}"))),
        }
    }

    /// The value of `col` for one row (`payloads`: the row's measurements and metadata
    /// dicts, which callers asking for those two columns build once per row).
    fn value<'py>(
        &self,
        py: Python<'py>,
        row: &Row,
        col: Column,
        payloads: Option<&[Bound<'py, PyAny>; 2]>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let objects = &self.shared.objects;
        let none = || py.None().into_bound(py);
        let numbers = row.numbers();
        Ok(match col {
            Column::EventId => PyString::new(py, &self.event_id(row)).into_any(),
            Column::EventName => Self::by_code(&self.names, py, row.name),
            Column::DottedName => {
                let name = Self::by_code(&self.names, py, row.name);
                let parts: Vec<String> = name.extract()?;
                PyString::new(py, &parts.join(".")).into_any()
            }
            Column::Header(i) => self.header_item(py, i)?,
            Column::Correlation => row.corr(objects).map_or_else(none, |c| c.bind(py).clone()),
            Column::Sequence => row.seq.into_pyobject(py)?.into_any(),
            Column::WallTime => row.wall_us.into_pyobject(py)?.into_any(),
            Column::Monotonic => row.mono_ns.into_pyobject(py)?.into_any(),
            Column::Category => Self::by_code(&self.categories, py, row.name),
            Column::Latency => opt_f64(py, numbers.latency_ms)?.into_bound(py),
            Column::Cost => opt_f64(py, numbers.cost_usd)?.into_bound(py),
            Column::Success => numbers.success.into_pyobject(py)?.into_any(),
            Column::TokensIn => numbers.tokens_in.into_pyobject(py)?.into_any(),
            Column::TokensOut => numbers.tokens_out.into_pyobject(py)?.into_any(),
            Column::Text(i) => row
                .text(objects, i)
                .map_or_else(none, |t| t.bind(py).clone()),
            Column::Weight => row.weight.into_pyobject(py)?.into_any(),
            Column::Payload(i) => payloads
                .and_then(|p| p.get(i))
                .cloned()
                .ok_or_else(|| super::errors::invalid("payload columns need the row's dicts"))?,
            Column::Derived => match &row.derived {
                Some(d) => d.bind(py).clone().into_any(),
                None => PyDict::new(py).into_any(),
            },
        })
    }
}

/// A field of `CapturedEvent` (or the dotted event name of `COLUMN_KINDS`), resolved once
/// per column so that per-row work is a jump, not a string comparison.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Column {
    EventId,
    EventName,
    DottedName,
    Header(usize),
    Correlation,
    Sequence,
    WallTime,
    Monotonic,
    Category,
    Latency,
    Cost,
    Success,
    TokensIn,
    TokensOut,
    Text(usize),
    Weight,
    Payload(usize),
    Derived,
}

impl Column {
    /// The column of a `CapturedEvent` field name; `"event_name"` is the name tuple here
    /// (the dotted form is what [`CapturedColumns::cell`] means by it).
    fn of(name: &str) -> Option<Column> {
        Some(match name {
            "event_id" => Column::EventId,
            "event_name" => Column::EventName,
            "experiment_id" => Column::Header(0),
            "experiment_name" => Column::Header(1),
            "condition" => Column::Header(2),
            "tags" => Column::Header(3),
            "stream_id" => Column::Header(4),
            "node_id" => Column::Header(5),
            "correlation_id" => Column::Correlation,
            "sequence" => Column::Sequence,
            "wall_time_us" => Column::WallTime,
            "monotonic_ns" => Column::Monotonic,
            "category" => Column::Category,
            "latency_ms" => Column::Latency,
            "cost_usd" => Column::Cost,
            "success" => Column::Success,
            "tokens_in" => Column::TokensIn,
            "tokens_out" => Column::TokensOut,
            "model" => Column::Text(0),
            "provider" => Column::Text(1),
            "error" => Column::Text(2),
            "session_id" => Column::Text(3),
            "user_id" => Column::Text(4),
            "sample_id" => Column::Text(5),
            "cohort" => Column::Text(6),
            "weight" => Column::Weight,
            "measurements" => Column::Payload(0),
            "metadata" => Column::Payload(1),
            "derived" => Column::Derived,
            _ => return None,
        })
    }

    /// The column of a scalar `COLUMN_KINDS` name (what `cell` serves): no payloads, and
    /// the event name dotted.
    fn scalar(name: &str) -> Option<Column> {
        match Column::of(name)? {
            Column::EventName => Some(Column::DottedName),
            Column::Payload(_) | Column::Derived => None,
            col => Some(col),
        }
    }
}

/// The fields of `CapturedEvent` in order: interned names and their columns.
fn event_fields(py: Python<'_>) -> PyResult<Vec<(Bound<'_, PyString>, Column)>> {
    FIELDS
        .iter()
        .map(|f| {
            Column::of(f)
                .map(|col| (PyString::intern(py, f), col))
                .ok_or_else(|| super::errors::invalid(format!("no column for field {f:?}")))
        })
        .collect()
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
        let rows = self.row_list(rows);
        let fields = event_fields(py)?;
        let out = PyList::empty(py);
        for row in self.picked(&rows) {
            let row = row?;
            let kw = PyDict::new(py);
            let payloads = self.shared.dicts(py, row)?;
            for (key, col) in &fields {
                kw.set_item(key, self.value(py, row, *col, Some(&payloads))?)?;
            }
            out.append(cls.call((), Some(&kw))?)?;
        }
        Ok(out)
    }

    /// Every field of the given rows (all when None), one list per field in
    /// `CapturedEvent`'s order: the values `events` would build the objects from, for a
    /// store that keeps columns anyway (no object, no keyword dict per event). Fields the
    /// whole batch shares are one object repeated.
    #[pyo3(signature = (rows = None))]
    fn field_lists<'py>(
        &self,
        py: Python<'py>,
        rows: Option<Vec<usize>>,
    ) -> PyResult<Vec<Bound<'py, PyList>>> {
        let rows = self.row_list(rows);
        let picked = self.picked(&rows).collect::<PyResult<Vec<&Row>>>()?;
        let mut payloads: [Vec<Bound<'py, PyAny>>; 2] = Default::default();
        for row in &picked {
            let [m, md] = self.shared.dicts(py, row)?;
            payloads[0].push(m);
            payloads[1].push(md);
        }
        let [measurements, metadata] = payloads;
        let mut lists = Vec::with_capacity(FIELDS.len());
        for (_, col) in event_fields(py)? {
            let values = match col {
                Column::Payload(0) => measurements.clone(),
                Column::Payload(_) => metadata.clone(),
                Column::Header(i) => {
                    let shared = self.header_item(py, i)?;
                    vec![shared; picked.len()]
                }
                _ => picked
                    .iter()
                    .map(|row| self.value(py, row, col, None))
                    .collect::<PyResult<Vec<_>>>()?,
            };
            lists.push(PyList::new(py, values)?);
        }
        Ok(lists)
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
