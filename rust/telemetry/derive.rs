//! The derived fields of a captured event, by the rules of `crucible.telemetry.enrichment`.
//!
//! An event's measurements and metadata are read once into [`Fields`]: for each key the
//! rules look at (a [`Slot`]), whether it is present and its [`Value`]. "Present" matters as
//! much as the value, because the Python rules distinguish `key in m` from `m.get(key)`:
//! the first token key *present* wins even when its value is unusable, and an explicit
//! `None` status in the metadata hides the measurements' status. Strings stay opaque
//! handles (`S`, a Python object in the binding) with the two facts the rules need: whether
//! they are empty (Python's `or`) and, for a status, which outcome it names.

/// A key the enrichment rules read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Slot {
    Success,
    Error,
    Exception,
    Status,
    Kind,
    Model,
    ModelName,
    Provider,
    SessionId,
    UserId,
    SampleId,
    Cohort,
    InputTokens,
    TokensIn,
    PromptTokens,
    OutputTokens,
    TokensOut,
    CompletionTokens,
    CachedInputTokens,
    CachedTokens,
    CacheReadInputTokens,
    CostUsd,
    Cost,
    Tokens,
    Duration,
    LatencyMs,
    DurationMs,
    Start,
    Stop,
}

/// Number of [`Slot`]s.
pub const SLOTS: usize = 29;

/// Input token keys, first present wins (`cost.INPUT_TOKEN_KEYS`).
pub const INPUT_TOKEN_KEYS: [&str; 3] = ["input_tokens", "tokens_in", "prompt_tokens"];
/// Output token keys (`cost.OUTPUT_TOKEN_KEYS`).
pub const OUTPUT_TOKEN_KEYS: [&str; 3] = ["output_tokens", "tokens_out", "completion_tokens"];
/// Cached input token keys (`cost.CACHED_TOKEN_KEYS`).
pub const CACHED_TOKEN_KEYS: [&str; 3] = [
    "cached_input_tokens",
    "cached_tokens",
    "cache_read_input_tokens",
];

const INPUT_SLOTS: [Slot; 3] = [Slot::InputTokens, Slot::TokensIn, Slot::PromptTokens];
const OUTPUT_SLOTS: [Slot; 3] = [Slot::OutputTokens, Slot::TokensOut, Slot::CompletionTokens];
const CACHED_SLOTS: [Slot; 3] = [
    Slot::CachedInputTokens,
    Slot::CachedTokens,
    Slot::CacheReadInputTokens,
];

/// The slot of a key, if the rules read it.
pub fn slot_of(key: &str) -> Option<Slot> {
    Some(match key {
        "success" => Slot::Success,
        "error" => Slot::Error,
        "exception" => Slot::Exception,
        "status" => Slot::Status,
        "kind" => Slot::Kind,
        "model" => Slot::Model,
        "model_name" => Slot::ModelName,
        "provider" => Slot::Provider,
        "session_id" => Slot::SessionId,
        "user_id" => Slot::UserId,
        "sample_id" => Slot::SampleId,
        "cohort" => Slot::Cohort,
        "input_tokens" => Slot::InputTokens,
        "tokens_in" => Slot::TokensIn,
        "prompt_tokens" => Slot::PromptTokens,
        "output_tokens" => Slot::OutputTokens,
        "tokens_out" => Slot::TokensOut,
        "completion_tokens" => Slot::CompletionTokens,
        "cached_input_tokens" => Slot::CachedInputTokens,
        "cached_tokens" => Slot::CachedTokens,
        "cache_read_input_tokens" => Slot::CacheReadInputTokens,
        "cost_usd" => Slot::CostUsd,
        "cost" => Slot::Cost,
        "tokens" => Slot::Tokens,
        "duration" => Slot::Duration,
        "latency_ms" => Slot::LatencyMs,
        "duration_ms" => Slot::DurationMs,
        "start" => Slot::Start,
        "stop" => Slot::Stop,
        _ => return None,
    })
}

/// What a status string says about the outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Failed,
    Ok,
    Neither,
}

