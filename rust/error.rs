//! The one error type of the pure-Rust core.
//!
//! Each variant maps onto an exception of `crucible.errors` in `rust/py/errors.rs`, so a
//! Python caller always gets a typed, catchable error and never a panic.

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CoreError {
    /// An argument is out of its domain (a ValueError in Python).
    #[error("{0}")]
    InvalidArgument(String),
    /// An argument has the wrong type or dtype (a TypeError in Python).
    #[error("{0}")]
    InvalidType(String),
    /// A document cannot be parsed or written (a SerializationError in Python).
    #[error("{0}")]
    Serialization(String),
}

pub type CoreResult<T> = Result<T, CoreError>;
