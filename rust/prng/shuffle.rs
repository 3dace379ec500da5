//! Shuffles and sampling without replacement, in NumPy's draw order.

use super::bounded::bounded_u64;
use super::BitSource;

/// A uniform integer in `[0, max]` by masked rejection (NumPy's `random_interval`), the
/// draw `Generator.shuffle` and `permutation` use.
#[inline]
pub fn random_interval<R: BitSource>(rng: &mut R, max: u64) -> u64 {
    if max == 0 {
        return 0;
    }
    let mask = u64::MAX >> max.leading_zeros();
    if max <= u64::from(u32::MAX) {
        loop {
            let value = u64::from(rng.next_u32()) & mask;
            if value <= max {
                return value;
            }
        }
    }
    loop {
        let value = rng.next_u64() & mask;
        if value <= max {
            return value;
        }
    }
}

/// Fisher-Yates from the back, as `Generator.shuffle` does for any array.
pub fn shuffle<T, R: BitSource>(rng: &mut R, data: &mut [T]) {
    for i in (1..data.len()).rev() {
        let j = random_interval(rng, i as u64) as usize;
        data.swap(i, j);
    }
}

/// `permutation(n)`: the indices that `shuffle` would leave in `arange(n)`.
pub fn permutation<R: BitSource>(rng: &mut R, n: usize) -> Vec<i64> {
    let mut out: Vec<i64> = (0..n as i64).collect();
    shuffle(rng, &mut out);
    out
}

/// Partial Fisher-Yates over `data[first..]` with Lemire draws (NumPy's `_shuffle_int`,
/// used by `choice`).
pub fn shuffle_int<R: BitSource>(rng: &mut R, data: &mut [i64], first: usize) {
    for i in (first.max(1)..data.len()).rev() {
        let j = bounded_u64(rng, 0, i as u64) as usize;
        data.swap(i, j);
    }
}

/// `choice(pop_size, size, replace=False)` without weights, both of NumPy's strategies:
/// a tail shuffle of `arange(pop_size)` when many are taken from a large population,
/// Floyd's algorithm with an open-addressing set otherwise.
pub fn sample_without_replacement<R: BitSource>(
    rng: &mut R,
    pop_size: u64,
    size: u64,
    shuffle_result: bool,
) -> Vec<i64> {
    let cutoff = if shuffle_result { 50 } else { 20 };
    if pop_size > 10_000 && size > pop_size / cutoff {
        let mut idx: Vec<i64> = (0..pop_size as i64).collect();
        let first = pop_size.saturating_sub(size).max(1) as usize;
        shuffle_int(rng, &mut idx, first);
        return idx.split_off((pop_size - size) as usize);
    }
    let set_size = (1.2 * size as f64) as u64;
    let mask = if set_size == 0 {
        0
    } else {
        u64::MAX >> set_size.leading_zeros()
    };
    let empty = u64::MAX;
    let mut set = vec![empty; (mask + 1) as usize];
    let mut idx = Vec::with_capacity(size as usize);
    for j in (pop_size - size)..pop_size {
        let val = bounded_u64(rng, 0, j);
        let mut loc = (val & mask) as usize;
        while set[loc] != empty && set[loc] != val {
            loc = (loc + 1) & mask as usize;
        }
        if set[loc] == empty {
            set[loc] = val;
            idx.push(val as i64);
        } else {
            loc = (j & mask) as usize;
            while set[loc] != empty {
                loc = (loc + 1) & mask as usize;
            }
            set[loc] = j;
            idx.push(j as i64);
        }
    }
    if shuffle_result {
        shuffle_int(rng, &mut idx, 1);
    }
    idx
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prng::pcg64::Pcg64;
    use crate::prng::seed_sequence::{generate_state_u64, mix_entropy};

    fn numpy_seeded(seed: u32) -> Pcg64 {
        let pool = mix_entropy(&[seed], 4).unwrap();
        let w = generate_state_u64(&pool, 4);
        Pcg64::from_seed_words([w[0], w[1], w[2], w[3]])
    }

    #[test]
    fn permutation_matches_numpy_vector() {
        // numpy.random.Generator(PCG64(12345)).permutation(10)
        assert_eq!(
            permutation(&mut numpy_seeded(12345), 10),
            vec![4, 8, 1, 3, 7, 9, 6, 0, 2, 5]
        );
    }

    #[test]
    fn samples_are_distinct_and_in_range() {
        let mut rng = numpy_seeded(3);
        for (pop, size) in [
            (10, 10),
            (100, 7),
            (20_000, 5_000),
            (20_000, 10),
            (1, 1),
            (5, 0),
        ] {
            for shuffle_result in [true, false] {
                let mut got = sample_without_replacement(&mut rng, pop, size, shuffle_result);
                assert_eq!(got.len() as u64, size);
                got.sort_unstable();
                got.dedup();
                assert_eq!(got.len() as u64, size);
                assert!(got.iter().all(|&v| v >= 0 && (v as u64) < pop));
            }
        }
    }

    #[test]
    fn interval_covers_its_range() {
        let mut rng = numpy_seeded(9);
        let mut seen = [false; 6];
        for _ in 0..1000 {
            seen[random_interval(&mut rng, 5) as usize] = true;
        }
        assert!(seen.iter().all(|&s| s));
        // The full 64-bit range takes the 64-bit path and never rejects.
        let mut twin = rng;
        assert_eq!(random_interval(&mut rng, u64::MAX), twin.next_u64());
    }
}