/// `error`/`failed`/`failure`/`unhealthy` fail, `ok`/`success`/`healthy` succeed, compared
/// after Unicode lower-casing as Python's `str.lower` does.
pub fn outcome_of(status: &str) -> Outcome {
    let low = status.to_lowercase();
    match low.as_str() {
        "error" | "failed" | "failure" | "unhealthy" => Outcome::Failed,
        "ok" | "success" | "healthy" => Outcome::Ok,
        _ => Outcome::Neither,
    }
}

/// A value as the rules see it. `Int` covers Python ints that fit in i64 (larger ones are
/// read as `Float`, as `float()` would); `Other` is any other object with its truth value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<S> {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str {
        text: S,
        empty: bool,
        outcome: Outcome,
    },
    Other {
        truthy: bool,
    },
}

impl<S: Copy> Value<S> {
    fn num(self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(i as f64),
            Value::Float(f) => Some(f),
            _ => None,
        }
    }

    fn int(self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(i),
            // -2^63 <= f < 2^63: the integral floats an i64 holds exactly
            Value::Float(f)
                if f.fract() == 0.0
                    && (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&f) =>
            {
                Some(f as i64)
            }
            _ => None,
        }
    }

    fn text(self) -> Option<(S, bool)> {
        match self {
            Value::Str { text, empty, .. } => Some((text, empty)),
            _ => None,
        }
    }

    fn truthy(self) -> bool {
        match self {
            Value::Null => false,
            Value::Bool(b) => b,
            Value::Int(i) => i != 0,
            Value::Float(f) => f != 0.0,
            Value::Str { empty, .. } => !empty,
            Value::Other { truthy } => truthy,
        }
    }
}

/// The slots found in one dict, and whether the dict was non-empty (Python truthiness).
/// Presence is a bit mask, so resetting for the next dict touches one word.
#[derive(Debug, Clone)]
pub struct Fields<S> {
    slots: [Value<S>; SLOTS],
    present: u32,
    pub nonempty: bool,
}

impl<S: Copy> Default for Fields<S> {
    fn default() -> Self {
        Fields {
            slots: [Value::Null; SLOTS],
            present: 0,
            nonempty: false,
        }
    }
}

impl<S: Copy> Fields<S> {
    /// Forget every key (for the next dict).
    pub fn reset(&mut self, nonempty: bool) {
        self.present = 0;
        self.nonempty = nonempty;
    }

    /// Record a key's value.
    pub fn set(&mut self, slot: Slot, value: Value<S>) {
        self.slots[slot as usize] = value;
        self.present |= 1 << slot as u32;
    }

    /// The value of a key, `None` if absent (`Some(Value::Null)` for an explicit None).
    pub fn get(&self, slot: Slot) -> Option<Value<S>> {
        (self.present & (1 << slot as u32) != 0).then(|| self.slots[slot as usize])
    }

    fn has(&self, slot: Slot) -> bool {
        self.present & (1 << slot as u32) != 0
    }

    /// `d.get(key)` as Python gives it: absent reads as None.
    fn value(&self, slot: Slot) -> Value<S> {
        self.get(slot).unwrap_or(Value::Null)
    }

    /// `_str(d.get(key))`.
    fn text(&self, slot: Slot) -> Option<(S, bool)> {
        self.value(slot).text()
    }

    /// `_str(d.get(a)) or _str(d.get(b))`.
    fn text_or(&self, a: Slot, b: Slot) -> Option<S> {
        match self.text(a) {
            Some((s, false)) => Some(s),
            _ => self.text(b).map(|(s, _)| s),
        }
    }

    /// `_int` of the first of `slots` present.
    fn first_int(&self, slots: &[Slot]) -> Option<i64> {
        slots.iter().find_map(|&s| self.get(s)).and_then(Value::int)
    }
}

/// The error text of a failed event: a string of the event, or the literal `"exception"`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ErrorText<S> {
    Of(S),
    Exception,
}

