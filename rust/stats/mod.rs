//! Statistics kernels: plain slices in, plain numbers out, no Python.
//!
//! * `quantile` — NumPy's 13 percentile methods by selection, several q in one pass.
//! * `descriptive` — moments and mergeable one-pass summaries.
//! * `special` — the special functions behind the distributions (erf, gamma, beta
//!   families) and the distributions' CDFs and quantiles.

pub mod descriptive;
pub mod quantile;
pub mod special;
