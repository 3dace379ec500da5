//! PCG64 for Python, with NumPy's BitGenerator C interface.
//!
//! The generator state lives on the heap, owned by a `PyCapsule` named "BitGenerator"
//! whose pointer is a C `bitgen_t` (state pointer plus four function pointers), the layout
//! `numpy.random.Generator` reads. NumPy calls those functions without the GIL while it
//! holds the bit generator's `lock`; the Python wrapper (`crucible.prng.PCG64`) takes the
//! same lock around every call into this class, which is what makes the shared mutable
//! state sound.

use std::ffi::{c_void, CString};

use numpy::{PyArray1, PyArrayDyn, PyArrayMethods, PyReadonlyArrayDyn, PyReadwriteArrayDyn};
use pyo3::prelude::*;
use pyo3::types::PyCapsule;

use super::errors::{invalid, to_py};
use crate::error::CoreError;
use crate::prng::bounded::{fill, fill_varying, lemire_u32_accept, lemire_u64_accept, Lane};
use crate::prng::distributions::{unit_f32, unit_f64, Continuous};
use crate::prng::parallel::{
    fill_filtered_u32, fill_filtered_u64, fill_parsed_u64, fill_u32_words, fill_u64_words,
};
use crate::prng::pcg64::Pcg64;
use crate::prng::seed_sequence;
use crate::prng::shuffle::{permutation, sample_without_replacement};
use crate::prng::BitSource;

/// NumPy's `bitgen_t`.
#[repr(C)]
struct BitGenC {
    state: *mut c_void,
    next_uint64: unsafe extern "C" fn(*mut c_void) -> u64,
    next_uint32: unsafe extern "C" fn(*mut c_void) -> u32,
    next_double: unsafe extern "C" fn(*mut c_void) -> f64,
    next_raw: unsafe extern "C" fn(*mut c_void) -> u64,
}

unsafe extern "C" fn c_next_uint64(state: *mut c_void) -> u64 {
    // SAFETY: `state` is the `Pcg64` this capsule owns; callers hold the lock.
    unsafe { (*state.cast::<Pcg64>()).next_u64() }
}
unsafe extern "C" fn c_next_uint32(state: *mut c_void) -> u32 {
    // SAFETY: as above.
    unsafe { (*state.cast::<Pcg64>()).next_u32() }
}
unsafe extern "C" fn c_next_double(state: *mut c_void) -> f64 {
    // SAFETY: as above.
    unsafe { (*state.cast::<Pcg64>()).next_f64() }
}

/// What the capsule owns: the `bitgen_t` first (NumPy reads it at the capsule pointer),
/// and through it the heap-allocated state, freed when the capsule dies.
#[repr(C)]
struct CapsuleBody {
    bitgen: BitGenC,
}

// SAFETY: the raw state pointer is owned by the body and only used under the Python lock.
unsafe impl Send for CapsuleBody {}

impl Drop for CapsuleBody {
    fn drop(&mut self) {
        // SAFETY: `state` came from `Box::into_raw` in `Pcg64Core::new` and is freed once.
        unsafe { drop(Box::from_raw(self.bitgen.state.cast::<Pcg64>())) }
    }
}

struct StatePtr(*mut Pcg64);
// SAFETY: see the module docs; every access happens under the bit generator's lock, and
// the pointee outlives `Pcg64Core` because the core keeps the owning capsule alive.
unsafe impl Send for StatePtr {}
unsafe impl Sync for StatePtr {}

/// The Rust half of `crucible.prng.PCG64`. Not for direct use: it takes no lock itself.
#[pyclass(module = "crucible._core", frozen)]
pub struct Pcg64Core {
    capsule: Py<PyCapsule>,
    state: StatePtr,
}

impl Pcg64Core {
    /// The generator state.
    ///
    /// SAFETY (upheld by the Python wrapper): the caller holds the bit generator's lock,
    /// so no other reference to the state is live.
    #[allow(clippy::mut_from_ref)]
    pub(crate) fn rng(&self) -> &mut Pcg64 {
        // SAFETY: see above; the pointer is valid for the life of `self.capsule`.
        unsafe { &mut *self.state.0 }
    }
}