/// Where the cost comes from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cost<S> {
    Unknown,
    Given(f64),
    /// Price `model` from the table: token counts, missing ones as 0.
    Priced {
        model: S,
        tokens_in: i64,
        tokens_out: i64,
        cached: i64,
    },
}

/// The derived fields of one event.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Derived<S> {
    pub latency_ms: Option<f64>,
    pub cost: Cost<S>,
    pub success: Option<bool>,
    pub error: Option<ErrorText<S>>,
    pub model: Option<S>,
    pub provider: Option<S>,
    pub session_id: Option<S>,
    pub user_id: Option<S>,
    pub sample_id: Option<S>,
    pub cohort: Option<S>,
    pub tokens_in: Option<i64>,
    pub tokens_out: Option<i64>,
}

/// One event as the rules read it. `nested` is the `tokens` mapping's `prompt` and
/// `completion` values when the event has a `tokens` mapping (`None` when it has none).
pub struct Event<'a, S> {
    pub action: &'a str,
    pub m: &'a Fields<S>,
    pub md: &'a Fields<S>,
    pub nested: Option<(Value<S>, Value<S>)>,
}

fn latency<S: Copy>(m: &Fields<S>) -> Option<f64> {
    if let Some(d) = m.value(Slot::Duration).num() {
        return Some(d / 1e6);
    }
    for slot in [Slot::LatencyMs, Slot::DurationMs] {
        if let Some(d) = m.get(slot).and_then(Value::num) {
            return Some(d);
        }
    }
    match (m.get(Slot::Start), m.get(Slot::Stop)) {
        (Some(start), Some(stop)) => match (start.num(), stop.num()) {
            (Some(a), Some(b)) => Some((b - a) / 1e6),
            _ => None,
        },
        _ => None,
    }
}

fn success<S: Copy>(action: &str, m: &Fields<S>, md: &Fields<S>) -> Option<bool> {
    let flag = if md.nonempty {
        md.get(Slot::Success)
    } else {
        None
    };
    if let Some(Value::Bool(b)) = flag {
        return Some(b);
    }
    if m.nonempty {
        if let Some(Value::Bool(b)) = m.get(Slot::Success) {
            return Some(b);
        }
    }
    if action == "exception"
        || (md.nonempty && (md.value(Slot::Error).truthy() || md.value(Slot::Exception).truthy()))
    {
        return Some(false);
    }
    let status = if md.nonempty && md.has(Slot::Status) {
        md.value(Slot::Status)
    } else {
        m.value(Slot::Status)
    };
    if let Value::Str { outcome, .. } = status {
        match outcome {
            Outcome::Failed => return Some(false),
            Outcome::Ok => return Some(true),
            Outcome::Neither => {}
        }
    }
    if action == "stop" {
        Some(true)
    } else {
        None
    }
}

