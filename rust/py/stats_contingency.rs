//! Bindings for Fisher's exact test on a 2×2 table.

use pyo3::prelude::*;

use crate::stats::hypergeom::{fisher_exact_pvalue as pvalue, Alternative};

/// The p-value of Fisher's exact test for `[[a, b], [c, d]]`.
#[pyfunction]
fn fisher_exact_pvalue(
    py: Python<'_>,
    a: u64,
    b: u64,
    c: u64,
    d: u64,
    alternative: &str,
) -> PyResult<f64> {
    let alternative = match alternative {
        "two-sided" => Alternative::TwoSided,
        "less" => Alternative::Less,
        "greater" => Alternative::Greater,
        _ => {
            return Err(super::errors::invalid(
                "`alternative` must be 'two-sided', 'less' or 'greater'",
            ))
        }
    };
    py.detach(|| pvalue([[a, b], [c, d]], alternative))
        .map_err(super::errors::to_py)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(fisher_exact_pvalue, m)?)?;
    Ok(())
}
