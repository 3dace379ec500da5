//! Statistics kernels: plain slices in, plain numbers out, no Python.
//!
//! * `quantile` — NumPy's 13 percentile methods by selection, several q in one pass.
//! * `descriptive` — moments and mergeable one-pass summaries.
//! * `summation` — NumPy's pairwise summation, so sums agree bit for bit.
//! * `bootstrap` — fused resample-and-reduce, drawing NumPy's index stream.
//! * `special` — the special functions behind the distributions (erf, gamma, beta
//!   families) and the distributions' CDFs and quantiles.
//! * `rank` — ranks and fused rank sums for the rank tests; `mann_whitney` and
//!   `signed_rank` — the exact null distributions of U and of the signed-rank T⁺.

pub mod beta;
pub mod bootstrap;
pub mod descriptive;
pub mod double_double;
pub mod fisher_f;
pub mod gamma;
pub mod gamma_temme;
pub mod hypergeom;
pub mod index_stream;
pub mod kll;
pub mod mann_whitney;
pub mod noncentral_t;
pub mod permutation;
pub mod quantile;
pub mod rank;
pub mod signed_rank;
pub mod special;
pub mod student_t;
pub mod summation;
