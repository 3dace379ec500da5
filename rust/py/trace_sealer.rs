//! Sealing a large batch while Python is still encoding it, and copying it while the rest
//! is still being hashed.
//!
//! Sealing 100,000 events spends about as long in msgspec encoding them and in making the
//! sealed copies (GIL held) as in canonicalizing and hashing them (GIL free).
//! [`ChainSealer`] overlaps the two: Python encodes the batch in chunks and feeds each as
//! soon as it is encoded; a worker thread seals the chunks in order, each chained from the
//! last hash of the one before, and hands each chunk's hashes back as it finishes, so that
//! Python makes that chunk's sealed copies while the next chunks are hashed. The chunks
//! stay Python `bytes` (`PyBackedBytes`: readable without the GIL, nothing copied).

use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Mutex, MutexGuard};
use std::thread::JoinHandle;

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3::types::PyList;

use super::errors::to_py;
use super::trace::{hex_list, linked_indices, prev_bytes, sealed_docs};
use crate::error::CoreResult;
use crate::trace::seal::{self, Sealed};

type Chunk = (PyBackedBytes, Sealed);

struct State {
    to_worker: Option<Sender<PyBackedBytes>>,
    /// Taken out while a caller waits on it (without the GIL, and without the lock).
    from_worker: Option<Receiver<CoreResult<Chunk>>>,
    worker: Option<JoinHandle<()>>,
    /// Chunks fed, and chunks handed back (kept for the sealed documents).
    fed: usize,
    back: Vec<Chunk>,
    /// Events handed back so far.
    events: usize,
}

/// A batch of events sealed chunk by chunk on a worker thread (see the module docs).
#[pyclass(module = "crucible._core", frozen)]
pub struct ChainSealer {
    start: [u8; 32],
    stored: bool,
    state: Mutex<State>,
}

fn finished() -> PyErr {
    PyRuntimeError::new_err("the sealer has finished")
}

impl ChainSealer {
    fn state(&self) -> PyResult<MutexGuard<'_, State>> {
        self.state
            .lock()
            .map_err(|_| PyRuntimeError::new_err("sealer lock poisoned"))
    }
}

/// The worker: seals each chunk as it arrives and hands it back; stops at the first error.
fn seal_chunks(
    chunks: &Receiver<PyBackedBytes>,
    back: &Sender<CoreResult<Chunk>>,
    mut prev: [u8; 32],
) {
    let mut base = 0;
    for blob in chunks {
        match seal::seal_sequential(&blob, prev, base) {
            Ok(sealed) => {
                if let Some(last) = sealed.hashes.last() {
                    prev = *last;
                }
                base += sealed.hashes.len();
                if back.send(Ok((blob, sealed))).is_err() {
                    return; // the sealer was dropped: nobody wants the rest
                }
            }
            Err(e) => {
                let _ = back.send(Err(e));
                return;
            }
        }
    }
}

#[pymethods]
impl ChainSealer {
    /// `prev`: the head to chain from (None: a new chain); `stored`: `finish` returns the
    /// sealed documents, as `trace_chain_seal(..., stored=True)` does.
    #[new]
    #[pyo3(signature = (prev = None, stored = false))]
    fn new(prev: Option<&str>, stored: bool) -> PyResult<Self> {
        let start = prev_bytes(prev)?;
        let (to_worker, chunks) = channel();
        let (back, from_worker) = channel();
        let worker = std::thread::Builder::new()
            .name("crucible-trace-sealer".into())
            .spawn(move || seal_chunks(&chunks, &back, start))
            .map_err(|e| PyRuntimeError::new_err(format!("cannot start the sealer: {e}")))?;
        Ok(ChainSealer {
            start,
            stored,
            state: Mutex::new(State {
                to_worker: Some(to_worker),
                from_worker: Some(from_worker),
                worker: Some(worker),
                fed: 0,
                back: Vec::new(),
                events: 0,
            }),
        })
    }

    /// Queues the next chunk: a JSON array of events, as for `trace_chain_seal`.
    fn feed(&self, events: PyBackedBytes) -> PyResult<()> {
        let mut state = self.state()?;
        let sender = state.to_worker.as_ref().ok_or_else(finished)?;
        // A worker that stopped on an error has dropped its end; the error comes back
        // with the chunk it failed on.
        let _ = sender.send(events);
        state.fed += 1;
        Ok(())
    }

    /// The next chunk's hex hashes and the indices (in the whole batch) of its events that
    /// already carried a link, once the worker has sealed it; None when every chunk fed
    /// has been handed back. Raises the error the chunk failed with.
    fn next_hashes<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<Option<(Bound<'py, PyList>, Vec<usize>)>> {
        let receiver = {
            let mut state = self.state()?;
            if state.back.len() >= state.fed {
                return Ok(None);
            }
            state
                .from_worker
                .take()
                .ok_or_else(|| PyRuntimeError::new_err("the sealer is in use by another thread"))?
        };
        let (next, receiver) = py.detach(move || (receiver.recv(), receiver));
        let mut state = self.state()?;
        state.from_worker = Some(receiver);
        let (blob, sealed) = next
            .map_err(|_| PyRuntimeError::new_err("the sealer thread stopped"))?
            .map_err(to_py)?;
        let answer = (
            hex_list(py, &sealed)?,
            linked_indices(&sealed, state.events),
        );
        state.events += sealed.hashes.len();
        state.back.push((blob, sealed));
        Ok(Some(answer))
    }

    /// Ends the batch: waits for the worker and returns the sealed documents of every
    /// event fed (None unless `stored`). Raises the first chunk's error, if any.
    fn finish<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyList>>> {
        let worker = {
            let mut state = self.state()?;
            state.to_worker = None;
            state.worker.take().ok_or_else(finished)?
        };
        while self.next_hashes(py)?.is_some() {}
        py.detach(|| worker.join())
            .map_err(|_| PyRuntimeError::new_err("the sealer thread failed"))?;
        if !self.stored {
            return Ok(None);
        }
        let state = self.state()?;
        let parts: Vec<(&[u8], &Sealed)> = state.back.iter().map(|(b, s)| (&b[..], s)).collect();
        sealed_docs(py, &parts, self.start).map(Some)
    }
}
