//! PCG64: a 128-bit LCG with the XSL-RR output function, exactly as NumPy's `PCG64`.

use super::BitSource;

/// The LCG multiplier NumPy (and the PCG reference) uses for 128-bit state.
pub const MULTIPLIER: u128 =
    (2_549_297_995_355_413_924_u128 << 64) | 4_865_540_595_714_422_341_u128;

/// `jumped()` advances by (phi - 1) * 2**128, rounded to an odd number.
pub const JUMP_STEP: u128 = 0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835;

/// The full state of NumPy's PCG64, including its one-word 32-bit buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pcg64 {
    pub state: u128,
    pub inc: u128,
    pub has_uint32: bool,
    pub uinteger: u32,
}

#[inline]
fn output(state: u128) -> u64 {
    let high = (state >> 64) as u64;
    let low = state as u64;
    (high ^ low).rotate_right((high >> 58) as u32)
}

/// Independent stretches [`Pcg64::fill_words`] generates side by side.
const LANES: usize = 4;

/// `(A, C)` with `state ↦ A·state + C` equal to `delta` LCG steps of increment `inc`.
fn jump_map(mut delta: u128, inc: u128) -> (u128, u128) {
    let (mut cur_mult, mut cur_plus) = (MULTIPLIER, inc);
    let (mut acc_mult, mut acc_plus) = (1_u128, 0_u128);
    while delta > 0 {
        if delta & 1 == 1 {
            acc_mult = acc_mult.wrapping_mul(cur_mult);
            acc_plus = acc_plus.wrapping_mul(cur_mult).wrapping_add(cur_plus);
        }
        cur_plus = cur_mult.wrapping_add(1).wrapping_mul(cur_plus);
        cur_mult = cur_mult.wrapping_mul(cur_mult);
        delta >>= 1;
    }
    (acc_mult, acc_plus)
}

impl Pcg64 {
    /// Seeds as NumPy does from four words of `SeedSequence.generate_state(4, uint64)`:
    /// words 0-1 are the initial state (high, low), words 2-3 the stream selector.
    pub fn from_seed_words(words: [u64; 4]) -> Self {
        let init_state = (u128::from(words[0]) << 64) | u128::from(words[1]);
        let init_seq = (u128::from(words[2]) << 64) | u128::from(words[3]);
        let mut rng = Pcg64 {
            state: 0,
            inc: (init_seq << 1) | 1,
            has_uint32: false,
            uinteger: 0,
        };
        rng.step();
        rng.state = rng.state.wrapping_add(init_state);
        rng.step();
        rng
    }

    #[inline]
    fn step(&mut self) {
        self.state = self.state.wrapping_mul(MULTIPLIER).wrapping_add(self.inc);
    }

    /// Moves the LCG `delta` steps ahead in O(log delta) (Brown's method). Leaves the
    /// 32-bit buffer alone; [`Pcg64::advance`] is the NumPy-visible operation.
    pub fn advance_lcg(&mut self, delta: u128) {
        let (mult, plus) = jump_map(delta, self.inc);
        self.state = mult.wrapping_mul(self.state).wrapping_add(plus);
    }

    /// NumPy's `PCG64.advance`: jump the LCG and drop any buffered 32-bit half.
    pub fn advance(&mut self, delta: u128) {
        self.advance_lcg(delta);
        self.has_uint32 = false;
        self.uinteger = 0;
    }

    /// The next `out.len()` words, exactly as that many `next_u64` calls would give them.
    ///
    /// One LCG step is a chain of dependent 128-bit multiplies, so a single stream runs at
    /// the multiplier's latency. Splitting the run into [`LANES`] stretches, each started
    /// by a jump-ahead, gives the CPU independent chains to overlap: the same words in the
    /// same order, about 1.4x faster. The 32-bit buffer is left alone.
    pub fn fill_words(&mut self, out: &mut [u64]) {
        self.fill_with(out, |slot, word| *slot = word);
    }

    /// [`Pcg64::fill_words`] split into 32-bit halves, low half first (NumPy's order for
    /// 32-bit draws), without a second pass over the words.
    pub fn fill_halves(&mut self, out: &mut [[u32; 2]]) {
        self.fill_with(out, |slot, word| *slot = [word as u32, (word >> 32) as u32]);
    }

