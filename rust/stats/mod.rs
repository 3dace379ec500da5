//! Statistics kernels: plain slices in, plain numbers out, no Python.
//!
//! * `quantile` — NumPy's 13 percentile methods by selection, several q in one pass.
//! * `descriptive` — moments and mergeable one-pass summaries.
//! * `summation` — NumPy's pairwise summation, so sums agree bit for bit.
//! * `bootstrap` — fused resample-and-reduce, drawing NumPy's index stream.
//! * `special` — the special functions behind the distributions (erf, gamma, beta
//!   families) and the distributions' CDFs and quantiles.

pub mod beta;
pub mod bootstrap;
pub mod descriptive;
pub mod double_double;
pub mod fisher_f;
pub mod index_stream;
pub mod kll;
pub mod quantile;
pub mod special;
pub mod student_t;
pub mod summation;
