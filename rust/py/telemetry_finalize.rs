//! Finalisation of captured telemetry events into [`CapturedColumns`].
//!
//! Payloads arrive as shapes plus values (`telemetry_shapes.rs`), so which key feeds which
//! enrichment slot of `crate::telemetry::derive` (and which fields a category lifts) is
//! worked out once per shape (and name), not per event: per event `finalize` only classifies
//! the values in those positions, derives latency, outcome, error, model, tokens and cost,
//! lifts the category's fields, and numbers the events; rows rejected by validation are
//! skipped and take no number. Model prices are asked of Python once per model name and
//! batch.

use std::collections::HashMap;

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyString, PyTuple};

use super::telemetry::Raw;
use super::telemetry_columns::{CapturedColumns, Shared};
use super::telemetry_rows::{Numbers, Objects, Parts, Row, CORRELATION, TEXTS};
use super::telemetry_shapes::{Shape, Snapshot};
use crate::telemetry::derive::{
    derive, outcome_of, slot_of, Cost, Derived, ErrorText, Event, Fields, Outcome, Rates, Slot,
    Value,
};

/// The inputs of [`finalize`].
pub struct Input<'py> {
    pub rows: Vec<Raw>,
    pub payloads: Snapshot,
    pub codes: Vec<u32>,
    pub names: Vec<Py<PyAny>>,
    pub header: Bound<'py, PyTuple>,
    pub categories: Vec<Bound<'py, PyAny>>,
    pub lifted: Vec<Vec<Bound<'py, PyAny>>>,
    pub rejected: Vec<usize>,
    pub seq_start: i64,
    pub rates_of: Bound<'py, PyAny>,
}

/// What the rules read of one shape: the position and slot of each key that has one (in
/// key order), and the text of each `str` key (to find lifted fields by).
struct Plan {
    slots: Vec<(usize, Slot)>,
    texts: Vec<Option<String>>,
    /// Per name code seen with this shape: (position, lifted index) of its lifted keys.
    lifted: Vec<(u32, Vec<(usize, usize)>)>,
}

impl Plan {
    fn of(py: Python<'_>, shape: &Shape) -> Self {
        let texts: Vec<Option<String>> = shape
            .keys()
            .iter()
            .map(|k| {
                k.bind(py)
                    .cast::<PyString>()
                    .ok()
                    .and_then(|s| s.to_str().ok().map(str::to_owned))
            })
            .collect();
        let slots = texts
            .iter()
            .enumerate()
            .filter_map(|(pos, t)| t.as_deref().and_then(slot_of).map(|slot| (pos, slot)))
            .collect();
        Plan {
            slots,
            texts,
            lifted: Vec::new(),
        }
    }

    /// Where in `self.lifted` the (position, lifted index) pairs of the keys name `code`
    /// lifts (`keys`) are, found on first use.
    fn lifted_at(&mut self, code: u32, keys: &[String]) -> usize {
        match self.lifted.iter().position(|(c, _)| *c == code) {
            Some(at) => at,
            None => {
                let found = self
                    .texts
                    .iter()
                    .enumerate()
                    .filter_map(|(pos, t)| {
                        let t = t.as_deref()?;
                        keys.iter().position(|k| k == t).map(|li| (pos, li))
                    })
                    .collect();
                self.lifted.push((code, found));
                self.lifted.len() - 1
            }
        }
    }
}

/// Where a string the rules kept lives: in the batch's payload values (by index), or among
/// the values read out of a nested `tokens` mapping. Payload strings are named, not
/// copied: no reference count changes per string and event.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Text {
    Value(usize),
    Nested(usize),
}

/// The strings [`Text`]s name: the batch's payload values, and the nested values of the
/// event being finalised.
struct Texts<'a, 'py> {
    py: Python<'py>,
    values: &'a [Py<PyAny>],
    nested: Vec<Bound<'py, PyAny>>,
}

impl<'py> Texts<'_, 'py> {
    fn get(&self, text: Text) -> Option<&Bound<'py, PyAny>> {
        match text {
            Text::Value(i) => self.values.get(i).map(|v| v.bind(self.py)),
            Text::Nested(i) => self.nested.get(i),
        }
    }
}

/// One payload read into slots; strings are named by [`Text`]s.
struct Scan<'py> {
    fields: Fields<Text>,
    lifted: Vec<Option<Bound<'py, PyAny>>>,
    tokens: Option<Bound<'py, PyAny>>,
}

