"""Pictures for the staff pages, all drawn with matplotlib: training curves and scorer evaluation plots as PNG bytes
(served by their own URLs), the agreement page's band histogram and gold scatter as SVG text (inlined in the page).

Uses matplotlib's object API with the Agg canvas (no pyplot global state), so it is safe in web worker threads.
matplotlib is imported when the first picture is drawn, not when this module is: the web process starts without it.
"""

from __future__ import annotations

import html
import io
import math
import re
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from rl.metrics import HALF_BANDS

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# Curves a round page shows, in order: key in a step's metrics['history'] -> title.
CURVES = {
    "reward": "Reward",
    "kl": "KL to the reference policy",
    "loss": "Loss",
    "chars_changed": "Characters changed",
    "m": "M (product metric)",
}
COLOURS = ["#2f5bea", "#e8710a", "#1e8e3e", "#9334e6", "#c0392b", "#5b6478"]
ORIGINAL_COLOUR, REWRITE_COLOUR = "#5b6478", "#2f5bea"


def _figure(width: float = 5.2, height: float = 3.0) -> Figure:
    # Imported on the first picture (see the module docstring); later calls find the modules loaded.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def _svg(fig: Figure, label: str) -> str:
    """The figure as an <svg> element to inline in a page (no XML prologue), scaled to the width of its box."""
    import matplotlib

    # Text stays <text> (smaller, and readable in the page source); only SVG output reads this setting.
    matplotlib.rcParams["svg.fonttype"] = "none"
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg")
    text = buffer.getvalue()
    element = text[text.index("<svg") :]
    # matplotlib numbers ids from 1 in every file (figure_1, clip paths, markers): two charts in one page would clash,
    # and a reference could land in the other chart. One prefix per chart on every id and every reference to one.
    prefix = f"chart-{uuid.uuid4().hex[:8]}-"
    element = re.sub(r'(\bid="|url\(#|href="#)', lambda match: match.group(1) + prefix, element)
    attributes = f'<svg role="img" aria-label="{html.escape(label)}" style="width:100%;height:auto" '
    return element.replace("<svg ", attributes, 1)


def _message(fig: Figure, text: str) -> None:
    ax = fig.add_subplot()
    ax.set_axis_off()
    ax.text(0.5, 0.5, text, ha="center", va="center", color="#5b6478", transform=ax.transAxes)


def _finite(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def curve_series(histories: Mapping[str, Sequence[Mapping]], key: str) -> dict[str, tuple[list[float], list[float]]]:
    """(x, y) per step for one metric; x is the point's 'step' when recorded, else its position."""
    series = {}
    for label, history in histories.items():
        xs, ys = [], []
        for position, point in enumerate(history, start=1):
            value = point.get(key)
            if _finite(value):
                step = point.get("step")
                xs.append(float(step) if _finite(step) else float(position))
                ys.append(float(value))
        if xs:
            series[label] = (xs, ys)
    return series


def line_chart_png(
    series: Mapping[str, tuple[Sequence[float], Sequence[float]]],
    title: str,
    xlabel: str = "training step",
    ylabel: str = "",
) -> bytes:
    fig = _figure()
    if not series:
        _message(fig, f"{title}: no points yet")
        return _png(fig)
    ax = fig.add_subplot()
    for i, (label, (xs, ys)) in enumerate(series.items()):
        ax.plot(
            xs,
            ys,
            marker="o" if len(xs) < 30 else None,
            markersize=3,
            linewidth=1.5,
            label=label,
            color=COLOURS[i % len(COLOURS)],
        )
    ax.set_title(title, fontsize=11)
    ax.set_xlabel(xlabel)
    from matplotlib.ticker import MaxNLocator  # loaded with the figure (_figure)

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if ylabel:
        ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    if len(series) > 1:
        ax.legend(fontsize=8)
    return _png(fig)


def mean_points_png(points: Sequence[tuple[float, float]], title: str, xlabel: str, ylabel: str) -> bytes:
    """A calibration curve given only as (true band, mean predicted) points."""
    fig = _figure(4.6, 4.2)
    if not points:
        _message(fig, "no points")
        return _png(fig)
    ax = fig.add_subplot()
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    ax.plot(xs, ys, color=COLOURS[1], marker="o", label="mean predicted")
    low, high = min(xs + ys) - 0.5, max(xs + ys) + 0.5
    ax.plot([low, high], [low, high], color="#5b6478", linestyle="--", linewidth=1, label="perfect")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=11)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _png(fig)


def bar_chart_png(values: Mapping[str, float], title: str, ylabel: str = "") -> bytes:
    fig = _figure()
    if not values:
        _message(fig, f"{title}: nothing to show")
        return _png(fig)
    ax = fig.add_subplot()
    labels = list(values)
    ax.bar(labels, [values[k] for k in labels], color=COLOURS[0])
    ax.set_title(title, fontsize=11)
    if ylabel:
        ax.set_ylabel(ylabel)
    ax.grid(axis="y", alpha=0.3)
    ax.tick_params(axis="x", labelsize=8)
    return _png(fig)


