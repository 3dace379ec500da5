//! Sealing a large batch while Python is still encoding it.
//!
//! Sealing 100,000 events spends about as long in msgspec encoding them (GIL held) as in
//! canonicalizing and hashing them (GIL free). [`ChainSealer`] overlaps the two: Python
//! encodes the batch in chunks and feeds each as soon as it is encoded; a worker thread
//! seals the chunks in order, each chained from the last hash of the one before, while the
//! next chunk is being encoded. `finish` waits for the worker and answers what
//! `trace_chain_seal` answers for the whole batch. The chunks stay Python `bytes`
//! (`PyBackedBytes`: readable without the GIL, nothing copied).

use std::sync::mpsc::{channel, Sender};
use std::sync::{Mutex, MutexGuard};
use std::thread::JoinHandle;

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;

use super::errors::to_py;
use super::trace::{prev_bytes, seal_output, SealOutput};
use crate::error::CoreResult;
use crate::trace::seal::{self, Sealed};

type Done = CoreResult<Vec<(PyBackedBytes, Sealed)>>;

struct Running {
    to_worker: Option<Sender<PyBackedBytes>>,
    worker: Option<JoinHandle<Done>>,
}

/// A batch of events sealed chunk by chunk on a worker thread (see the module docs).
#[pyclass(module = "crucible._core", frozen)]
pub struct ChainSealer {
    start: [u8; 32],
    stored: bool,
    running: Mutex<Running>,
}

fn gone() -> PyErr {
    PyRuntimeError::new_err("the sealer has finished")
}

impl ChainSealer {
    fn running(&self) -> PyResult<MutexGuard<'_, Running>> {
        self.running
            .lock()
            .map_err(|_| PyRuntimeError::new_err("sealer lock poisoned"))
    }
}

/// The worker: seals each chunk as it arrives, stops at the first error.
fn seal_chunks(chunks: std::sync::mpsc::Receiver<PyBackedBytes>, mut prev: [u8; 32]) -> Done {
    let mut done = Vec::new();
    let mut base = 0;
    for blob in chunks {
        let sealed = seal::seal_sequential(&blob, prev, base)?;
        if let Some(last) = sealed.hashes.last() {
            prev = *last;
        }
        base += sealed.hashes.len();
        done.push((blob, sealed));
    }
    Ok(done)
}

#[pymethods]
impl ChainSealer {
    /// `prev`: the head to chain from (None: a new chain); `stored`: also make the
    /// sealed documents, as `trace_chain_seal(..., stored=True)`.
    #[new]
    #[pyo3(signature = (prev = None, stored = false))]
    fn new(prev: Option<&str>, stored: bool) -> PyResult<Self> {
        let start = prev_bytes(prev)?;
        let (to_worker, chunks) = channel();
        let worker = std::thread::Builder::new()
            .name("crucible-trace-sealer".into())
            .spawn(move || seal_chunks(chunks, start))
            .map_err(|e| PyRuntimeError::new_err(format!("cannot start the sealer: {e}")))?;
        Ok(ChainSealer {
            start,
            stored,
            running: Mutex::new(Running {
                to_worker: Some(to_worker),
                worker: Some(worker),
            }),
        })
    }

    /// Queues the next chunk: a JSON array of events, as for `trace_chain_seal`.
    fn feed(&self, events: PyBackedBytes) -> PyResult<()> {
        let running = self.running()?;
        let sender = running.to_worker.as_ref().ok_or_else(gone)?;
        // A worker that stopped on an error drops its end; `finish` reports the error.
        let _ = sender.send(events);
        Ok(())
    }

    /// Waits for every chunk fed: (hex hashes, sealed documents or None, linked indices).
    fn finish<'py>(&self, py: Python<'py>) -> PyResult<SealOutput<'py>> {
        let worker = {
            let mut running = self.running()?;
            running.to_worker = None;
            running.worker.take().ok_or_else(gone)?
        };
        let done = py
            .detach(|| worker.join())
            .map_err(|_| PyRuntimeError::new_err("the sealer thread failed"))?
            .map_err(to_py)?;
        let parts: Vec<(&[u8], &Sealed)> = done.iter().map(|(b, s)| (&b[..], s)).collect();
        seal_output(py, &parts, self.start, self.stored)
    }
}
