//! Finalisation of captured telemetry events into [`CapturedColumns`].
//!
//! `finalize` reads each event's measurements and metadata once (one pass over each dict,
//! keys matched to the enrichment slots of `crate::telemetry::derive`), derives latency,
//! outcome, error, model, tokens and cost, lifts the category's fields, and numbers the
//! events; rows rejected by validation are skipped and take no number. Model prices are
//! asked of Python once per model name and batch.

use std::collections::HashMap;

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyString, PyTuple};

use super::telemetry::Raw;
use super::telemetry_columns::{CapturedColumns, Row};
use crate::telemetry::derive::{
    derive, outcome_of, slot_of, Cost, Derived, ErrorText, Event, Fields, Outcome, Rates, Slot,
    Value,
};

/// The inputs of [`finalize`].
pub struct Input<'py> {
    pub rows: Vec<Raw>,
    pub codes: Vec<u32>,
    pub names: Vec<Py<PyAny>>,
    pub header: Bound<'py, PyTuple>,
    pub categories: Vec<Bound<'py, PyAny>>,
    pub lifted: Vec<Vec<Bound<'py, PyAny>>>,
    pub rejected: Vec<usize>,
    pub seq_start: i64,
    pub rates_of: Bound<'py, PyAny>,
}

/// One dict read into slots; strings are kept in `vals` and named by their index there.
struct Scan<'py> {
    fields: Fields<u16>,
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

    fn read(
        &mut self,
        d: &Bound<'py, PyDict>,
        lifted_keys: &[String],
        vals: &mut Vec<Bound<'py, PyAny>>,
    ) -> PyResult<()> {
        self.fields.reset(!d.is_empty());
        self.lifted.clear();
        if !lifted_keys.is_empty() {
            self.lifted.resize(lifted_keys.len(), None);
        }
        self.tokens = None;
        for (k, v) in d.iter() {
            let Ok(ks) = k.cast::<PyString>() else {
                continue;
            };
            let Ok(key) = ks.to_str() else {
                continue;
            };
            if let Some(i) = lifted_keys.iter().position(|lk| lk == key) {
                if let Some(slot) = self.lifted.get_mut(i) {
                    *slot = Some(v.clone());
                }
            }
            if let Some(slot) = slot_of(key) {
                if slot == Slot::Tokens {
                    self.tokens = Some(v.clone());
                }
                let value = classify(&v, slot, vals)?;
                self.fields.set(slot, value);
            }
        }
        Ok(())
    }
}

/// A Python value as the derivation rules see it (strings are pushed to `vals`).
fn classify<'py>(
    v: &Bound<'py, PyAny>,
    slot: Slot,
    vals: &mut Vec<Bound<'py, PyAny>>,
) -> PyResult<Value<u16>> {
    if v.is_none() {
        return Ok(Value::Null);
    }
    if v.is_exact_instance_of::<PyBool>() {
        return Ok(Value::Bool(v.is_truthy()?));
    }
    if v.is_instance_of::<PyInt>() {
        return Ok(match v.extract::<i64>() {
            Ok(i) => Value::Int(i),
            Err(_) => match v.extract::<f64>() {
                Ok(f) => Value::Float(f),
                Err(_) => Value::Other { truthy: true },
            },
        });
    }
    if v.is_instance_of::<PyFloat>() {
        return Ok(Value::Float(v.extract::<f64>()?));
    }
    if let Ok(s) = v.cast::<PyString>() {
        let text =
            u16::try_from(vals.len()).map_err(|_| super::errors::invalid("too many keys"))?;
        let empty = s.is_empty()?;
        let outcome = if slot == Slot::Status {
            s.to_str().map_or(Outcome::Neither, outcome_of)
        } else {
            Outcome::Neither
        };
        vals.push(v.clone());
        return Ok(Value::Str {
            text,
            empty,
            outcome,
        });
    }
    let truthy = matches!(slot, Slot::Error | Slot::Exception) && v.is_truthy().unwrap_or(true);
    Ok(Value::Other { truthy })
}

/// The `prompt`/`completion` of a `tokens` mapping (measurements first), if it is one.
fn nested<'py>(
    m: &Scan<'py>,
    md: &Scan<'py>,
    vals: &mut Vec<Bound<'py, PyAny>>,
) -> PyResult<Option<(Value<u16>, Value<u16>)>> {
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
    let prompt = get(pyo3::intern!(py, "prompt"))?;
    let completion = get(pyo3::intern!(py, "completion"))?;
    Ok(Some((
        classify(&prompt, Slot::Success, vals)?,
        classify(&completion, Slot::Success, vals)?,
    )))
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

fn text_of(vals: &[Bound<'_, PyAny>], s: Option<u16>) -> Option<Py<PyAny>> {
    s.and_then(|i| vals.get(usize::from(i)))
        .map(|b| b.clone().unbind())
}

/// Finalise raw events into columns: derive, lift, number (rejected rows are skipped and
/// take no sequence number).
pub fn finalize(py: Python<'_>, input: Input<'_>) -> PyResult<CapturedColumns> {
    let Input {
        rows,
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
    let mut skip = rejected.into_iter().peekable();
    let (mut sm, mut smd) = (Scan::new(), Scan::new());
    let mut vals: Vec<Bound<'_, PyAny>> = Vec::new();
    let empty: Vec<String> = Vec::new();
    let mut seq = seq_start;
    for (i, (raw, code)) in rows.into_iter().zip(codes).enumerate() {
        while skip.peek().is_some_and(|&r| r < i) {
            skip.next();
        }
        if skip.peek() == Some(&i) {
            continue;
        }
        let keys = lifted_keys.get(code as usize).unwrap_or(&empty);
        let action = actions.get(code as usize).map_or("", String::as_str);
        vals.clear();
        let (m, md) = (raw.m.bind(py), raw.md.bind(py));
        sm.read(m, keys, &mut vals)?;
        smd.read(md, keys, &mut vals)?;
        let nest = if sm.tokens.is_some() || smd.tokens.is_some() {
            nested(&sm, &smd, &mut vals)?
        } else {
            None
        };
        let d: Derived<u16> = derive(&Event {
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
            } => match vals.get(usize::from(model)) {
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
            Some(ErrorText::Of(s)) => text_of(&vals, Some(s)),
            Some(ErrorText::Exception) => Some(exception.clone_ref(py)),
            None => None,
        };
        out.push(Row {
            name: code,
            seq,
            wall_us: raw.wall_us,
            mono_ns: raw.mono_ns,
            weight: raw.weight,
            corr: raw.corr,
            m: raw.m,
            md: raw.md,
            latency_ms: d.latency_ms,
            cost_usd,
            success: d.success,
            tokens_in: d.tokens_in,
            tokens_out: d.tokens_out,
            texts: [
                text_of(&vals, d.model),
                text_of(&vals, d.provider),
                error,
                text_of(&vals, d.session_id),
                text_of(&vals, d.user_id),
                text_of(&vals, d.sample_id),
                text_of(&vals, d.cohort),
            ],
            derived,
        });
        seq += 1;
    }
    let categories = categories.into_iter().map(Bound::unbind).collect();
    Ok(CapturedColumns::new(header, stream, names, categories, out))
}
