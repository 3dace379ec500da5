"""The report's pictures: learning curves and bootstrap distributions, as PNG bytes.

matplotlib is imported when the first plot is drawn (``import crucible`` stays light), and
only its object-oriented API is used — a ``Figure`` with an Agg canvas, never ``pyplot`` —
so plots drawn in parallel threads share no global figure state. PNGs are written without
the software/version metadata, so the same data gives the same bytes.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from crucible.errors import ConfigurationError
from crucible.pipeline.report.collect import Curve, Distribution

__all__ = ["bootstrap_png", "curve_groups", "learning_curves_png"]

_LOSS_NAMES = ("nll", "loss")
_QUALITY_WORDS = ("acc", "reward", "kl", "score", "margin", "match", "f1")
_COLORS = ("#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#4b5563")


def _figure(width: float, height: float) -> Any:
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:  # pragma: no cover - matplotlib is a core dependency
        raise ConfigurationError(
            "plots need matplotlib (a dependency of crucible): pip install matplotlib"
        ) from None
    figure = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _png(figure: Any) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def curve_groups(curves: Sequence[Curve]) -> list[tuple[str, list[Curve]]]:
    """The panels of a stage's learning curves: losses, then quality metrics."""

    def leaf(curve: Curve) -> str:
        return curve.metric.rsplit("/", 1)[-1].lower()

    losses = [c for c in curves if leaf(c) in _LOSS_NAMES or leaf(c).endswith("_loss")]
    quality = [c for c in curves if c not in losses and any(w in leaf(c) for w in _QUALITY_WORDS)]
    return [(title, group) for title, group in (("loss", losses), ("quality", quality)) if group]


def learning_curves_png(stage: str, curves: Sequence[Curve]) -> bytes | None:
    """One figure per training stage: a panel of losses and one of quality metrics."""
    groups = curve_groups(curves)
    if not groups:
        return None
    figure = _figure(4.2 * len(groups), 3.2)
    axes = figure.subplots(1, len(groups), squeeze=False)[0]
    for ax, (title, group) in zip(axes, groups, strict=True):
        for i, curve in enumerate(group[: len(_COLORS)]):
            marker = "o" if len(curve.steps) < 12 else None
            ax.plot(
                curve.steps,
                curve.values,
                label=curve.metric,
                color=_COLORS[i],
                marker=marker,
                linewidth=1.5,
            )
        ax.set_title(f"{stage}: {title}")
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
    return _png(figure)


def bootstrap_png(distribution: Distribution) -> bytes | None:
    """A histogram of bootstrap replicates with the interval, the estimate and zero."""
    values = distribution.values
    if len(values) < 2:
        return None
    figure = _figure(5.0, 3.0)
    ax = figure.subplots()
    ax.hist(values, bins=min(50, max(10, len(values) // 40)), color="#93c5fd", edgecolor="white")
    verdict = distribution.verdict or {}
    low, high = verdict.get("ci_low"), verdict.get("ci_high")
    if isinstance(low, (int, float)) and isinstance(high, (int, float)):
        level = verdict.get("confidence")
        label = f"{level:.0%} CI" if isinstance(level, (int, float)) else "CI"
        ax.axvline(low, color="#1d4ed8", linestyle="--", label=label)
        ax.axvline(high, color="#1d4ed8", linestyle="--")
    estimate = verdict.get("difference", verdict.get("estimate"))
    if isinstance(estimate, (int, float)):
        ax.axvline(estimate, color="#111827", label="estimate")
    ax.axvline(0.0, color="#dc2626", linewidth=1, alpha=0.7, label="no difference")
    ax.set_title(f"{distribution.stage}: {distribution.metric}")
    ax.set_xlabel("bootstrap replicate")
    ax.legend(fontsize="small")
    return _png(figure)