impl<'py> Scan<'py> {
    fn new() -> Self {
        Scan {
            fields: Fields::default(),
            lifted: Vec::new(),
            tokens: None,
        }
    }

    /// Read a payload whose values are `values`, at `base` in the batch's values: `slots`
    /// and `lifted` are its plan's (see [`Plan::lifted_at`]), for `n_lifted` lifted keys.
    fn read(
        &mut self,
        py: Python<'py>,
        slots: &[(usize, Slot)],
        (lifted, n_lifted): (&[(usize, usize)], usize),
        (values, base): (&[Py<PyAny>], usize),
    ) -> PyResult<()> {
        self.fields.reset(!values.is_empty());
        self.lifted.clear();
        self.lifted.resize(n_lifted, None);
        self.tokens = None;
        for &(pos, li) in lifted {
            if let (Some(slot), Some(v)) = (self.lifted.get_mut(li), values.get(pos)) {
                *slot = Some(v.bind(py).clone());
            }
        }
        for &(pos, slot) in slots {
            let Some(v) = values.get(pos) else {
                continue;
            };
            let v = v.bind(py);
            if slot == Slot::Tokens {
                self.tokens = Some(v.clone());
            }
            let value = classify(v, slot, Text::Value(base + pos))?;
            self.fields.set(slot, value);
        }
        Ok(())
    }
}

/// A Python value as the derivation rules see it (a string is named by `text`).
///
/// The exact builtin types, which payloads nearly always hold, are recognised by their type
/// pointer first (no call into Python); subclasses take the general checks after. Inlined:
/// returned through memory, the value cost a store-forwarding stall per call.
#[inline(always)]
fn classify(v: &Bound<'_, PyAny>, slot: Slot, text: Text) -> PyResult<Value<Text>> {
    if v.is_exact_instance_of::<PyInt>() {
        return Ok(int_value(v));
    }
    if v.is_exact_instance_of::<PyString>() {
        return str_value(v, slot, text);
    }
    if v.is_exact_instance_of::<PyFloat>() {
        return Ok(Value::Float(v.extract::<f64>()?));
    }
    if v.is_none() {
        return Ok(Value::Null);
    }
    if v.is_exact_instance_of::<PyBool>() {
        return Ok(Value::Bool(v.is_truthy()?));
    }
    if v.is_instance_of::<PyInt>() {
        return Ok(int_value(v));
    }
    if v.is_instance_of::<PyFloat>() {
        return Ok(Value::Float(v.extract::<f64>()?));
    }
    if v.is_instance_of::<PyString>() {
        return str_value(v, slot, text);
    }
    let truthy = matches!(slot, Slot::Error | Slot::Exception) && v.is_truthy().unwrap_or(true);
    Ok(Value::Other { truthy })
}

/// An int as the rules see it: i64 when it fits, else the float `float()` gives.
#[inline(always)]
fn int_value(v: &Bound<'_, PyAny>) -> Value<Text> {
    match v.extract::<i64>() {
        Ok(i) => Value::Int(i),
        Err(_) => match v.extract::<f64>() {
            Ok(f) => Value::Float(f),
            Err(_) => Value::Other { truthy: true },
        },
    }
}

/// A string, named by `text`.
#[inline(always)]
fn str_value(v: &Bound<'_, PyAny>, slot: Slot, text: Text) -> PyResult<Value<Text>> {
    let s = v.cast::<PyString>()?;
    let empty = s.is_empty()?;
    let outcome = if slot == Slot::Status {
        s.to_str().map_or(Outcome::Neither, outcome_of)
    } else {
        Outcome::Neither
    };
    Ok(Value::Str {
        text,
        empty,
        outcome,
    })
}