fn slice_mut<'a, T: numpy::Element>(
    arr: &'a mut PyReadwriteArrayDyn<'_, T>,
) -> PyResult<&'a mut [T]> {
    arr.as_slice_mut()
        .map_err(|_| invalid("output array must be C-contiguous"))
}

fn fill_lane<T: Lane + numpy::Element>(
    core: &Pcg64Core,
    py: Python<'_>,
    off: T,
    range: T,
    out: &Bound<'_, PyArrayDyn<T>>,
) -> PyResult<()> {
    let mut guard = out.try_readwrite()?;
    let slots = slice_mut(&mut guard)?;
    let rng = core.rng();
    py.detach(|| fill(rng, off, range, slots));
    Ok(())
}

fn fill_lane_varying<T: Lane + numpy::Element>(
    core: &Pcg64Core,
    py: Python<'_>,
    offs: &Bound<'_, PyAny>,
    ranges: &Bound<'_, PyAny>,
    out: &Bound<'_, PyArrayDyn<T>>,
) -> PyResult<()> {
    let offs: PyReadonlyArrayDyn<'_, T> = offs.extract()?;
    let ranges: PyReadonlyArrayDyn<'_, T> = ranges.extract()?;
    let offs = offs
        .as_slice()
        .map_err(|_| invalid("bounds must be C-contiguous"))?;
    let ranges = ranges
        .as_slice()
        .map_err(|_| invalid("bounds must be C-contiguous"))?;
    let mut guard = out.try_readwrite()?;
    let slots = slice_mut(&mut guard)?;
    if offs.len() != slots.len() || ranges.len() != slots.len() {
        return Err(invalid(
            "bounds and output must have the same number of elements",
        ));
    }
    let rng = core.rng();
    py.detach(|| fill_varying(rng, offs, ranges, slots));
    Ok(())
}

fn continuous(kind: u8) -> PyResult<Continuous> {
    Continuous::from_code(kind).ok_or_else(|| invalid(format!("unknown distribution code {kind}")))
}

#[pymethods]
impl Pcg64Core {
    /// Seeds from four words of `SeedSequence.generate_state(4, uint64)`.
    #[new]
    fn new(py: Python<'_>, words: [u64; 4]) -> PyResult<Self> {
        let state = Box::into_raw(Box::new(Pcg64::from_seed_words(words)));
        let body = CapsuleBody {
            bitgen: BitGenC {
                state: state.cast(),
                next_uint64: c_next_uint64,
                next_uint32: c_next_uint32,
                next_double: c_next_double,
                next_raw: c_next_uint64,
            },
        };
        let name = CString::new("BitGenerator").map_err(|e| invalid(e.to_string()))?;
        let capsule = PyCapsule::new(py, body, Some(name))?;
        Ok(Pcg64Core {
            capsule: capsule.unbind(),
            state: StatePtr(state),
        })
    }

    /// The "BitGenerator" capsule `numpy.random.Generator` consumes.
    #[getter]
    fn capsule(&self, py: Python<'_>) -> Py<PyCapsule> {
        self.capsule.clone_ref(py)
    }

    /// `(state, inc, has_uint32, uinteger)`.
    fn get_state(&self) -> (u128, u128, bool, u32) {
        let rng = self.rng();
        (rng.state, rng.inc, rng.has_uint32, rng.uinteger)
    }

    fn set_state(&self, state: u128, inc: u128, has_uint32: bool, uinteger: u32) {
        *self.rng() = Pcg64 {
            state,
            inc,
            has_uint32,
            uinteger,
        };
    }

    /// NumPy's `advance`: jump `delta` (mod 2**128) steps and clear the 32-bit buffer.
    fn advance(&self, delta: u128) {
        self.rng().advance(delta);
    }

    /// Discards `n` raw draws (`random_raw(output=False)`), buffer untouched.
    fn skip(&self, n: u128) {
        self.rng().advance_lcg(n);
    }

    fn next_raw(&self) -> u64 {
        self.rng().next_u64()
    }

