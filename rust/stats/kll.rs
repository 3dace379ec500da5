//! `KllSketch` is the KLL quantile sketch (Karnin, Lang & Liberty 2016) in the lazy form of
//! Apache DataSketches: level h holds items of weight 2^h, capacities shrink by 2/3 per
//! level below the top, and when the sketch is full the lowest over-full level is sorted
//! and every other item (random offset) promoted. Merging appends level to level and
//! compacts; the weight total is always exactly the number of values seen.

use crate::error::{CoreError, CoreResult};
use crate::prng::splitmix::splitmix64;

/// Smallest level capacity.
const MIN_WIDTH: usize = 8;

/// A KLL quantile sketch of the non-NaN values it has seen.
#[derive(Clone, Debug, PartialEq)]
pub struct KllSketch {
    k: usize,
    n: u64,
    min: f64,
    max: f64,
    /// `levels[h]` holds items of weight 2^h; every level but the first is kept sorted.
    levels: Vec<Vec<f64>>,
    /// A reusable (always empty) buffer for merging sorted runs.
    spare: Vec<f64>,
    /// `capacities[h]` for the current number of levels, and their sum.
    capacities: Vec<usize>,
    total_capacity: usize,
    rng: u64,
}

/// Merges the sorted `a` and the sorted `b` into `out` (emptied first), by `total_cmp`.
fn merge_sorted(out: &mut Vec<f64>, a: &[f64], b: impl Iterator<Item = f64>) {
    out.clear();
    let mut a = a.iter().copied().peekable();
    let mut b = b.peekable();
    loop {
        match (a.peek(), b.peek()) {
            (Some(&x), Some(&y)) => {
                if x.total_cmp(&y).is_le() {
                    out.push(x);
                    a.next();
                } else {
                    out.push(y);
                    b.next();
                }
            }
            (Some(_), None) => {
                out.extend(a);
                return;
            }
            (None, _) => {
                out.extend(b);
                return;
            }
        }
    }
}

/// Merges the sorted `run` into the sorted `level`, through `spare` (left empty).
fn merge_level(level: &mut Vec<f64>, run: impl Iterator<Item = f64>, spare: &mut Vec<f64>) {
    merge_sorted(spare, level, run);
    std::mem::swap(level, spare);
    spare.clear();
}

impl KllSketch {
    /// An empty sketch with accuracy parameter `k` (8 to 65535); `seed` fixes the coin flips,
    /// so the same values in the same order always give the same sketch.
    pub fn new(k: usize, seed: u64) -> CoreResult<Self> {
        if !(MIN_WIDTH..=65_535).contains(&k) {
            return Err(CoreError::InvalidArgument(format!(
                "k must be between {MIN_WIDTH} and 65535, not {k}"
            )));
        }
        let mut sketch = KllSketch {
            k,
            n: 0,
            min: f64::NAN,
            max: f64::NAN,
            levels: vec![Vec::new()],
            spare: Vec::new(),
            capacities: Vec::new(),
            total_capacity: 0,
            rng: seed,
        };
        sketch.refresh_capacities();
        Ok(sketch)
    }

    pub fn k(&self) -> usize {
        self.k
    }

    /// Number of (non-NaN) values summarised.
    pub fn len(&self) -> u64 {
        self.n
    }

    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Exact extremes (NaN when empty).
    pub fn min(&self) -> f64 {
        self.min
    }

    pub fn max(&self) -> f64 {
        self.max
    }

    /// Items retained (the sketch's memory, in values).
    pub fn retained(&self) -> usize {
        self.levels.iter().map(Vec::len).sum()
    }

    /// Level capacities: k (2/3)^depth, rounded, at least 8, depth counted from the top.
    fn refresh_capacities(&mut self) {
        let levels = self.levels.len();
        self.capacities = (0..levels)
            .map(|h| {
                let depth = (levels - h - 1).min(1024) as i32;
                let cap = (self.k as f64 * (2.0_f64 / 3.0).powi(depth)).round();
                (cap as usize).max(MIN_WIDTH)
            })
            .collect();
        self.total_capacity = self.capacities.iter().sum();
    }

    fn add_level(&mut self) {
        self.levels.push(Vec::new());
        self.refresh_capacities();
    }