/// The derived fields of an event (see `crucible.telemetry.enrichment`).
pub fn derive<S: Copy>(event: &Event<'_, S>) -> Derived<S> {
    let (m, md, action) = (event.m, event.md, event.action);
    let ok = success(action, m, md);
    let error = if ok == Some(false) {
        match md.text_or(Slot::Kind, Slot::Error) {
            Some(s) => Some(ErrorText::Of(s)),
            None if action == "exception" => Some(ErrorText::Exception),
            None => None,
        }
    } else {
        None
    };
    let text = |slot| md.text(slot).map(|(s, _)| s);
    let model = if md.nonempty {
        md.text_or(Slot::Model, Slot::ModelName)
    } else {
        None
    };
    let (mut tin, mut tout) = (None, None);
    let mut cost = None;
    if m.nonempty {
        tin = m.first_int(&INPUT_SLOTS);
        tout = m.first_int(&OUTPUT_SLOTS);
        if m.has(Slot::CostUsd) || m.has(Slot::Cost) {
            let v = m.get(Slot::CostUsd).or(m.get(Slot::Cost));
            cost = Some(v.and_then(Value::num));
        }
    }
    if tin.is_none() && tout.is_none() {
        if let Some((prompt, completion)) = event.nested {
            tin = prompt.int();
            tout = completion.int();
        }
    }
    if cost.flatten().is_none() && md.nonempty && (md.has(Slot::CostUsd) || md.has(Slot::Cost)) {
        let v = md.get(Slot::CostUsd).or(md.get(Slot::Cost));
        cost = Some(v.and_then(Value::num));
    }
    let cost = match (cost.flatten(), model) {
        (Some(c), _) => Cost::Given(c),
        (None, Some(model)) if tin.is_some() || tout.is_some() => {
            let cached = CACHED_SLOTS
                .iter()
                .find_map(|&s| m.get(s).filter(|v| !matches!(v, Value::Null)))
                .and_then(Value::int)
                .unwrap_or(0);
            Cost::Priced {
                model,
                tokens_in: tin.unwrap_or(0),
                tokens_out: tout.unwrap_or(0),
                cached,
            }
        }
        _ => Cost::Unknown,
    };
    Derived {
        latency_ms: if m.nonempty { latency(m) } else { None },
        cost,
        success: ok,
        error,
        model,
        provider: text(Slot::Provider),
        session_id: text(Slot::SessionId),
        user_id: text(Slot::UserId),
        sample_id: text(Slot::SampleId),
        cohort: text(Slot::Cohort),
        tokens_in: tin,
        tokens_out: tout,
    }
}

/// Token prices of one model (USD per 1,000,000 tokens), as `cost.ModelPrice` holds them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rates {
    pub input: f64,
    pub output: f64,
    pub cached_input: Option<f64>,
    /// Long-context tier: (above_input_tokens, input, output, cached_input).
    pub long_context: Option<(i64, f64, f64, Option<f64>)>,
}