    fn fill_raw(&self, py: Python<'_>, mut out: PyReadwriteArrayDyn<'_, u64>) -> PyResult<()> {
        let slots = slice_mut(&mut out)?;
        let rng = self.rng();
        py.detach(|| fill_u64_words(rng, slots, |w| w));
        Ok(())
    }

    /// One double: 0 uniform, 1 normal, 2 exponential (ziggurat), 3 exponential (inverse).
    fn one_f64(&self, kind: u8) -> PyResult<f64> {
        Ok(continuous(kind)?.draw_f64(self.rng()))
    }

    fn one_f32(&self, kind: u8) -> PyResult<f32> {
        Ok(continuous(kind)?.draw_f32(self.rng()))
    }

    fn fill_f64(
        &self,
        py: Python<'_>,
        kind: u8,
        mut out: PyReadwriteArrayDyn<'_, f64>,
    ) -> PyResult<()> {
        let kind = continuous(kind)?;
        let slots = slice_mut(&mut out)?;
        let rng = self.rng();
        py.detach(|| match kind {
            Continuous::Uniform => fill_u64_words(rng, slots, unit_f64),
            Continuous::ExponentialInv => fill_u64_words(rng, slots, |w| -(-unit_f64(w)).ln_1p()),
            Continuous::Normal | Continuous::Exponential => fill_parsed_u64(rng, slots, &kind),
        });
        Ok(())
    }

    fn fill_f32(
        &self,
        py: Python<'_>,
        kind: u8,
        mut out: PyReadwriteArrayDyn<'_, f32>,
    ) -> PyResult<()> {
        let kind = continuous(kind)?;
        let slots = slice_mut(&mut out)?;
        let rng = self.rng();
        py.detach(|| match kind {
            Continuous::Uniform => fill_u32_words(rng, slots, unit_f32),
            Continuous::ExponentialInv => {
                fill_u32_words(rng, slots, |w| (-f64::from(-unit_f32(w)).ln_1p()) as f32)
            }
            // 32-bit ziggurat draws mix whole and half words; they stay sequential.
            Continuous::Normal | Continuous::Exponential => {
                slots.iter_mut().for_each(|slot| *slot = kind.draw_f32(rng))
            }
        });
        Ok(())
    }

    /// Bounded integers in `[off, off + range]` into an unsigned (or bool) array; signed
    /// dtypes are passed as their unsigned view.
    fn fill_bounded(
        &self,
        py: Python<'_>,
        off: u64,
        range: u64,
        out: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        if let Ok(arr) = out.cast::<PyArrayDyn<u64>>() {
            let mut guard = arr.try_readwrite()?;
            let slots = slice_mut(&mut guard)?;
            let rng = self.rng();
            py.detach(|| match range {
                0 => slots.fill(off),
                u64::MAX => fill_u64_words(rng, slots, |w| off.wrapping_add(w)),
                0xFFFF_FFFF => fill_u32_words(rng, slots, |w| off.wrapping_add(u64::from(w))),
                r if r < 0xFFFF_FFFF => {
                    let accept = lemire_u32_accept(r as u32);
                    fill_filtered_u32(rng, slots, |w| {
                        accept(w).map(|v| off.wrapping_add(u64::from(v)))
                    })
                }
                r => {
                    let accept = lemire_u64_accept(r);
                    fill_filtered_u64(rng, slots, |w| accept(w).map(|v| off.wrapping_add(v)))
                }
            });
            return Ok(());
        }
        if let Ok(arr) = out.cast::<PyArrayDyn<u32>>() {
            let (off, range) = (off as u32, range as u32);
            let mut guard = arr.try_readwrite()?;
            let slots = slice_mut(&mut guard)?;
            let rng = self.rng();
            py.detach(|| match range {
                0 => slots.fill(off),
                u32::MAX => fill_u32_words(rng, slots, |w| off.wrapping_add(w)),
                r => {
                    let accept = lemire_u32_accept(r);
                    fill_filtered_u32(rng, slots, |w| accept(w).map(|v| off.wrapping_add(v)))
                }
            });
            return Ok(());
        }
        if let Ok(arr) = out.cast::<PyArrayDyn<u16>>() {
            return fill_lane(self, py, off as u16, range as u16, arr);
        }
        if let Ok(arr) = out.cast::<PyArrayDyn<u8>>() {
            return fill_lane(self, py, off as u8, range as u8, arr);
        }
        if let Ok(arr) = out.cast::<PyArrayDyn<bool>>() {
            return fill_lane(self, py, off != 0, range != 0, arr);
        }
        Err(to_py(CoreError::InvalidType(
            "output must be a uint8/16/32/64 or bool array".into(),
        )))
    }

