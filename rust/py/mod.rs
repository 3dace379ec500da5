//! The Python bindings: the only code that knows about PyO3 and NumPy arrays.

mod canonical;
mod errors;
mod ir;
mod prng;
mod stats_bootstrap;
mod stats_contingency;
mod stats_gamma;
mod stats_noncentral;
mod stats_permutation;
mod stats_quantile;
mod stats_rank;
mod stats_special;
mod telemetry;
mod telemetry_columns;
mod telemetry_finalize;
mod telemetry_rows;
mod telemetry_shapes;
mod trace;
mod trace_sealer;

use pyo3::prelude::*;

/// `crucible._core`: build information plus the binding classes and functions.
#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add(
        "BUILD_PROFILE",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
    )?;
    m.add(
        "BUILD_TARGET",
        format!("{}-{}", std::env::consts::ARCH, std::env::consts::OS),
    )?;
    m.add("RAYON_THREADS", rayon::current_num_threads())?;
    canonical::register(m)?;
    ir::register(m)?;
    prng::register(m)?;
    stats_bootstrap::register(m)?;
    stats_contingency::register(m)?;
    stats_gamma::register(m)?;
    stats_noncentral::register(m)?;
    stats_permutation::register(m)?;
    stats_quantile::register(m)?;
    stats_rank::register(m)?;
    stats_special::register(m)?;
    telemetry::register(m)?;
    trace::register(m)?;
    Ok(())
}