def confusion_png(labels: Sequence, matrix: Sequence[Sequence[int]], title: str = "Confusion matrix") -> bytes:
    fig = _figure(5.6, 5.0)
    if not matrix:
        _message(fig, "no confusion matrix stored")
        return _png(fig)
    ax = fig.add_subplot()
    image = ax.imshow(matrix, cmap="Blues")
    names = [str(label) for label in labels]
    ax.set_xticks(range(len(names)), names, rotation=90, fontsize=7)
    ax.set_yticks(range(len(names)), names, fontsize=7)
    ax.set_xlabel("predicted band")
    ax.set_ylabel("true band")
    ax.set_title(title, fontsize=11)
    peak = max((max(row) for row in matrix), default=0)
    for i, row in enumerate(matrix):
        for j, count in enumerate(row):
            if count:
                colour = "white" if count > peak / 2 else "#1d2433"
                ax.text(j, i, str(count), ha="center", va="center", fontsize=6, color=colour)
    fig.colorbar(image, ax=ax, shrink=0.8)
    return _png(fig)


def scatter_png(xs: Sequence[float], ys: Sequence[float], title: str, xlabel: str, ylabel: str) -> bytes:
    """Two judgements of the same texts, e.g. scorer band vs human consensus band."""
    fig = _figure(4.6, 4.2)
    if not xs:
        _message(fig, "no pairs yet")
        return _png(fig)
    ax = fig.add_subplot()
    ax.scatter(xs, ys, s=16, alpha=0.6, color=COLOURS[0])
    low, high = min(list(xs) + list(ys)) - 0.5, max(list(xs) + list(ys)) + 0.5
    ax.plot([low, high], [low, high], color="#5b6478", linestyle="--", linewidth=1)
    ax.set_xlim(low, high)
    ax.set_ylim(low, high)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=11)
    ax.grid(alpha=0.3)
    return _png(fig)


def band_counts(bands: Sequence[float]) -> list[int]:
    """How many of `bands` fall on each half band of HALF_BANDS (rounded to the nearest)."""
    counts = Counter(round(float(band) * 2) for band in bands)
    return [counts[i] for i in range(len(HALF_BANDS))]


def band_histogram_svg(original: Sequence[float], rewrite: Sequence[float]) -> str:
    """Grouped bars per half band: how often raters gave each band to originals and to rewrites."""
    fig = _figure(5.2, 2.6)
    if not original and not rewrite:
        _message(fig, "no ratings yet")
        return _svg(fig, "band distribution: no ratings yet")
    ax = fig.add_subplot()
    positions = [float(band) for band in HALF_BANDS]
    for offset, bands, colour, name in (
        (-0.12, original, ORIGINAL_COLOUR, "originals"),
        (0.12, rewrite, REWRITE_COLOUR, "rewrites"),
    ):
        label = f"{name} ({len(bands)})"
        ax.bar([p + offset for p in positions], band_counts(bands), width=0.22, color=colour, label=label)
    ax.set_xticks(range(10))
    ax.set_xlim(-0.5, 9.5)
    ax.set_xlabel("band given")
    from matplotlib.ticker import MaxNLocator  # loaded with the figure (_figure)

    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    return _svg(fig, "band distribution of originals and rewrites")


def stacked_points(points: Sequence[tuple[float, float, str]]) -> list[tuple[float, float, int]]:
    """(reference, rater band, how many ratings) per distinct position: many gold ratings share a grid point."""
    counts = Counter((float(reference), float(band)) for reference, band, _ in points)
    return [(reference, band, n) for (reference, band), n in sorted(counts.items())]


def gold_scatter_svg(points: Sequence[tuple[float, float, str]]) -> str:
    """Rater band (y) against the trusted reference band (x) on gold items; the diagonal is perfect agreement.

    `points` are (reference, rater band, rater name); the size of a dot says how many ratings share it.
    """
    fig = _figure(3.8, 3.4)
    if not points:
        _message(fig, "no gold ratings yet")
        return _svg(fig, "rater band against reference band: no gold ratings yet")
    ax = fig.add_subplot()
    stacked = stacked_points(points)
    values = [v for reference, band, _ in stacked for v in (reference, band)]
    low, high = max(0.0, min(values) - 1.0), min(9.0, max(values) + 1.0)
    ax.plot([low, high], [low, high], color=COLOURS[2], linestyle="--", linewidth=1, label="perfect")
    ax.scatter(
        [p[0] for p in stacked],
        [p[1] for p in stacked],
        s=[20 + 15 * min(p[2], 9) for p in stacked],
        alpha=0.55,
        color=REWRITE_COLOUR,
        label=f"gold ratings ({len(points)})",
    )
    ax.set_xlim(low, high)
    ax.set_ylim(low, high)
    ax.set_xlabel("reference band")
    ax.set_ylabel("rater band")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    return _svg(fig, "rater band against reference band on gold items")
