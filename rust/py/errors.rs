//! `CoreError` to the exceptions of `crucible.errors`.

use pyo3::PyErr;

use crate::error::CoreError;

pyo3::import_exception!(crucible.errors, InvalidArgumentError);
pyo3::import_exception!(crucible.errors, InvalidTypeError);
pyo3::import_exception!(crucible.errors, SerializationError);

pub fn to_py(err: CoreError) -> PyErr {
    match err {
        CoreError::InvalidArgument(msg) => InvalidArgumentError::new_err(msg),
        CoreError::InvalidType(msg) => InvalidTypeError::new_err(msg),
        CoreError::Serialization(msg) => SerializationError::new_err(msg),
    }
}

/// A `ValueError`-compatible error for bad arguments found in the binding layer.
pub fn invalid(msg: impl Into<String>) -> PyErr {
    to_py(CoreError::InvalidArgument(msg.into()))
}