    #[inline]
    fn fill_with<T>(&mut self, out: &mut [T], store: impl Fn(&mut T, u64)) {
        let per = out.len() / LANES;
        if per < 32 {
            for slot in out.iter_mut() {
                store(slot, self.next_u64());
            }
            return;
        }
        // The affine map of `per` steps, so each lane start is one multiply-add away.
        let (mult, plus) = jump_map(per as u128, self.inc);
        let mut lanes = [self.state; LANES];
        for k in 1..LANES {
            lanes[k] = mult.wrapping_mul(lanes[k - 1]).wrapping_add(plus);
        }
        let (head, tail) = out.split_at_mut(per * LANES);
        let (ab, cd) = head.split_at_mut(2 * per);
        let ((a, b), (c, d)) = (ab.split_at_mut(per), cd.split_at_mut(per));
        let inc = self.inc;
        for (((wa, wb), wc), wd) in a.iter_mut().zip(b).zip(c).zip(d) {
            for lane in lanes.iter_mut() {
                *lane = lane.wrapping_mul(MULTIPLIER).wrapping_add(inc);
            }
            store(wa, output(lanes[0]));
            store(wb, output(lanes[1]));
            store(wc, output(lanes[2]));
            store(wd, output(lanes[3]));
        }
        self.state = lanes[LANES - 1];
        for slot in tail.iter_mut() {
            store(slot, self.next_u64());
        }
    }

    /// A copy `delta` LCG steps ahead, buffer untouched.
    #[inline]
    pub fn ahead(&self, delta: u128) -> Self {
        let mut copy = *self;
        copy.advance_lcg(delta);
        copy
    }
}

impl BitSource for Pcg64 {
    #[inline]
    fn next_u64(&mut self) -> u64 {
        self.step();
        output(self.state)
    }

    #[inline]
    fn next_u32(&mut self) -> u32 {
        if self.has_uint32 {
            self.has_uint32 = false;
            return self.uinteger;
        }
        let next = self.next_u64();
        self.has_uint32 = true;
        self.uinteger = (next >> 32) as u32;
        next as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seeded() -> Pcg64 {
        Pcg64::from_seed_words([1, 2, 3, 4])
    }

    #[test]
    fn advance_equals_stepping() {
        for delta in [0_u128, 1, 2, 3, 17, 1000, 65_537] {
            let mut stepped = seeded();
            for _ in 0..delta {
                stepped.next_u64();
            }
            assert_eq!(seeded().ahead(delta).state, stepped.state, "delta {delta}");
        }
    }

    #[test]
    fn fill_words_equals_stepping() {
        for len in [0_usize, 1, 127, 128, 129, 1000, 4099] {
            let (mut a, mut b) = (seeded(), seeded());
            let mut words = vec![0_u64; len];
            a.fill_words(&mut words);
            let stepped: Vec<u64> = (0..len).map(|_| b.next_u64()).collect();
            assert_eq!(words, stepped, "len {len}");
            assert_eq!(a, b);
        }
    }

    #[test]
    fn advance_wraps_around_the_period() {
        let rng = seeded();
        // 2**128 - 1 steps forward is one step back.
        let back = rng.ahead(u128::MAX);
        assert_eq!(back.ahead(1).state, rng.state);
    }

    #[test]
    fn next_u32_hands_out_low_then_high_half() {
        let mut a = seeded();
        let mut b = seeded();
        let word = a.next_u64();
        assert_eq!(b.next_u32(), word as u32);
        assert!(b.has_uint32);
        assert_eq!(b.next_u32(), (word >> 32) as u32);
        assert!(!b.has_uint32);
        assert_eq!(a.state, b.state);
    }

    #[test]
    fn doubles_are_in_unit_interval() {
        let mut rng = seeded();
        for _ in 0..10_000 {
            let x = rng.next_f64();
            assert!((0.0..1.0).contains(&x));
            let y = rng.next_f32();
            assert!((0.0..1.0).contains(&y));
        }
    }
}