    /// Compacts the lowest level at or over its capacity, in place: sort (only the first
    /// level needs it), keep one item back if the count is odd (the first in storage, as
    /// DataSketches does), and merge every other item, from a random offset, into the
    /// sorted level above.
    fn compact_once(&mut self) {
        let lowest = self
            .levels
            .iter()
            .zip(&self.capacities)
            .position(|(level, &cap)| level.len() >= cap);
        let Some(h) = lowest else { return };
        if h + 1 == self.levels.len() {
            self.add_level();
        }
        let offset = (splitmix64(&mut self.rng) >> 63) as usize;
        let (low, high) = self.levels.split_at_mut(h + 1);
        let (Some(level), Some(up)) = (low.last_mut(), high.first_mut()) else {
            return;
        };
        let held = match (level.len() % 2 == 1, h) {
            (false, _) => None,
            (true, 0) => Some(level.swap_remove(0)),
            (true, _) => Some(level.remove(0)),
        };
        if h == 0 {
            level.sort_unstable_by(f64::total_cmp);
        }
        merge_level(
            up,
            level.iter().skip(offset).step_by(2).copied(),
            &mut self.spare,
        );
        level.clear();
        level.extend(held);
    }

    /// Adds the non-NaN `values`, compacting whenever the sketch is full (exactly as adding
    /// them one by one would).
    pub fn update(&mut self, values: &[f64]) {
        let mut rest = values.iter().copied().filter(|v| !v.is_nan()).peekable();
        while rest.peek().is_some() {
            let (size, cap) = (self.retained(), self.total_capacity);
            if size >= cap {
                self.compact_once();
                continue;
            }
            let room = cap - size;
            let (mut lo, mut hi, mut added) = (self.min, self.max, 0_u64);
            if let Some(level) = self.levels.first_mut() {
                for v in rest.by_ref().take(room) {
                    lo = if lo.is_nan() { v } else { lo.min(v) };
                    hi = if hi.is_nan() { v } else { hi.max(v) };
                    level.push(v);
                    added += 1;
                }
            } else {
                return;
            }
            (self.min, self.max, self.n) = (lo, hi, self.n + added);
        }
    }

    /// Folds `other` in: the result summarises both streams, with the same error bound.
    pub fn merge(&mut self, other: &KllSketch) -> CoreResult<()> {
        if other.k != self.k {
            return Err(CoreError::InvalidArgument(format!(
                "cannot merge sketches with different k ({} and {})",
                self.k, other.k
            )));
        }
        if other.n == 0 {
            return Ok(());
        }
        while self.levels.len() < other.levels.len() {
            self.add_level();
        }
        for (h, (mine, theirs)) in self.levels.iter_mut().zip(&other.levels).enumerate() {
            if h == 0 {
                mine.extend_from_slice(theirs);
            } else {
                merge_level(mine, theirs.iter().copied(), &mut self.spare);
            }
        }
        self.min = if self.n == 0 {
            other.min
        } else {
            self.min.min(other.min)
        };
        self.max = if self.n == 0 {
            other.max
        } else {
            self.max.max(other.max)
        };
        self.n += other.n;
        while self.retained() > self.total_capacity {
            self.compact_once();
        }
        Ok(())
    }

