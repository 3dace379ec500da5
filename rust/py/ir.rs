//! Bindings for IR validation: a compiled schema checks bytes, never Python objects. The
//! structural pass and the semantic rules both run here, so a valid document (or JSONL
//! line) never becomes a Python object.

use std::fs::File;
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, PoisonError};

use pyo3::prelude::*;

use super::errors::{invalid, to_py};
use crate::error::CoreError;
use crate::ir::canonical::parse;
use crate::ir::jsonl::{validate_block, validate_reader, Check, LineProblem};
use crate::ir::rules::catalogue;
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

/// A type's JSON Schema (from `msgspec.json.schema`) compiled for fast checking; structs
/// annotated with `x-rules` are also checked by the semantic rules of their type.
#[pyclass(frozen, module = "crucible._core")]
pub struct SchemaValidator {
    compiled: Arc<Compiled>,
}

/// The semantic rules' verdict on one document.
type Verdict = Result<Vec<Problem>, CoreError>;

/// Where a [`PendingRules`] job is: not started, being run (by the worker or by the
/// waiter, whoever claimed it first), done, or done and handed to the waiter.
enum Job {
    Waiting,
    Claimed,
    Done(Verdict),
    Taken,
}

/// What the worker and the waiter share.
struct Shared {
    compiled: Arc<Compiled>,
    doc: Vec<u8>,
    job: Mutex<Job>,
    done: Condvar,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, Job> {
        self.job.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Claims the job if nobody has; whether this caller must run it.
    fn claim(&self) -> bool {
        let mut job = self.lock();
        if matches!(*job, Job::Waiting) {
            *job = Job::Claimed;
            return true;
        }
        false
    }

    fn run(&self) -> Verdict {
        parse(&self.doc).map(|node| self.compiled.semantic(&node, ""))
    }
}

/// Rules started by [`SchemaValidator::semantic_later`]: `wait()` returns their findings.
/// A busy machine may not start the worker promptly; then `wait()` claims the job back and
/// runs it itself, so the caller never waits longer than doing the work inline. Dropping
/// it without waiting is fine: the worker finishes and the result is discarded.
#[pyclass(frozen, module = "crucible._core")]
pub struct PendingRules {
    shared: Arc<Shared>,
}

#[pymethods]
impl PendingRules {
    /// The findings, as `semantic` returns them (without the GIL while working or waiting).
    fn wait(&self, py: Python<'_>) -> PyResult<Vec<Item>> {
        let shared = &*self.shared;
        let verdict = py.detach(|| {
            if shared.claim() {
                let verdict = shared.run();
                *shared.lock() = Job::Taken;
                return verdict;
            }
            let mut job = shared.lock();
            loop {
                match std::mem::replace(&mut *job, Job::Taken) {
                    Job::Done(verdict) => return verdict,
                    Job::Taken => {
                        return Err(CoreError::InvalidArgument(
                            "these rules' findings were already taken".into(),
                        ))
                    }
                    running => *job = running,
                }
                job = shared
                    .done
                    .wait(job)
                    .unwrap_or_else(PoisonError::into_inner);
            }
        });
        let found = verdict.map_err(to_py)?;
        Ok(found.into_iter().map(item).collect())
    }
}

#[pymethods]
impl SchemaValidator {
    #[new]
    fn new(schema: &[u8]) -> PyResult<Self> {
        Ok(SchemaValidator {
            compiled: Arc::new(compile(schema).map_err(to_py)?),
        })
    }

    /// Problems of one JSON document as (pointer, code, message): structural ones, then
    /// (when none of them is a shape error) the semantic rules' findings.
    fn validate(&self, py: Python<'_>, doc: &[u8]) -> Vec<Item> {
        py.detach(|| self.compiled.problems(doc))
            .into_iter()
            .map(item)
            .collect()
    }

    /// The semantic rules' findings alone, for a document whose structure was checked
    /// elsewhere; raises SerializationError if `doc` is not one JSON document.
    fn semantic(&self, py: Python<'_>, doc: &[u8]) -> PyResult<Vec<Item>> {
        let found = py.detach(|| parse(doc).map(|node| self.compiled.semantic(&node, "")));
        Ok(found.map_err(to_py)?.into_iter().map(item).collect())
    }

    /// Starts `semantic(doc)` on a worker thread and returns at once, so that the caller
    /// can decode the same bytes meanwhile (msgspec holds the GIL; the rules do not need
    /// it). The bytes are copied: the caller may drop its buffer. If no worker has taken
    /// the job by the time the caller waits, the caller runs it.
    fn semantic_later(&self, doc: &[u8]) -> PendingRules {
        let shared = Arc::new(Shared {
            compiled: Arc::clone(&self.compiled),
            doc: doc.to_vec(),
            job: Mutex::new(Job::Waiting),
            done: Condvar::new(),
        });
        let worker = Arc::clone(&shared);
        rayon::spawn(move || {
            if worker.claim() {
                let verdict = worker.run();
                *worker.lock() = Job::Done(verdict);
                worker.done.notify_all();
            }
        });
        PendingRules { shared }
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
            py.detach(|| on_threads(threads, || validate_block(data, 1, &*self.compiled)))?;
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
                validate_reader(file, &*self.compiled, |done| {
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

/// Every semantic rule as (code, struct types, description), in registration order.
#[pyfunction]
fn ir_rule_catalogue() -> Vec<(String, Vec<String>, String)> {
    catalogue()
        .map(|r| {
            let types = r.types.iter().map(|t| (*t).to_owned()).collect();
            (r.code.to_owned(), types, r.description.to_owned())
        })
        .collect()
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<SchemaValidator>()?;
    m.add_class::<PendingRules>()?;
    m.add_function(wrap_pyfunction!(ir_rule_catalogue, m)?)?;
    Ok(())
}
