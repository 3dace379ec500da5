//! Bindings for IR validation: a compiled schema checks bytes, never Python objects.

use std::fs::File;
use std::path::PathBuf;

use pyo3::prelude::*;

use super::errors::{invalid, to_py};
use crate::ir::jsonl::{validate_block, validate_reader, Check, LineProblem};
use crate::ir::schema::{compile, Compiled};
use crate::ir::validate::Problem;

type Item = (String, String, String);
type LineItem = (usize, String, String, String);

fn item(p: Problem) -> Item {
    (p.pointer, p.code.to_owned(), p.message)
}

fn line_item((line, p): LineProblem) -> LineItem {
    (line, p.pointer, p.code.to_owned(), p.message)
}

/// Runs `work` on a pool of `threads` threads (None: the global pool).
fn on_threads<T: Send>(threads: Option<usize>, work: impl FnOnce() -> T + Send) -> PyResult<T> {
    match threads {
        None => Ok(work()),
        Some(0) => Err(invalid("threads must be at least 1")),
        Some(n) => rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .map(|pool| pool.install(work))
            .map_err(|e| invalid(format!("cannot start {n} threads: {e}"))),
    }
}

/// A type's JSON Schema (from `msgspec.json.schema`) compiled for fast checking.
#[pyclass(frozen, module = "crucible._core")]
pub struct SchemaValidator {
    compiled: Compiled,
}

#[pymethods]
impl SchemaValidator {
    #[new]
    fn new(schema: &[u8]) -> PyResult<Self> {
        Ok(SchemaValidator {
            compiled: compile(schema).map_err(to_py)?,
        })
    }

    /// Problems of one JSON document as (pointer, code, message).
    fn validate(&self, py: Python<'_>, doc: &[u8]) -> Vec<Item> {
        py.detach(|| self.compiled.problems(doc))
            .into_iter()
            .map(item)
            .collect()
    }

    /// Problems of every line of a JSON Lines buffer as (line, pointer, code, message).
    #[pyo3(signature = (data, threads = None))]
    fn validate_jsonl(
        &self,
        py: Python<'_>,
        data: &[u8],
        threads: Option<usize>,
    ) -> PyResult<Vec<LineItem>> {
        let found =
            py.detach(|| on_threads(threads, || validate_block(data, 1, &self.compiled)))?;
        Ok(found.into_iter().map(line_item).collect())
    }

    /// Streams a JSON Lines file; returns (problems, line count). `progress(bytes_read)`
    /// is called after each block.
    #[pyo3(signature = (path, threads = None, progress = None))]
    fn validate_file(
        &self,
        py: Python<'_>,
        path: PathBuf,
        threads: Option<usize>,
        progress: Option<Py<PyAny>>,
    ) -> PyResult<(Vec<LineItem>, usize)> {
        let file = File::open(&path)
            .map_err(|e| invalid(format!("cannot open {}: {e}", path.display())))?;
        let result = py.detach(|| {
            on_threads(threads, || {
                validate_reader(file, &self.compiled, |done| {
                    if let Some(callback) = &progress {
                        Python::attach(|py| {
                            // A failing progress callback must not stop validation.
                            let _ = callback.call1(py, (done,));
                        });
                    }
                })
            })
        })?;
        let (found, lines) = result.map_err(to_py)?;
        Ok((found.into_iter().map(line_item).collect(), lines))
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<SchemaValidator>()?;
    Ok(())
}
