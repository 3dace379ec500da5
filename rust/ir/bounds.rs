//! Numeric bounds and lengths, with the messages of `crucible.ir.structure` (numbers shown
//! as Python's `repr` shows them).
//!
//! Numbers are compared as Python compares them (ints exactly, never through a double), so
//! `2**63` exceeds the bound `2**63 - 1` here as it does for msgspec.

use std::cmp::Ordering;

use super::canonical::Num;
use super::rules::python::{num_cmp, repr_num};
use super::schema::Bounds;

fn format_multiple(m: f64) -> String {
    if m.fract() == 0.0 && m.abs() < 1e15 {
        format!("{}", m as i64)
    } else {
        format!("{m}")
    }
}

/// Why `n` is out of `bounds` (the first bound it breaks), if it is.
pub fn range_problem(n: Num, bounds: &Bounds) -> Option<String> {
    use Ordering::{Equal, Greater, Less};
    let checks: [(Option<Num>, &str, &[Ordering]); 4] = [
        (bounds.ge, ">=", &[Greater, Equal]),
        (bounds.gt, ">", &[Greater]),
        (bounds.le, "<=", &[Less, Equal]),
        (bounds.lt, "<", &[Less]),
    ];
    for (bound, symbol, allowed) in checks {
        let Some(bound) = bound else { continue };
        if !num_cmp(n, bound).is_some_and(|o| allowed.contains(&o)) {
            let (limit, shown) = (repr_num(bound), repr_num(n));
            return Some(format!("must be {symbol} {limit}, got {shown}"));
        }
    }
    let m = bounds.multiple_of?;
    (m != 0.0 && n.as_f64() % m != 0.0)
        .then(|| format!("must be a multiple of {}", format_multiple(m)))
}

/// Why a length is outside `min..=max`, if it is (`unit`: what is counted).
pub fn length_problem(
    len: usize,
    min: Option<usize>,
    max: Option<usize>,
    unit: &str,
) -> Option<String> {
    if let Some(min) = min.filter(|&m| len < m) {
        Some(format!("must have at least {min} {unit}"))
    } else {
        max.filter(|&m| len > m)
            .map(|max| format!("must have at most {max} {unit}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_bounds_are_exact() {
        let bounds = Bounds {
            ge: Some(Num::Int(0)),
            le: Some(Num::Int(i64::MAX)),
            ..Bounds::default()
        };
        assert_eq!(range_problem(Num::Int(i64::MAX), &bounds), None);
        assert_eq!(
            range_problem(Num::UInt(1 << 63), &bounds).as_deref(),
            Some("must be <= 9223372036854775807, got 9223372036854775808")
        );
        let floats = Bounds {
            gt: Some(Num::Float(0.0)),
            ..Bounds::default()
        };
        assert_eq!(
            range_problem(Num::Float(-0.5), &floats).as_deref(),
            Some("must be > 0.0, got -0.5")
        );
        assert_eq!(
            length_problem(0, Some(1), None, "item(s)").as_deref(),
            Some("must have at least 1 item(s)")
        );
        assert_eq!(
            length_problem(3, None, Some(2), "entries").as_deref(),
            Some("must have at most 2 entries")
        );
    }
}
