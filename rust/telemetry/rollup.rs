//! Continuous aggregates of captured events, as `store.base.rollups_of` computes them.
//!
//! Events are grouped by (event name, window) in order of first appearance (one experiment
//! per batch); each group keeps counts, the weight sum, outcome counts, latency moments and
//! a log-bucketed latency histogram, and cost and token totals. Sums run in event order with
//! the same float operations as the Python reference, so both give identical rollups.

/// Relative accuracy of the latency histogram (`store.base.HISTOGRAM_ALPHA`).
pub const HISTOGRAM_ALPHA: f64 = 0.01;
const MIN_MS: f64 = 1e-6;

/// `ln(gamma)`, gamma = (1 + alpha) / (1 - alpha).
pub fn log_gamma() -> f64 {
    ((1.0 + HISTOGRAM_ALPHA) / (1.0 - HISTOGRAM_ALPHA)).ln()
}

/// The histogram bucket of a finite latency in ms: ceil(ln(max(ms, 1e-6)) / ln(gamma)).
pub fn latency_bucket(ms: f64, log_gamma: f64) -> i64 {
    (ms.max(MIN_MS).ln() / log_gamma).ceil() as i64
}

/// What one event contributes to its rollup.
#[derive(Debug, Clone, Copy)]
pub struct Contribution {
    pub weight: f64,
    pub success: Option<bool>,
    pub latency_ms: Option<f64>,
    pub cost_usd: Option<f64>,
    pub tokens_in: Option<i64>,
    pub tokens_out: Option<i64>,
}

/// The aggregates of one (name, window) group.
#[derive(Debug, Clone, PartialEq)]
pub struct Rollup {
    pub name: u32,
    pub window_start_us: i64,
    pub count: u64,
    pub weight_sum: f64,
    pub success_count: u64,
    pub error_count: u64,
    pub latency_count: u64,
    pub latency_sum: f64,
    pub latency_sum_sq: f64,
    pub latency_min: Option<f64>,
    pub latency_max: Option<f64>,
    /// (bucket, count), in order of first appearance.
    pub latency_hist: Vec<(i64, u64)>,
    pub cost_usd: f64,
    pub tokens_in: i128,
    pub tokens_out: i128,
}

impl Rollup {
    fn new(name: u32, window_start_us: i64) -> Self {
        Rollup {
            name,
            window_start_us,
            count: 0,
            weight_sum: 0.0,
            success_count: 0,
            error_count: 0,
            latency_count: 0,
            latency_sum: 0.0,
            latency_sum_sq: 0.0,
            latency_min: None,
            latency_max: None,
            latency_hist: Vec::new(),
            cost_usd: 0.0,
            tokens_in: 0,
            tokens_out: 0,
        }
    }

    fn add(&mut self, c: &Contribution, log_gamma: f64) {
        self.count += 1;
        self.weight_sum += c.weight;
        match c.success {
            Some(true) => self.success_count += 1,
            Some(false) => self.error_count += 1,
            None => {}
        }
        if let Some(x) = c.latency_ms.filter(|x| x.is_finite()) {
            self.latency_count += 1;
            self.latency_sum += x;
            self.latency_sum_sq += x * x;
            if self.latency_min.is_none_or(|m| x < m) {
                self.latency_min = Some(x);
            }
            if self.latency_max.is_none_or(|m| x > m) {
                self.latency_max = Some(x);
            }
            let bucket = latency_bucket(x, log_gamma);
            match self.latency_hist.iter_mut().find(|(b, _)| *b == bucket) {
                Some((_, n)) => *n += 1,
                None => self.latency_hist.push((bucket, 1)),
            }
        }
        if let Some(cost) = c.cost_usd {
            self.cost_usd += cost;
        }
        self.tokens_in += i128::from(c.tokens_in.unwrap_or(0));
        self.tokens_out += i128::from(c.tokens_out.unwrap_or(0));
    }
}

/// Rollups of events given as (name code, wall time µs, contribution), grouped by name and
/// `window_us`-aligned window in order of first appearance. `window_us` must be positive.
pub fn rollups(
    events: impl Iterator<Item = (u32, i64, Contribution)>,
    window_us: i64,
) -> Vec<Rollup> {
    let window = window_us.max(1);
    let lg = log_gamma();
    let mut out: Vec<Rollup> = Vec::new();
    let mut last: Option<usize> = None;
    for (name, wall, c) in events {
        let start = wall.div_euclid(window) * window;
        let hit = |r: &Rollup| r.name == name && r.window_start_us == start;
        let at = match last.filter(|&i| out.get(i).is_some_and(hit)) {
            Some(i) => i,
            None => match out.iter().position(hit) {
                Some(i) => i,
                None => {
                    out.push(Rollup::new(name, start));
                    out.len() - 1
                }
            },
        };
        if let Some(r) = out.get_mut(at) {
            r.add(&c, lg);
        }
        last = Some(at);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(latency: Option<f64>, success: Option<bool>) -> Contribution {
        Contribution {
            weight: 1.0,
            success,
            latency_ms: latency,
            cost_usd: Some(0.5),
            tokens_in: Some(3),
            tokens_out: None,
        }
    }

    #[test]
    fn groups_by_name_and_window() {
        let events = vec![
            (0, 1_500_000, c(Some(2.0), Some(true))),
            (1, 1_600_000, c(None, Some(false))),
            (0, 1_900_000, c(Some(f64::NAN), None)),
            (0, 2_000_000, c(Some(1.0), None)),
        ];
        let r = rollups(events.into_iter(), 1_000_000);
        assert_eq!(r.len(), 3);
        assert_eq!(
            (r[0].name, r[0].window_start_us, r[0].count),
            (0, 1_000_000, 2)
        );
        assert_eq!(r[0].latency_count, 1);
        assert_eq!(r[0].success_count, 1);
        assert_eq!(r[1].error_count, 1);
        assert_eq!(r[0].cost_usd, 1.0);
        assert_eq!(r[0].tokens_in, 6);
        assert_eq!(r[2].window_start_us, 2_000_000);
    }

    #[test]
    fn buckets_bound_their_values() {
        let lg = log_gamma();
        for x in [0.001, 0.5, 1.0, 2.5, 1e4] {
            let b = latency_bucket(x, lg);
            assert!(x <= lg.mul_add(b as f64, 0.0).exp() * 1.000_001);
        }
        assert_eq!(latency_bucket(0.0, lg), latency_bucket(1e-9, lg));
    }
}
