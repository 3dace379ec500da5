//! Permutation-test kernels that draw NumPy's permutation stream.
//!
//! `scipy.stats.permutation_test` draws one `rng.permutation(n)` per resample for
//! independent samples, and `rng.permuted(tiled, axis=-1)` for paired data; both are
//! Fisher–Yates shuffles from the back with NumPy's masked-rejection interval draws, one
//! row after another. `permutation_rows` yields those rows. `independent_null` applies
//! the very same swaps to a copy of the pooled data (which leaves `data[perm]` in it) and
//! reduces the two sides, so no index matrix is built: blocks of resamples are drawn in
//! order, then reduced on all cores, and the answer does not depend on the thread count.

use rayon::prelude::*;

use super::bootstrap::Reduce;
use crate::error::{CoreError, CoreResult};
use crate::prng::shuffle::shuffle;
use crate::prng::BitSource;

/// Resamples drawn before a block is reduced in parallel.
const BLOCK_RESAMPLES: usize = 256;

/// `rows` consecutive `permutation(n)` draws, row-major (`rows * n` indices).
pub fn permutation_rows<R: BitSource>(rng: &mut R, rows: usize, n: usize) -> CoreResult<Vec<i64>> {
    let total = rows
        .checked_mul(n)
        .ok_or_else(|| CoreError::InvalidArgument("too many permutations requested".into()))?;
    let mut out = Vec::with_capacity(total);
    for _ in 0..rows {
        let start = out.len();
        out.extend(0..n as i64);
        shuffle(rng, &mut out[start..]);
    }
    Ok(out)
}

/// The null distribution of `how(first) − how(second)` over `n_resamples` random
/// reassignments of `pooled` (the first sample's `n_first` values, then the second's).
pub fn independent_null<R: BitSource>(
    rng: &mut R,
    pooled: &[f64],
    n_first: usize,
    n_resamples: usize,
    how: Reduce,
) -> CoreResult<Vec<f64>> {
    let n = pooled.len();
    if n_first == 0 || n_first >= n {
        return Err(CoreError::InvalidArgument(
            "both samples need at least one observation".into(),
        ));
    }
    let mut out = vec![0.0; n_resamples];
    let mut block = vec![0.0; BLOCK_RESAMPLES.min(n_resamples.max(1)) * n];
    for chunk in out.chunks_mut(BLOCK_RESAMPLES) {
        let drawn = &mut block[..chunk.len() * n];
        for row in drawn.chunks_exact_mut(n) {
            row.copy_from_slice(pooled);
            shuffle(rng, row);
        }
        chunk
            .par_iter_mut()
            .zip(drawn.par_chunks_exact_mut(n))
            .for_each_init(Vec::new, |scratch, (slot, row)| {
                let (first, second) = row.split_at_mut(n_first);
                *slot = how.apply(first, scratch) - how.apply(second, scratch);
            });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prng::pcg64::Pcg64;
    use crate::prng::seed_sequence::{generate_state_u64, mix_entropy};
    use crate::prng::shuffle::permutation;

    fn numpy_seeded(seed: u32) -> Pcg64 {
        let pool = mix_entropy(&[seed], 4).unwrap();
        let w = generate_state_u64(&pool, 4);
        Pcg64::from_seed_words([w[0], w[1], w[2], w[3]])
    }

    #[test]
    fn rows_are_consecutive_permutations() {
        let rows = permutation_rows(&mut numpy_seeded(12345), 3, 10).unwrap();
        let mut rng = numpy_seeded(12345);
        // The first row is numpy.random.default_rng(12345).permutation(10).
        assert_eq!(&rows[..10], &[4, 8, 1, 3, 7, 9, 6, 0, 2, 5]);
        for row in rows.chunks_exact(10) {
            assert_eq!(row, permutation(&mut rng, 10).as_slice());
        }
    }

    #[test]
    fn fused_null_equals_gathered_permutations() {
        let pooled: Vec<f64> = (0..600).map(|i| ((i * 37) % 101) as f64 * 0.25).collect();
        for how in [Reduce::Mean, Reduce::Median] {
            let fused = independent_null(&mut numpy_seeded(7), &pooled, 250, 700, how).unwrap();
            let mut rng = numpy_seeded(7);
            let mut scratch = Vec::new();
            for &got in &fused {
                let mut row: Vec<f64> = permutation(&mut rng, pooled.len())
                    .iter()
                    .map(|&i| pooled[i as usize])
                    .collect();
                let (a, b) = row.split_at_mut(250);
                assert_eq!(got, how.apply(a, &mut scratch) - how.apply(b, &mut scratch));
            }
        }
    }

    #[test]
    fn rejects_empty_sides() {
        let pooled = [1.0, 2.0, 3.0];
        assert!(independent_null(&mut numpy_seeded(1), &pooled, 0, 5, Reduce::Mean).is_err());
        assert!(independent_null(&mut numpy_seeded(1), &pooled, 3, 5, Reduce::Mean).is_err());
        assert!(
            independent_null(&mut numpy_seeded(1), &pooled, 1, 0, Reduce::Mean)
                .unwrap()
                .is_empty()
        );
    }
}