/// The `prompt`/`completion` of a `tokens` mapping (measurements first), if it is one.
fn nested<'py>(
    m: &Scan<'py>,
    md: &Scan<'py>,
    kept: &mut Vec<Bound<'py, PyAny>>,
) -> PyResult<Option<(Value<Text>, Value<Text>)>> {
    let Some(obj) = m.tokens.as_ref().or(md.tokens.as_ref()) else {
        return Ok(None);
    };
    let py = obj.py();
    let get = |key: &Bound<'py, PyString>| -> PyResult<Bound<'py, PyAny>> {
        match obj.cast::<PyDict>() {
            Ok(d) => Ok(d.get_item(key)?.unwrap_or_else(|| py.None().into_bound(py))),
            Err(_) => obj.call_method1(pyo3::intern!(py, "get"), (key,)),
        }
    };
    if obj.cast::<PyDict>().is_err() {
        let abc = py.import(pyo3::intern!(py, "collections.abc"))?;
        if !obj.is_instance(&abc.getattr(pyo3::intern!(py, "Mapping"))?)? {
            return Ok(None);
        }
    }
    let mut read = |key: &Bound<'py, PyString>| -> PyResult<Value<Text>> {
        let v = get(key)?;
        let value = classify(&v, Slot::Success, Text::Nested(kept.len()))?;
        kept.push(v);
        Ok(value)
    };
    let prompt = read(pyo3::intern!(py, "prompt"))?;
    let completion = read(pyo3::intern!(py, "completion"))?;
    Ok(Some((prompt, completion)))
}

/// Model prices, asked of Python once per model name and batch.
struct Prices<'py> {
    rates_of: Bound<'py, PyAny>,
    by_name: HashMap<String, Option<Rates>>,
    last: Option<(usize, Option<Rates>)>,
}

type RatesTuple = (f64, f64, Option<f64>, Option<(i64, f64, f64, Option<f64>)>);

impl<'py> Prices<'py> {
    fn rates(&mut self, model: &Bound<'py, PyAny>) -> PyResult<Option<Rates>> {
        let addr = model.as_ptr() as usize;
        if let Some((a, r)) = self.last {
            if a == addr {
                return Ok(r);
            }
        }
        let name = model.cast::<PyString>()?.to_str()?;
        let rates = match self.by_name.get(name) {
            Some(r) => *r,
            None => {
                let got: Option<RatesTuple> = self.rates_of.call1((model,))?.extract()?;
                let r = got.map(|(input, output, cached_input, long_context)| Rates {
                    input,
                    output,
                    cached_input,
                    long_context,
                });
                self.by_name.insert(name.to_owned(), r);
                r
            }
        };
        self.last = Some((addr, rates));
        Ok(rates)
    }
}

/// The [`Objects`] index of string `s` in text column `column`.
fn text_at(
    objects: &mut Objects,
    texts: &Texts<'_, '_>,
    column: usize,
    s: Option<Text>,
) -> PyResult<Option<u32>> {
    match s.and_then(|t| texts.get(t)) {
        Some(v) => Ok(Some(objects.index(column, v)?)),
        None => Ok(None),
    }
}

