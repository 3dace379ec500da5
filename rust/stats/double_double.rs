//! Double-double arithmetic: a value carried as an unevaluated sum `hi + lo` of two
//! doubles, about 32 significant digits. Used where an algorithm is ill-conditioned in
//! one input (the incomplete beta near x = 1 with a large shape parameter), so that the
//! input's rounding does not reach the answer. Error-free transformations per Knuth
//! (two-sum) and via fused multiply-add (two-product).

use std::ops::{Add, Div, Mul, Sub};

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Dd {
    pub hi: f64,
    pub lo: f64,
}

#[inline]
fn two_sum(a: f64, b: f64) -> Dd {
    let s = a + b;
    let bb = s - a;
    Dd {
        hi: s,
        lo: (a - (s - bb)) + (b - bb),
    }
}

#[inline]
fn quick_two_sum(a: f64, b: f64) -> Dd {
    let s = a + b;
    Dd {
        hi: s,
        lo: b - (s - a),
    }
}

#[inline]
fn two_prod(a: f64, b: f64) -> Dd {
    let p = a * b;
    Dd {
        hi: p,
        lo: a.mul_add(b, -p),
    }
}

impl Dd {
    pub const ONE: Dd = Dd { hi: 1.0, lo: 0.0 };

    pub fn new(v: f64) -> Self {
        Dd { hi: v, lo: 0.0 }
    }

    pub fn to_f64(self) -> f64 {
        self.hi + self.lo
    }

    pub fn abs(self) -> Self {
        if self.hi < 0.0 {
            Dd {
                hi: -self.hi,
                lo: -self.lo,
            }
        } else {
            self
        }
    }

    /// `1 / (1 + q)` and `q / (1 + q)` to double-double precision, for an exact double q.
    pub fn split_ratio(q: f64) -> (Dd, Dd) {
        let denom = two_sum(1.0, q);
        (Dd::ONE / denom, Dd::new(q) / denom)
    }
}

impl Add for Dd {
    type Output = Dd;
    fn add(self, o: Dd) -> Dd {
        let s = two_sum(self.hi, o.hi);
        let t = two_sum(self.lo, o.lo);
        let r = quick_two_sum(s.hi, s.lo + t.hi);
        quick_two_sum(r.hi, r.lo + t.lo)
    }
}

impl Sub for Dd {
    type Output = Dd;
    fn sub(self, o: Dd) -> Dd {
        self + Dd {
            hi: -o.hi,
            lo: -o.lo,
        }
    }
}

impl Mul for Dd {
    type Output = Dd;
    fn mul(self, o: Dd) -> Dd {
        let p = two_prod(self.hi, o.hi);
        quick_two_sum(p.hi, p.lo + (self.hi * o.lo + self.lo * o.hi))
    }
}

impl Div for Dd {
    type Output = Dd;
    fn div(self, o: Dd) -> Dd {
        // Long division: one quotient digit, then a correction from the remainder.
        let q1 = self.hi / o.hi;
        let r = self - o * Dd::new(q1);
        let q2 = r.hi / o.hi;
        let r = r - o * Dd::new(q2);
        let q3 = r.hi / o.hi;
        quick_two_sum(q1, q2) + Dd::new(q3)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn carries_what_a_double_drops() {
        let third = Dd::ONE / Dd::new(3.0);
        let back = third * Dd::new(3.0) - Dd::ONE;
        assert!(back.to_f64().abs() < 1e-31);
        let (x, y) = Dd::split_ratio(1e-10);
        let sum = x + y - Dd::ONE;
        assert!(sum.to_f64().abs() < 1e-31);
        // 1 + 1e-20 survives in lo.
        let tiny = Dd::ONE + Dd::new(1e-20) - Dd::ONE;
        assert_eq!(tiny.to_f64(), 1e-20);
    }
}
