"""Bracketing root finders that reproduce statsmodels' ``solve_power`` step for step.

``brent`` is Brent's method in the formulation of SciPy's ``brentq`` (Brent 1973 with
inverse quadratic extrapolation), so that from the same bracket and function values it
visits the same points and stops at the same one. ``expanding_root`` is statsmodels'
``brentq_expanding``: decide from the starting bounds whether the function increases,
push an open bound out tenfold until the sign changes, then run ``brent``. Matching the
procedure, not only the root, is what makes a 1e-5 tolerance give statsmodels' answer
to ~1e-10.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from crucible.errors import InvalidArgumentError

__all__ = ["ConvergenceWarning", "RootNotBracketedError", "brent", "expanding_root"]

_RTOL = 4 * 2.220446049250313e-16
_MAX_EXPANSIONS = 100
_FACTOR = 10.0

Function = Callable[[float], float]


class ConvergenceWarning(RuntimeWarning):
    """A root finder stopped without a root; the result is NaN."""


class RootNotBracketedError(InvalidArgumentError):
    """The function has the same sign at both ends of the bracket."""


def brent(
    f: Function, xa: float, xb: float, *, xtol: float = 2e-12, maxiter: int = 100
) -> tuple[float, bool]:
    """A root of ``f`` between ``xa`` and ``xb`` (either order) and whether it converged:
    stops once the bracket is narrower than ``xtol + 4 eps |x|``."""
    x_prev, x_cur = float(xa), float(xb)
    f_prev, f_cur = f(x_prev), f(x_cur)
    if f_prev * f_cur > 0:
        raise RootNotBracketedError("f(a) and f(b) must have different signs")
    if f_prev == 0:
        return x_prev, True
    if f_cur == 0:
        return x_cur, True
    x_blk = f_blk = step_prev = step_cur = 0.0
    for _ in range(maxiter):
        if f_prev * f_cur < 0:
            # The previous point is the far end of the bracket again.
            x_blk, f_blk = x_prev, f_prev
            step_prev = step_cur = x_cur - x_prev
        if abs(f_blk) < abs(f_cur):
            # Keep the best point current: rotate (prev, cur, blk) <- (cur, blk, cur).
            x_prev, x_cur, x_blk = x_cur, x_blk, x_cur
            f_prev, f_cur, f_blk = f_cur, f_blk, f_cur
        tol = (xtol + _RTOL * abs(x_cur)) / 2
        bisect = (x_blk - x_cur) / 2
        if f_cur == 0 or abs(bisect) < tol:
            return x_cur, True
        step_prev, step_cur = _next_step(
            x_prev, x_cur, x_blk, f_prev, f_cur, f_blk, step_prev, step_cur, bisect, tol
        )
        x_prev, f_prev = x_cur, f_cur
        if abs(step_cur) > tol:
            x_cur += step_cur
        else:
            x_cur += tol if bisect > 0 else -tol
        f_cur = f(x_cur)
    return x_cur, False


def _next_step(
    x_prev: float,
    x_cur: float,
    x_blk: float,
    f_prev: float,
    f_cur: float,
    f_blk: float,
    step_prev: float,
    step_cur: float,
    bisect: float,
    tol: float,
) -> tuple[float, float]:
    """Interpolate (secant, or inverse quadratic through three points) when the last
    step shrank the function and the trial step is short enough; otherwise bisect."""
    if not (abs(step_prev) > tol and abs(f_cur) < abs(f_prev)):
        return bisect, bisect
    if x_prev == x_blk:
        trial = -f_cur * (x_cur - x_prev) / (f_cur - f_prev)
    else:
        slope_prev = (f_prev - f_cur) / (x_prev - x_cur)
        slope_blk = (f_blk - f_cur) / (x_blk - x_cur)
        trial = (
            -f_cur
            * (f_blk * slope_blk - f_prev * slope_prev)
            / (slope_blk * slope_prev * (f_blk - f_prev))
        )
    if 2 * abs(trial) < min(abs(step_prev), 3 * abs(bisect) - tol):
        return step_cur, trial
    return bisect, bisect


def expanding_root(
    f: Function,
    *,
    low: float | None = None,
    upp: float | None = None,
    start_upp: float | None = None,
    xtol: float = 1e-5,
) -> tuple[float, bool]:
    """A root of the monotone ``f``: bounds not given start at ``start_upp`` (else 1) and
    ``min(-1, upp - 1)`` and are pushed out tenfold until ``f`` changes sign."""
    s_upp = upp if upp is not None else (start_upp if start_upp is not None else 1.0)
    s_low = low if low is not None else min(-1.0, s_upp - 1.0)
    if upp is None:
        s_upp = max(s_upp, s_low + 1.0)
    increasing: bool | None = None
    if low is None or upp is None:
        f_low, f_upp = f(s_low), f(s_upp)
        # A two-sided power is even in the effect size: look right of zero instead.
        if abs(f_upp - f_low) < 1e-15 and s_low == -1 and s_upp == 1:
            s_low = 1e-8
            f_low = f(s_low)
        increasing = bool(f_low < f_upp)
    left, right = low, upp
    if not increasing:
        s_low, s_upp = s_upp, s_low
        left, right = right, left
    expansions = 0
    if left is None and s_low != 0:
        left = s_low
        while f(left) > 0:
            right = left
            left *= _FACTOR
            if expansions >= _MAX_EXPANSIONS:
                break
            expansions += 1
    if right is None and s_upp != 0:
        right = s_upp
        while f(right) < 0:
            left = right
            right *= _FACTOR
            if expansions >= _MAX_EXPANSIONS:
                break
            expansions += 1
    if left is None or right is None or math.isnan(left) or math.isnan(right):
        raise RootNotBracketedError("could not bracket a root")
    return brent(f, left, right, xtol=xtol)
