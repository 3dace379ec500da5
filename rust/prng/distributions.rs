//! Continuous distributions, step for step as NumPy's `distributions.c`, so that each
//! draw consumes the same words and rounds the same way.

use super::ziggurat_tables as z;
use super::BitSource;

/// The double in [0, 1) NumPy makes of one 64-bit word.
#[inline]
pub fn unit_f64(word: u64) -> f64 {
    (word >> 11) as f64 * (1.0 / 9_007_199_254_740_992.0)
}

/// The float in [0, 1) NumPy makes of one 32-bit word.
#[inline]
pub fn unit_f32(word: u32) -> f32 {
    (word >> 8) as f32 * (1.0 / 16_777_216.0)
}

/// Ziggurat standard normal (256 layers, 52-bit mantissa), NumPy's `random_standard_normal`.
#[inline]
pub fn standard_normal<R: BitSource>(rng: &mut R) -> f64 {
    loop {
        let mut r = rng.next_u64();
        let idx = (r & 0xff) as usize;
        r >>= 8;
        let rabs = (r >> 1) & 0x000f_ffff_ffff_ffff;
        // The sign is a coin flip; flipping the sign bit without a branch gives the same
        // value as NumPy's `x = -x` and spares a mispredicted jump on every other draw.
        let magnitude = rabs as f64 * f64::from_bits(z::WI_DOUBLE_BITS[idx]);
        let x = f64::from_bits(magnitude.to_bits() ^ ((r & 1) << 63));
        if rabs < z::KI_DOUBLE[idx] {
            return x;
        }
        if idx == 0 {
            return normal_tail(rng, rabs);
        }
        let f_hi = f64::from_bits(z::FI_DOUBLE_BITS[idx - 1]);
        let f_lo = f64::from_bits(z::FI_DOUBLE_BITS[idx]);
        if (f_hi - f_lo) * rng.next_f64() + f_lo < (-0.5 * x * x).exp() {
            return x;
        }
    }
}

#[cold]
fn normal_tail<R: BitSource>(rng: &mut R, rabs: u64) -> f64 {
    loop {
        // 1 - U keeps log1p away from log(0), as NumPy does.
        let xx = -z::ZIGGURAT_NOR_INV_R * (-rng.next_f64()).ln_1p();
        let yy = -(-rng.next_f64()).ln_1p();
        if yy + yy > xx * xx {
            let tail = z::ZIGGURAT_NOR_R + xx;
            return if (rabs >> 8) & 1 == 1 { -tail } else { tail };
        }
    }
}

/// Single-precision ziggurat normal from 32-bit draws, NumPy's `random_standard_normal_f`.
#[inline]
pub fn standard_normal_f32<R: BitSource>(rng: &mut R) -> f32 {
    loop {
        let r = rng.next_u32();
        let idx = (r & 0xff) as usize;
        let rabs = (r >> 9) & 0x007f_ffff;
        let magnitude = rabs as f32 * f32::from_bits(z::WI_FLOAT_BITS[idx]);
        let x = f32::from_bits(magnitude.to_bits() ^ (((r >> 8) & 1) << 31));
        if rabs < z::KI_FLOAT[idx] {
            return x;
        }
        if idx == 0 {
            loop {
                let xx = -z::ZIGGURAT_NOR_INV_R_F * (-rng.next_f32()).ln_1p();
                let yy = -(-rng.next_f32()).ln_1p();
                if yy + yy > xx * xx {
                    let tail = z::ZIGGURAT_NOR_R_F + xx;
                    return if (rabs >> 8) & 1 == 1 { -tail } else { tail };
                }
            }
        }
        let f_hi = f32::from_bits(z::FI_FLOAT_BITS[idx - 1]);
        let f_lo = f32::from_bits(z::FI_FLOAT_BITS[idx]);
        let level = (f_hi - f_lo) * rng.next_f32() + f_lo;
        // NumPy evaluates this density in double precision (`exp(-0.5 * x * x)`).
        let xd = f64::from(x);
        if f64::from(level) < (-0.5 * xd * xd).exp() {
            return x;
        }
    }
}

/// Ziggurat standard exponential, NumPy's `random_standard_exponential`.
#[inline]
pub fn standard_exponential<R: BitSource>(rng: &mut R) -> f64 {
    loop {
        let mut ri = rng.next_u64() >> 3;
        let idx = (ri & 0xff) as usize;
        ri >>= 8;
        let x = ri as f64 * f64::from_bits(z::WE_DOUBLE_BITS[idx]);
        if ri < z::KE_DOUBLE[idx] {
            return x;
        }
        if idx == 0 {
            return z::ZIGGURAT_EXP_R - (-rng.next_f64()).ln_1p();
        }
        let f_hi = f64::from_bits(z::FE_DOUBLE_BITS[idx - 1]);
        let f_lo = f64::from_bits(z::FE_DOUBLE_BITS[idx]);
        if (f_hi - f_lo) * rng.next_f64() + f_lo < (-x).exp() {
            return x;
        }
        // NumPy recurses here; a loop draws the same words.
    }
}