    /// Estimated quantiles: for each q, the smallest retained item whose cumulative weight
    /// reaches q·n (NumPy's `inverted_cdf` rule, exact while nothing has been compacted);
    /// q = 0 and q = 1 give the exact min and max. NaN for an empty sketch.
    pub fn quantiles(&self, qs: &[f64]) -> CoreResult<Vec<f64>> {
        if qs.iter().any(|q| !(0.0..=1.0).contains(q)) {
            return Err(CoreError::InvalidArgument(
                "Quantiles must be in the range [0, 1]".into(),
            ));
        }
        if self.n == 0 {
            return Ok(vec![f64::NAN; qs.len()]);
        }
        let mut items: Vec<(f64, u64)> = Vec::with_capacity(self.retained());
        for (h, level) in self.levels.iter().enumerate() {
            let weight = 1_u64 << h.min(63);
            items.extend(level.iter().map(|&v| (v, weight)));
        }
        items.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
        let mut cumulative = Vec::with_capacity(items.len());
        let mut total = 0_u64;
        for &(_, w) in &items {
            total += w;
            cumulative.push(total);
        }
        let n = self.n as f64;
        Ok(qs
            .iter()
            .map(|&q| {
                if q == 0.0 {
                    return self.min;
                }
                if q == 1.0 {
                    return self.max;
                }
                let target = n * q;
                let i = cumulative.partition_point(|&c| (c as f64) < target);
                items.get(i).map_or(self.max, |&(v, _)| v)
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noise(n: usize, seed: u64) -> Vec<f64> {
        let mut state = seed;
        (0..n)
            .map(|_| (splitmix64(&mut state) >> 11) as f64 / (1u64 << 53) as f64)
            .collect()
    }

    fn rank_error(sorted: &[f64], value: f64, q: f64) -> f64 {
        let below = sorted.partition_point(|&x| x < value) as f64;
        let at_most = sorted.partition_point(|&x| x <= value) as f64;
        let n = sorted.len() as f64;
        (below / n - q).max(q - at_most / n).max(0.0)
    }

    #[test]
    fn kll_is_exact_until_full_and_bounded_after() {
        let mut sketch = KllSketch::new(200, 1).unwrap();
        let small: Vec<f64> = (0..150).map(|i| f64::from((i * 37) % 150)).collect();
        sketch.update(&small);
        assert_eq!(sketch.len(), 150);
        assert_eq!(
            sketch.quantiles(&[0.0, 0.5, 1.0]).unwrap(),
            vec![0.0, 74.0, 149.0]
        );

        let values = noise(300_000, 5);
        let mut whole = KllSketch::new(200, 9).unwrap();
        whole.update(&values);
        let mut parts: Vec<KllSketch> = values
            .chunks(30_000)
            .enumerate()
            .map(|(i, c)| {
                let mut s = KllSketch::new(200, i as u64).unwrap();
                s.update(c);
                s
            })
            .collect();
        let mut merged = parts.remove(0);
        for p in &parts {
            merged.merge(p).unwrap();
        }
        let mut sorted = values.clone();
        sorted.sort_by(f64::total_cmp);
        let qs: Vec<f64> = (1..100).map(|i| f64::from(i) / 100.0).collect();
        for sketch in [&whole, &merged] {
            assert_eq!(sketch.len(), 300_000);
            assert!(sketch.retained() < 3 * 200 + 100);
            for (&q, v) in qs.iter().zip(sketch.quantiles(&qs).unwrap()) {
                assert!(rank_error(&sorted, v, q) < 0.0165, "q={q}");
            }
        }
    }

    #[test]
    fn kll_keeps_upper_levels_sorted() {
        let mut a = KllSketch::new(32, 1).unwrap();
        a.update(&noise(50_000, 8));
        let mut b = KllSketch::new(32, 2).unwrap();
        b.update(&noise(7_000, 9));
        a.merge(&b).unwrap();
        assert!(a.levels.len() > 4);
        for level in &a.levels[1..] {
            assert!(level.windows(2).all(|w| w[0] <= w[1]));
        }
        let total: u64 = a
            .levels
            .iter()
            .enumerate()
            .map(|(h, l)| (l.len() as u64) << h)
            .sum();
        assert_eq!(total, a.len());
        assert!(a.spare.is_empty());
    }

    #[test]
    fn kll_chunking_does_not_change_the_sketch() {
        let values = noise(20_000, 3);
        let mut at_once = KllSketch::new(64, 4).unwrap();
        at_once.update(&values);
        let mut one_by_one = KllSketch::new(64, 4).unwrap();
        for v in &values {
            one_by_one.update(std::slice::from_ref(v));
        }
        assert_eq!(at_once, one_by_one);
    }

    #[test]
    fn kll_edge_cases() {
        assert!(KllSketch::new(4, 0).is_err());
        let mut a = KllSketch::new(200, 0).unwrap();
        assert!(a.is_empty());
        assert!(a.quantiles(&[0.5]).unwrap()[0].is_nan());
        a.update(&[f64::NAN, 2.0, f64::NAN]);
        assert_eq!((a.len(), a.min(), a.max()), (1, 2.0, 2.0));
        assert!(a.quantiles(&[1.5]).is_err());
        let b = KllSketch::new(100, 0).unwrap();
        assert!(a.merge(&b).is_err());
        let mut empty = KllSketch::new(200, 0).unwrap();
        empty.merge(&a).unwrap();
        assert_eq!((empty.len(), empty.min(), empty.max()), (1, 2.0, 2.0));
    }
}
