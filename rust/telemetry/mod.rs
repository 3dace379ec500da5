//! Telemetry capture: the parts of finalising a captured event that need no interpreter.
//!
//! The binding layer (`rust/py/telemetry*.rs`) reads the event's measurements and metadata
//! once, turning each key it knows into a [`derive::Slot`] with a [`derive::Value`]; the
//! rules of `crucible.telemetry.enrichment` (latency, success, error, model, tokens, cost)
//! run here on those slots, and [`rollup`] folds finished events into the continuous
//! aggregates the stores keep. [`clock`] gives the capture timestamps.

pub mod clock;
pub mod derive;
pub mod rollup;
