//! One finalised event as a compact row of [`CapturedColumns`](super::telemetry_columns).
//!
//! A store keeps every row it is given, so the row's size is memory written (and, for a
//! fresh page, zeroed by the kernel) per event. Options are packed as values plus one flag
//! byte, and the Python objects a row refers to (its correlation id, model, provider, error
//! and the other texts) are kept once per batch in an [`Objects`] table and named by index:
//! consecutive events mostly share them (the same model string, the same `None`
//! correlation), so the table holds a run of equal objects once, and dropping a batch
//! releases them once, not once per row.

use pyo3::prelude::*;
use pyo3::types::PyDict;

/// model, provider, error, session_id, user_id, sample_id, cohort
pub(super) const TEXTS: usize = 7;

/// An absent text.
const NO_TEXT: u32 = u32::MAX;

const HAS_LATENCY: u8 = 1;
const HAS_COST: u8 = 1 << 1;
const HAS_TOKENS_IN: u8 = 1 << 2;
const HAS_TOKENS_OUT: u8 = 1 << 3;
const HAS_SUCCESS: u8 = 1 << 4;
const SUCCESS: u8 = 1 << 5;

/// The derived numbers of an event, each of which may be missing.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(super) struct Numbers {
    pub(super) latency_ms: Option<f64>,
    pub(super) cost_usd: Option<f64>,
    pub(super) success: Option<bool>,
    pub(super) tokens_in: Option<i64>,
    pub(super) tokens_out: Option<i64>,
}

/// What a [`Row`] is made of; texts and the correlation id are [`Objects`] indices.
pub(super) struct Parts {
    pub(super) name: u32,
    pub(super) seq: i64,
    pub(super) wall_us: i64,
    pub(super) mono_ns: i64,
    pub(super) weight: f64,
    pub(super) corr: u32,
    pub(super) shapes: [u32; 2],
    pub(super) at: usize,
    pub(super) numbers: Numbers,
    pub(super) texts: [Option<u32>; TEXTS],
    pub(super) derived: Option<Py<PyDict>>,
}

/// One event (see the module docs).
pub(super) struct Row {
    pub(super) seq: i64,
    pub(super) wall_us: i64,
    pub(super) mono_ns: i64,
    pub(super) weight: f64,
    /// Where the values of measurements, then metadata, start in the batch's values.
    pub(super) at: usize,
    latency_ms: f64,
    cost_usd: f64,
    tokens_in: i64,
    tokens_out: i64,
    pub(super) derived: Option<Py<PyDict>>,
    pub(super) name: u32,
    corr: u32,
    /// Shape ids of measurements and metadata.
    pub(super) shapes: [u32; 2],
    texts: [u32; TEXTS],
    flags: u8,
}

impl From<Parts> for Row {
    fn from(p: Parts) -> Self {
        let n = p.numbers;
        let flag = |present: bool, bit: u8| if present { bit } else { 0 };
        Row {
            seq: p.seq,
            wall_us: p.wall_us,
            mono_ns: p.mono_ns,
            weight: p.weight,
            at: p.at,
            latency_ms: n.latency_ms.unwrap_or(0.0),
            cost_usd: n.cost_usd.unwrap_or(0.0),
            tokens_in: n.tokens_in.unwrap_or(0),
            tokens_out: n.tokens_out.unwrap_or(0),
            derived: p.derived,
            name: p.name,
            corr: p.corr,
            shapes: p.shapes,
            texts: p.texts.map(|t| t.unwrap_or(NO_TEXT)),
            flags: flag(n.latency_ms.is_some(), HAS_LATENCY)
                | flag(n.cost_usd.is_some(), HAS_COST)
                | flag(n.tokens_in.is_some(), HAS_TOKENS_IN)
                | flag(n.tokens_out.is_some(), HAS_TOKENS_OUT)
                | flag(n.success.is_some(), HAS_SUCCESS)
                | flag(n.success == Some(true), SUCCESS),
        }
    }
}

impl Row {
    pub(super) fn numbers(&self) -> Numbers {
        let has = |bit: u8| self.flags & bit != 0;
        Numbers {
            latency_ms: has(HAS_LATENCY).then_some(self.latency_ms),
            cost_usd: has(HAS_COST).then_some(self.cost_usd),
            success: has(HAS_SUCCESS).then_some(has(SUCCESS)),
            tokens_in: has(HAS_TOKENS_IN).then_some(self.tokens_in),
            tokens_out: has(HAS_TOKENS_OUT).then_some(self.tokens_out),
        }
    }

    /// Text `i` (model, provider, error, session_id, user_id, sample_id, cohort).
    pub(super) fn text<'a>(&self, objects: &'a [Py<PyAny>], i: usize) -> Option<&'a Py<PyAny>> {
        match self.texts.get(i) {
            Some(&NO_TEXT) | None => None,
            Some(&t) => objects.get(t as usize),
        }
    }

    pub(super) fn corr<'a>(&self, objects: &'a [Py<PyAny>]) -> Option<&'a Py<PyAny>> {
        objects.get(self.corr as usize)
    }

    pub(super) fn clone_ref(&self, py: Python<'_>) -> Row {
        Row {
            derived: self.derived.as_ref().map(|d| d.clone_ref(py)),
            ..*self
        }
    }
}

/// The objects rows refer to by index, a run of the same object (per column) kept once.
#[derive(Default)]
pub(super) struct Objects {
    items: Vec<Py<PyAny>>,
    last: [Option<(usize, u32)>; TEXTS + 1],
}

/// The [`Objects`] column of correlation ids (texts use 0..TEXTS).
pub(super) const CORRELATION: usize = TEXTS;

impl Objects {
    /// The index of `obj` in column `column` (< `TEXTS + 1`); a new reference is taken
    /// only when `obj` is not the column's last object.
    pub(super) fn index(&mut self, column: usize, obj: &Bound<'_, PyAny>) -> PyResult<u32> {
        let addr = obj.as_ptr() as usize;
        if let Some(Some((a, i))) = self.last.get(column) {
            if *a == addr {
                return Ok(*i);
            }
        }
        let i = u32::try_from(self.items.len())
            .ok()
            .filter(|&i| i != NO_TEXT)
            .ok_or_else(|| super::errors::invalid("too many distinct texts in one batch"))?;
        self.items.push(obj.clone().unbind());
        if let Some(slot) = self.last.get_mut(column) {
            *slot = Some((addr, i));
        }
        Ok(i)
    }

    pub(super) fn into_items(self) -> Vec<Py<PyAny>> {
        self.items
    }
}
