//! NumPy's `SeedSequence` hash mixing (O'Neill's seed_seq_fe design, as NumPy has it).
//!
//! Entropy arrives here already coerced to 32-bit words (the Python layer splits big ints
//! into little-endian words, as NumPy does); everything below is 32-bit wrapping arithmetic.

use crate::error::{CoreError, CoreResult};

pub const DEFAULT_POOL_SIZE: usize = 4;
const INIT_A: u32 = 0x43b0_d7e5;
const MULT_A: u32 = 0x931e_8875;
const INIT_B: u32 = 0x8b51_f9dd;
const MULT_B: u32 = 0x58f3_8ded;
const MIX_MULT_L: u32 = 0xca01_f9dd;
const MIX_MULT_R: u32 = 0x4973_f715;
const XSHIFT: u32 = 16;

struct HashMix(u32);

impl HashMix {
    #[inline]
    fn mix(&mut self, mut value: u32) -> u32 {
        value ^= self.0;
        self.0 = self.0.wrapping_mul(MULT_A);
        value = value.wrapping_mul(self.0);
        value ^ (value >> XSHIFT)
    }
}

#[inline]
fn mix(x: u32, y: u32) -> u32 {
    let result = MIX_MULT_L
        .wrapping_mul(x)
        .wrapping_sub(MIX_MULT_R.wrapping_mul(y));
    result ^ (result >> XSHIFT)
}

/// Joins run entropy and spawn key; the run entropy is zero-padded to the pool size when
/// a spawn key follows, so children never collide with a longer parent seed.
pub fn assemble_entropy(run: &[u32], spawn_key: &[u32], pool_size: usize) -> Vec<u32> {
    let mut out = run.to_vec();
    if !spawn_key.is_empty() && out.len() < pool_size {
        out.resize(pool_size, 0);
    }
    out.extend_from_slice(spawn_key);
    out
}

/// Mixes assembled entropy into a pool of `pool_size` words.
pub fn mix_entropy(entropy: &[u32], pool_size: usize) -> CoreResult<Vec<u32>> {
    if pool_size < DEFAULT_POOL_SIZE {
        return Err(CoreError::InvalidArgument(format!(
            "The size of the entropy pool should be at least {DEFAULT_POOL_SIZE}"
        )));
    }
    let mut hash = HashMix(INIT_A);
    let mut pool: Vec<u32> = (0..pool_size)
        .map(|i| hash.mix(entropy.get(i).copied().unwrap_or(0)))
        .collect();
    for src in 0..pool_size {
        for dst in 0..pool_size {
            if src != dst {
                let hashed = hash.mix(pool[src]);
                pool[dst] = mix(pool[dst], hashed);
            }
        }
    }
    for &word in entropy.iter().skip(pool_size) {
        for slot in pool.iter_mut() {
            let hashed = hash.mix(word);
            *slot = mix(*slot, hashed);
        }
    }
    Ok(pool)
}

/// `generate_state(n_words, uint32)`: cycles the pool through a second hash.
pub fn generate_state_u32(pool: &[u32], n_words: usize) -> Vec<u32> {
    let mut hash_const = INIT_B;
    pool.iter()
        .cycle()
        .take(n_words)
        .map(|&word| {
            let mut value = word ^ hash_const;
            hash_const = hash_const.wrapping_mul(MULT_B);
            value = value.wrapping_mul(hash_const);
            value ^ (value >> XSHIFT)
        })
        .collect()
}

/// `generate_state(n_words, uint64)`: pairs of 32-bit words, little-endian.
pub fn generate_state_u64(pool: &[u32], n_words: usize) -> Vec<u64> {
    generate_state_u32(pool, n_words * 2)
        .chunks_exact(2)
        .map(|pair| u64::from(pair[0]) | (u64::from(pair[1]) << 32))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Reference values printed by numpy.random.SeedSequence (NumPy 2.4).
    #[test]
    fn pool_and_state_match_numpy_for_an_int_seed() {
        let pool = mix_entropy(&[12345], DEFAULT_POOL_SIZE).unwrap();
        assert_eq!(
            pool,
            vec![0xf293_d734, 0xfd66_8225, 0xf94f_f895, 0x8720_90a0]
        );
        assert_eq!(
            generate_state_u64(&pool, 4),
            vec![
                0xb5ae_6482_a03d_837c,
                0xbbe2_996f_fa1f_7a2f,
                0x64e3_9a9f_3715_8f94,
                0x3ebb_0f96_a013_fd73
            ]
        );
        assert_eq!(
            generate_state_u32(&pool, 3),
            vec![0xa03d_837c, 0xb5ae_6482, 0xfa1f_7a2f]
        );
    }

    #[test]
    fn spawn_key_pads_run_entropy() {
        // SeedSequence([1, 2**40 + 5, 7], spawn_key=(3,)): 2**40+5 is two words.
        let run = [1, 5, 256, 7];
        let entropy = assemble_entropy(&run, &[3], DEFAULT_POOL_SIZE);
        assert_eq!(entropy, vec![1, 5, 256, 7, 3]);
        let pool = mix_entropy(&entropy, DEFAULT_POOL_SIZE).unwrap();
        assert_eq!(
            pool,
            vec![0x2efc_5da8, 0x5b6a_3c04, 0x022e_378c, 0xe360_1942]
        );
        assert_eq!(assemble_entropy(&[9], &[1, 2], 4), vec![9, 0, 0, 0, 1, 2]);
    }

    #[test]
    fn small_pools_are_rejected() {
        assert!(matches!(
            mix_entropy(&[1], 3),
            Err(CoreError::InvalidArgument(_))
        ));
    }
}