    /// The broadcast form: per-element offsets and ranges, arrays of the output's dtype.
    fn fill_bounded_varying(
        &self,
        py: Python<'_>,
        offs: &Bound<'_, PyAny>,
        ranges: &Bound<'_, PyAny>,
        out: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        if let Ok(arr) = out.cast::<PyArrayDyn<u64>>() {
            return fill_lane_varying(self, py, offs, ranges, arr);
        }
        if let Ok(arr) = out.cast::<PyArrayDyn<u32>>() {
            return fill_lane_varying(self, py, offs, ranges, arr);
        }
        if let Ok(arr) = out.cast::<PyArrayDyn<u16>>() {
            return fill_lane_varying(self, py, offs, ranges, arr);
        }
        if let Ok(arr) = out.cast::<PyArrayDyn<u8>>() {
            return fill_lane_varying(self, py, offs, ranges, arr);
        }
        if let Ok(arr) = out.cast::<PyArrayDyn<bool>>() {
            return fill_lane_varying(self, py, offs, ranges, arr);
        }
        Err(to_py(CoreError::InvalidType(
            "output must be a uint8/16/32/64 or bool array".into(),
        )))
    }

    /// `permutation(n)`: `arange(n)` shuffled as `Generator.shuffle` does.
    fn permutation<'py>(&self, py: Python<'py>, n: usize) -> Bound<'py, PyArray1<i64>> {
        let rng = self.rng();
        let perm = py.detach(|| permutation(rng, n));
        PyArray1::from_vec(py, perm)
    }

    /// `choice(pop_size, size, replace=False, shuffle=...)` indices.
    fn sample_without_replacement<'py>(
        &self,
        py: Python<'py>,
        pop_size: u64,
        size: u64,
        shuffle: bool,
    ) -> PyResult<Bound<'py, PyArray1<i64>>> {
        if size > pop_size {
            return Err(invalid(
                "Cannot take a larger sample than population when replace is False",
            ));
        }
        let rng = self.rng();
        let idx = py.detach(|| sample_without_replacement(rng, pop_size, size, shuffle));
        Ok(PyArray1::from_vec(py, idx))
    }
}

/// `SeedSequence` pool from run entropy and spawn key (both as 32-bit words).
#[pyfunction]
fn seed_mix_entropy(run: Vec<u32>, spawn_key: Vec<u32>, pool_size: usize) -> PyResult<Vec<u32>> {
    let entropy = seed_sequence::assemble_entropy(&run, &spawn_key, pool_size);
    seed_sequence::mix_entropy(&entropy, pool_size).map_err(to_py)
}

/// `SeedSequence.generate_state(n_words, uint32)`.
#[pyfunction]
fn seed_generate_state_u32<'py>(
    py: Python<'py>,
    pool: Vec<u32>,
    n_words: usize,
) -> Bound<'py, PyArray1<u32>> {
    PyArray1::from_vec(py, seed_sequence::generate_state_u32(&pool, n_words))
}

/// `SeedSequence.generate_state(n_words, uint64)`.
#[pyfunction]
fn seed_generate_state_u64<'py>(
    py: Python<'py>,
    pool: Vec<u32>,
    n_words: usize,
) -> Bound<'py, PyArray1<u64>> {
    PyArray1::from_vec(py, seed_sequence::generate_state_u64(&pool, n_words))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Pcg64Core>()?;
    m.add_function(wrap_pyfunction!(seed_mix_entropy, m)?)?;
    m.add_function(wrap_pyfunction!(seed_generate_state_u32, m)?)?;
    m.add_function(wrap_pyfunction!(seed_generate_state_u64, m)?)?;
    Ok(())
}