impl Rates {
    /// `ModelPrice.cost`, with the same float operations; `None` where it would raise
    /// (negative counts, more cached than input tokens).
    pub fn cost(&self, tokens_in: i64, tokens_out: i64, cached: i64) -> Option<f64> {
        if tokens_in < 0 || tokens_out < 0 || cached < 0 || cached > tokens_in {
            return None;
        }
        let (mut rate_in, mut rate_out, mut rate_cached) =
            (self.input, self.output, self.cached_input);
        if let Some((above, i, o, c)) = self.long_context {
            if tokens_in > above {
                (rate_in, rate_out, rate_cached) = (i, o, c);
            }
        }
        let rate_cached = rate_cached.unwrap_or(rate_in);
        let fresh = tokens_in - cached;
        let total =
            fresh as f64 * rate_in + cached as f64 * rate_cached + tokens_out as f64 * rate_out;
        Some(total * 1e-6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type F = Fields<&'static str>;

    fn s(text: &'static str) -> Value<&'static str> {
        Value::Str {
            text,
            empty: text.is_empty(),
            outcome: outcome_of(text),
        }
    }

    fn fields(items: &[(&str, Value<&'static str>)]) -> F {
        let mut f = F::default();
        for (k, v) in items {
            if let Some(slot) = slot_of(k) {
                f.set(slot, *v);
            }
        }
        f.nonempty = !items.is_empty();
        f
    }

    fn run(action: &str, m: &F, md: &F) -> Derived<&'static str> {
        derive(&Event {
            action,
            m,
            md,
            nested: None,
        })
    }

    #[test]
    fn llm_stop_event() {
        let m = fields(&[
            ("duration", Value::Int(2_500_000)),
            ("input_tokens", Value::Int(1000)),
            ("output_tokens", Value::Int(200)),
        ]);
        let md = fields(&[("model", s("gpt-4o")), ("provider", s("openai"))]);
        let d = run("stop", &m, &md);
        assert_eq!(d.latency_ms, Some(2.5));
        assert_eq!(d.success, Some(true));
        assert_eq!(d.model, Some("gpt-4o"));
        assert_eq!(d.provider, Some("openai"));
        assert_eq!((d.tokens_in, d.tokens_out), (Some(1000), Some(200)));
        assert_eq!(
            d.cost,
            Cost::Priced {
                model: "gpt-4o",
                tokens_in: 1000,
                tokens_out: 200,
                cached: 0
            }
        );
    }

    #[test]
    fn failures_and_errors() {
        let md = fields(&[("kind", s("Timeout"))]);
        let d = run("exception", &F::default(), &md);
        assert_eq!(d.success, Some(false));
        assert_eq!(d.error, Some(ErrorText::Of("Timeout")));
        let d = run("exception", &F::default(), &F::default());
        assert_eq!(d.error, Some(ErrorText::Exception));
        let md = fields(&[("status", s("FAILED"))]);
        assert_eq!(run("x", &F::default(), &md).success, Some(false));
        let md = fields(&[("status", Value::Null)]);
        let m = fields(&[("status", s("ok"))]);
        assert_eq!(run("x", &m, &md).success, None); // an explicit None hides m's status
        let md = fields(&[("success", Value::Bool(false)), ("error", s("boom"))]);
        assert_eq!(
            run("stop", &F::default(), &md).error,
            Some(ErrorText::Of("boom"))
        );
        let md = fields(&[("kind", s("")), ("error", Value::Other { truthy: true })]);
        assert_eq!(run("stop", &F::default(), &md).error, None);
    }

    #[test]
    fn first_present_key_wins_even_when_unusable() {
        let m = fields(&[("input_tokens", s("many")), ("tokens_in", Value::Int(3))]);
        assert_eq!(run("x", &m, &F::default()).tokens_in, None);
        let m = fields(&[("duration", s("x")), ("latency_ms", Value::Float(4.0))]);
        assert_eq!(run("x", &m, &F::default()).latency_ms, Some(4.0));
        let m = fields(&[
            ("start", Value::Int(1_000_000)),
            ("stop", Value::Int(3_000_000)),
        ]);
        assert_eq!(run("x", &m, &F::default()).latency_ms, Some(2.0));
        let m = fields(&[
            ("tokens_in", Value::Float(3.0)),
            ("tokens_out", Value::Float(2.5)),
        ]);
        let d = run("x", &m, &F::default());
        assert_eq!((d.tokens_in, d.tokens_out), (Some(3), None));
    }

    #[test]
    fn explicit_cost_wins_over_prices() {
        let m = fields(&[("input_tokens", Value::Int(5)), ("cost", Value::Float(0.5))]);
        let md = fields(&[("model", s("m"))]);
        assert_eq!(run("x", &m, &md).cost, Cost::Given(0.5));
        let md = fields(&[("model", s("m")), ("cost_usd", Value::Int(2))]);
        let m = fields(&[("input_tokens", Value::Int(5))]);
        assert_eq!(run("x", &m, &md).cost, Cost::Given(2.0));
        let nested = Some((Value::Int(7), Value::Int(9)));
        let d = derive(&Event {
            action: "x",
            m: &F::default(),
            md: &fields(&[("model", s("m"))]),
            nested,
        });
        assert_eq!((d.tokens_in, d.tokens_out), (Some(7), Some(9)));
    }

    #[test]
    fn rates_follow_model_price() {
        let r = Rates {
            input: 2.5,
            output: 10.0,
            cached_input: Some(1.25),
            long_context: Some((100, 5.0, 20.0, None)),
        };
        assert_eq!(
            r.cost(10, 4, 2),
            Some((8.0 * 2.5 + 2.0 * 1.25 + 4.0 * 10.0) * 1e-6)
        );
        assert_eq!(r.cost(200, 0, 0), Some(200.0 * 5.0 * 1e-6));
        assert_eq!(r.cost(1, 0, 2), None);
        assert_eq!(r.cost(-1, 0, 0), None);
    }

    #[test]
    fn outcomes_lowercase_like_python() {
        assert_eq!(outcome_of("Healthy"), Outcome::Ok);
        assert_eq!(outcome_of("UNHEALTHY"), Outcome::Failed);
        assert_eq!(outcome_of("pending"), Outcome::Neither);
    }
}