/// Single-precision ziggurat exponential, NumPy's `random_standard_exponential_f`.
#[inline]
pub fn standard_exponential_f32<R: BitSource>(rng: &mut R) -> f32 {
    loop {
        let mut ri = rng.next_u32() >> 1;
        let idx = (ri & 0xff) as usize;
        ri >>= 8;
        let x = ri as f32 * f32::from_bits(z::WE_FLOAT_BITS[idx]);
        if ri < z::KE_FLOAT[idx] {
            return x;
        }
        if idx == 0 {
            return z::ZIGGURAT_EXP_R_F - (-rng.next_f32()).ln_1p();
        }
        let f_hi = f32::from_bits(z::FE_FLOAT_BITS[idx - 1]);
        let f_lo = f32::from_bits(z::FE_FLOAT_BITS[idx]);
        if (f_hi - f_lo) * rng.next_f32() + f_lo < (-x).exp() {
            return x;
        }
    }
}

/// Inverse-CDF exponential (`method="inv"`).
#[inline]
pub fn standard_exponential_inv<R: BitSource>(rng: &mut R) -> f64 {
    -(-rng.next_f64()).ln_1p()
}

/// Inverse-CDF exponential in single precision; NumPy computes the log in double.
#[inline]
pub fn standard_exponential_inv_f32<R: BitSource>(rng: &mut R) -> f32 {
    (-f64::from(-rng.next_f32()).ln_1p()) as f32
}

/// Which continuous draw a fill produces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Continuous {
    Uniform,
    Normal,
    Exponential,
    ExponentialInv,
}

impl Continuous {
    pub fn from_code(code: u8) -> Option<Self> {
        match code {
            0 => Some(Self::Uniform),
            1 => Some(Self::Normal),
            2 => Some(Self::Exponential),
            3 => Some(Self::ExponentialInv),
            _ => None,
        }
    }

    #[inline]
    pub fn draw_f64<R: BitSource>(self, rng: &mut R) -> f64 {
        match self {
            Self::Uniform => rng.next_f64(),
            Self::Normal => standard_normal(rng),
            Self::Exponential => standard_exponential(rng),
            Self::ExponentialInv => standard_exponential_inv(rng),
        }
    }

    #[inline]
    pub fn draw_f32<R: BitSource>(self, rng: &mut R) -> f32 {
        match self {
            Self::Uniform => rng.next_f32(),
            Self::Normal => standard_normal_f32(rng),
            Self::Exponential => standard_exponential_f32(rng),
            Self::ExponentialInv => standard_exponential_inv_f32(rng),
        }
    }
}

/// A double-precision draw for the parallel parser.
impl crate::prng::parallel::Draw for Continuous {
    type Output = f64;
    #[inline]
    fn draw<R: BitSource>(&self, rng: &mut R) -> f64 {
        self.draw_f64(rng)
    }
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

    // numpy.random.Generator(numpy.random.PCG64(12345)) reference draws (NumPy 2.4).
    #[test]
    fn normal_matches_numpy_vector() {
        let mut rng = numpy_seeded(12345);
        let got: Vec<f64> = (0..3).map(|_| standard_normal(&mut rng)).collect();
        assert_eq!(
            got,
            vec![
                -1.423_825_036_454_631_2,
                1.263_728_458_129_110_4,
                -0.870_661_737_959_085_7
            ]
        );
    }

    #[test]
    fn exponential_matches_numpy_vector() {
        let mut rng = numpy_seeded(12345);
        let got: Vec<f64> = (0..3).map(|_| standard_exponential(&mut rng)).collect();
        assert_eq!(
            got,
            vec![
                0.184_132_567_353_775_03,
                0.645_027_069_387_345_8,
                4.690_218_692_461_341
            ]
        );
    }

    #[test]
    fn moments_are_sane() {
        let mut rng = numpy_seeded(7);
        let n = 200_000;
        let xs: Vec<f64> = (0..n).map(|_| standard_normal(&mut rng)).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        assert!(
            mean.abs() < 0.01 && (var - 1.0).abs() < 0.02,
            "{mean} {var}"
        );
        let es: Vec<f32> = (0..n).map(|_| standard_exponential_f32(&mut rng)).collect();
        let emean = es.iter().map(|&e| f64::from(e)).sum::<f64>() / n as f64;
        assert!((emean - 1.0).abs() < 0.01, "{emean}");
    }
}