/// Finalise raw events into columns: derive, lift, number (rejected rows are skipped and
/// take no sequence number).
pub fn finalize(py: Python<'_>, input: Input<'_>) -> PyResult<CapturedColumns> {
    let Input {
        rows,
        payloads: Snapshot { shapes, values },
        codes,
        names,
        header,
        categories,
        lifted,
        rejected,
        seq_start,
        rates_of,
    } = input;
    let lifted_keys: Vec<Vec<String>> = lifted
        .iter()
        .map(|keys| keys.iter().map(|k| k.extract::<String>()).collect())
        .collect::<PyResult<_>>()?;
    let actions: Vec<String> = names
        .iter()
        .map(|n| {
            let t = n.bind(py).cast::<PyTuple>()?;
            Ok(match t.len() {
                0 => String::new(),
                len => t.get_item(len - 1)?.extract::<String>().unwrap_or_default(),
            })
        })
        .collect::<PyResult<_>>()?;
    let stream: String = header.get_item(4)?.extract()?;
    let exception = pyo3::intern!(py, "exception").clone().into_any().unbind();
    let mut prices = Prices {
        rates_of,
        by_name: HashMap::new(),
        last: None,
    };
    let mut out = Vec::with_capacity(rows.len());
    let mut objects = Objects::default();
    let mut skip = rejected.into_iter().peekable();
    let (mut sm, mut smd) = (Scan::new(), Scan::new());
    let mut texts = Texts {
        py,
        values: &values,
        nested: Vec::new(),
    };
    let empty: Vec<String> = Vec::new();
    let mut plans: Vec<Plan> = shapes.iter().map(|s| Plan::of(py, s)).collect();
    let mut seq = seq_start;
    let mut next_at = 0;
    for (i, (raw, code)) in rows.into_iter().zip(codes).enumerate() {
        let Raw {
            name,
            shapes: shape_ids,
            wall_us,
            mono_ns,
            corr,
            weight,
        } = raw;
        drop(name.into_bound(py)); // released at once, the GIL being known to be held
        let [wm, wmd] = shape_ids.map(|id| plans.get(id as usize).map_or(0, |p| p.texts.len()));
        let at = next_at;
        next_at += wm + wmd;
        while skip.peek().is_some_and(|&r| r < i) {
            skip.next();
        }
        if skip.peek() == Some(&i) {
            continue;
        }
        let keys = lifted_keys.get(code as usize).unwrap_or(&empty);
        let action = actions.get(code as usize).map_or("", String::as_str);
        texts.nested.clear();
        let m_values = values.get(at..at + wm).unwrap_or_default();
        let md_values = values.get(at + wm..next_at).unwrap_or_default();
        let [m_shape, md_shape] = shape_ids;
        for (scan, id, part) in [
            (&mut sm, m_shape, (m_values, at)),
            (&mut smd, md_shape, (md_values, at + wm)),
        ] {
            let plan = plans.get_mut(id as usize);
            let found = match plan {
                Some(plan) if !keys.is_empty() => Some(plan.lifted_at(code, keys)),
                _ => None,
            };
            let plan = plans.get(id as usize);
            let slots = plan.map_or(&[][..], |p| p.slots.as_slice());
            let lifted = match (plan, found) {
                (Some(p), Some(at)) => p.lifted.get(at).map_or(&[][..], |(_, l)| l.as_slice()),
                _ => &[][..],
            };
            scan.read(py, slots, (lifted, keys.len()), part)?;
        }
        let nest = if sm.tokens.is_some() || smd.tokens.is_some() {
            nested(&sm, &smd, &mut texts.nested)?
        } else {
            None
        };
        let d: Derived<Text> = derive(&Event {
            action,
            m: &sm.fields,
            md: &smd.fields,
            nested: nest,
        });
        let cost_usd = match d.cost {
            Cost::Unknown => None,
            Cost::Given(c) => Some(c),
            Cost::Priced {
                model,
                tokens_in,
                tokens_out,
                cached,
            } => match texts.get(model) {
                Some(obj) => prices
                    .rates(obj)?
                    .and_then(|r| r.cost(tokens_in, tokens_out, cached)),
                None => None,
            },
        };
        let derived = if !keys.is_empty() && (sm.fields.nonempty || smd.fields.nonempty) {
            let dict = PyDict::new(py);
            for (k, (a, b)) in keys.iter().zip(sm.lifted.iter().zip(smd.lifted.iter())) {
                if let Some(v) = a.as_ref().or(b.as_ref()) {
                    dict.set_item(k, v)?;
                }
            }
            (!dict.is_empty()).then(|| dict.unbind())
        } else {
            None
        };
        let error = match d.error {
            Some(ErrorText::Of(s)) => text_at(&mut objects, &texts, 2, Some(s))?,
            Some(ErrorText::Exception) => Some(objects.index(2, exception.bind(py))?),
            None => None,
        };
        let mut row_texts = [None; TEXTS];
        for (column, s) in [
            (0, d.model),
            (1, d.provider),
            (3, d.session_id),
            (4, d.user_id),
            (5, d.sample_id),
            (6, d.cohort),
        ] {
            if let Some(t) = row_texts.get_mut(column) {
                *t = text_at(&mut objects, &texts, column, s)?;
            }
        }
        row_texts[2] = error;
        out.push(Row::from(Parts {
            name: code,
            seq,
            wall_us,
            mono_ns,
            weight,
            corr: objects.index(CORRELATION, &corr.into_bound(py))?,
            shapes: shape_ids,
            at,
            numbers: Numbers {
                latency_ms: d.latency_ms,
                cost_usd,
                success: d.success,
                tokens_in: d.tokens_in,
                tokens_out: d.tokens_out,
            },
            texts: row_texts,
            derived,
        }));
        seq += 1;
    }
    let categories = categories.into_iter().map(Bound::unbind).collect();
    let mut values = values;
    if values.capacity() > 2 * values.len() {
        values.shrink_to_fit(); // a short batch after a long one: the store keeps this vector
    }
    let shared = Shared {
        shapes,
        values,
        objects: objects.into_items(),
    };
    Ok(CapturedColumns::new(
        header,
        stream,
        (names, categories),
        shared,
        out,
    ))
}
