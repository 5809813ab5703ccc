"""Inline SVG charts, generated in Python: the report must open offline, with no CDN and no JS.

Three shapes cover the report: a line chart over categories (model versions, weeks, dates) with
optional 95% interval whiskers, a grouped bar chart with optional threshold lines, and a curve
chart on two numeric axes (precision against recall) with marked operating points. Every
chart is an ``<svg class="chart">`` whose series are ``<g class="series" data-name=...>``
groups, so a browser test can count what rendered.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape

PALETTE = ("#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#4b5563")
WIDTH, HEIGHT = 640, 300
LEFT, RIGHT, TOP, BOTTOM = 56, 150, 36, 56


@dataclass
class Series:
    """One named line or bar set; ``None`` values are gaps. ``intervals`` pairs with ``values``."""

    name: str
    values: Sequence[float | None]
    intervals: Sequence[tuple[float, float] | None] = field(default_factory=list)


def _fmt(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".") if value % 1 else f"{int(value)}"


def _y_max(series: Sequence[Series], floor: float | None, thresholds: Sequence[tuple[str, float]] = ()) -> float:
    values = [v for s in series for v in s.values if v is not None]
    values += [hi for s in series for iv in s.intervals if iv is not None for hi in iv[1:]]
    values += [t for _, t in thresholds]
    top = max(values, default=0.0)
    if floor is not None:
        top = max(top, floor)
    return nice_top(top) if top > 0 else 1.0


def nice_top(top: float, ticks: int = 4) -> float:
    """The smallest ``ticks`` x (1, 2, 2.5 or 5 x 10^k) at or above ``top``: every grid line
    then falls on a round number (3711.4 becomes 4000, with lines at 1000, 2000, ...)."""
    import math

    raw = top / ticks
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw * (1 - 1e-9))
    return step * ticks


class _Frame:
    """Axes, grid, labels and the legend shared by both chart kinds."""

    def __init__(self, chart_id: str, title: str, labels: Sequence[str], y_max: float, y_label: str, n_series: int) -> None:
        self.labels, self.y_max = list(labels), y_max
        self.plot_w, self.plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
        self.parts = [
            f'<svg class="chart" id="{escape(chart_id)}" data-series="{n_series}" xmlns="http://www.w3.org/2000/svg" '
            f'width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}">',
            f'<title>{escape(title)}</title>',
            f'<text x="{LEFT}" y="20" class="chart-title" font-size="14" font-weight="600">{escape(title)}</text>',
        ]
        for k in range(5):
            value = y_max * k / 4
            y = self.y(value)
            self.parts.append(f'<line x1="{LEFT}" x2="{LEFT + self.plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e5e7eb"/>')
            self.parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="10">{_fmt(round(value, 2))}</text>')
        self.parts.append(
            f'<line x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{TOP + self.plot_h}" stroke="#6b7280"/>'
            f'<line x1="{LEFT}" x2="{LEFT + self.plot_w}" y1="{TOP + self.plot_h}" y2="{TOP + self.plot_h}" stroke="#6b7280"/>'
        )
        if y_label:
            self.parts.append(
                f'<text x="14" y="{TOP + self.plot_h / 2:.1f}" font-size="10" transform="rotate(-90 14 {TOP + self.plot_h / 2:.1f})" '
                f'text-anchor="middle">{escape(y_label)}</text>'
            )
        self.x_labels()

    def x_labels(self) -> None:
        step = max(1, len(self.labels) // 12)  # at most ~12 x labels stay readable
        for i, label in enumerate(self.labels):
            if i % step == 0 or i == len(self.labels) - 1:
                self.x_label_at(self.x(i), label)

    def x_label_at(self, x: float, label: str) -> None:
        self.parts.append(
            f'<text x="{x:.1f}" y="{TOP + self.plot_h + 16}" text-anchor="middle" font-size="10">{escape(label)}</text>'
        )

    def x(self, i: int) -> float:
        n = max(len(self.labels), 1)
        return LEFT + self.plot_w * (i + 0.5) / n

    def y(self, value: float) -> float:
        return TOP + self.plot_h * (1 - min(max(value / self.y_max, 0.0), 1.0))

    def legend(self, names: Sequence[str]) -> None:
        for k, name in enumerate(names):
            y = TOP + 14 * k
            colour = PALETTE[k % len(PALETTE)]
            self.parts.append(
                f'<rect x="{LEFT + self.plot_w + 12}" y="{y}" width="10" height="10" fill="{colour}"/>'
                f'<text x="{LEFT + self.plot_w + 26}" y="{y + 9}" font-size="10">{escape(name)}</text>'
            )

    def done(self) -> str:
        return "\n".join([*self.parts, "</svg>"])


def empty_chart(chart_id: str, title: str, message: str) -> str:
    """A framed placeholder when there is nothing to draw yet (still a visible SVG)."""
    return (
        f'<svg class="chart empty" id="{escape(chart_id)}" data-series="0" xmlns="http://www.w3.org/2000/svg" '
        f'width="{WIDTH}" height="80" viewBox="0 0 {WIDTH} 80"><title>{escape(title)}</title>'
        f'<text x="{LEFT}" y="20" font-size="14" font-weight="600">{escape(title)}</text>'
        f'<text x="{LEFT}" y="50" font-size="12" fill="#6b7280">{escape(message)}</text></svg>'
    )


def line_chart(
    chart_id: str,
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    y_label: str = "",
    y_floor: float | None = None,
) -> str:
    """Lines over categories; points with 95% interval whiskers where ``intervals`` are given."""
    frame = _Frame(chart_id, title, labels, _y_max(series, y_floor), y_label, len(series))
    for k, s in enumerate(series):
        colour = PALETTE[k % len(PALETTE)]
        offset = (k - (len(series) - 1) / 2) * 4  # whiskers of several series side by side
        group = [f'<g class="series" data-name="{escape(s.name)}" stroke="{colour}" fill="{colour}">']
        points = [(frame.x(i) + offset, frame.y(v)) for i, v in enumerate(s.values) if v is not None]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            group.append(f'<polyline points="{path}" fill="none" stroke-width="2"/>')
        for i, v in enumerate(s.values):
            if v is None:
                continue
            x, y = frame.x(i) + offset, frame.y(v)
            interval = s.intervals[i] if i < len(s.intervals) else None
            if interval is not None:
                y_lo, y_hi = frame.y(interval[0]), frame.y(interval[1])
                group.append(
                    f'<line class="ci" x1="{x:.1f}" x2="{x:.1f}" y1="{y_lo:.1f}" y2="{y_hi:.1f}" stroke-width="1.5"/>'
                    f'<line x1="{x - 3:.1f}" x2="{x + 3:.1f}" y1="{y_lo:.1f}" y2="{y_lo:.1f}"/>'
                    f'<line x1="{x - 3:.1f}" x2="{x + 3:.1f}" y1="{y_hi:.1f}" y2="{y_hi:.1f}"/>'
                )
            group.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5"><title>{escape(s.name)}: {v:.3f}</title></circle>')
        group.append("</g>")
        frame.parts.append("".join(group))
    frame.legend([s.name for s in series])
    return frame.done()


def bar_chart(
    chart_id: str,
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    thresholds: Sequence[tuple[str, float]] = (),
    y_label: str = "",
) -> str:
    """Grouped bars per category; each threshold is a dashed horizontal line with its label."""
    frame = _Frame(chart_id, title, labels, _y_max(series, None, thresholds), y_label, len(series))
    slot = frame.plot_w / max(len(labels), 1)
    bar_w = max(2.0, slot * 0.8 / max(len(series), 1))
    base_y = frame.y(0)
    for k, s in enumerate(series):
        colour = PALETTE[k % len(PALETTE)]
        group = [f'<g class="series" data-name="{escape(s.name)}" fill="{colour}">']
        for i, v in enumerate(s.values):
            if v is None:
                continue
            x = LEFT + slot * i + slot * 0.1 + bar_w * k
            top = frame.y(v)
            height = max(base_y - top, 1.0)  # a zero still shows as a hairline
            group.append(
                f'<rect x="{x:.1f}" y="{base_y - height:.1f}" width="{bar_w:.1f}" height="{height:.1f}">'
                f'<title>{escape(labels[i])} {escape(s.name)}: {_fmt(v)}</title></rect>'
            )
        group.append("</g>")
        frame.parts.append("".join(group))
    for name, value in thresholds:
        y = frame.y(value)
        frame.parts.append(
            f'<g class="threshold" data-name="{escape(name)}"><line x1="{LEFT}" x2="{LEFT + frame.plot_w}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="#111827" stroke-dasharray="5 4"/><text x="{LEFT + frame.plot_w - 4}" y="{y - 4:.1f}" text-anchor="end" '
            f'font-size="10">{escape(name)} {_fmt(value)}</text></g>'
        )
    frame.legend([s.name for s in series])
    return frame.done()


class _NumericFrame(_Frame):
    """A frame whose x axis is a number from 0 to 1 (ticks at quarters), named by ``x_name``."""

    def __init__(self, chart_id: str, title: str, x_name: str, y_label: str, n_series: int) -> None:
        super().__init__(chart_id, title, ["0", "0.25", "0.5", "0.75", "1"], 1.0, y_label, n_series)
        self.parts.append(f'<text x="{LEFT + self.plot_w / 2:.1f}" y="{HEIGHT - 12}" text-anchor="middle" '
                          f'font-size="10">{escape(x_name)}</text>')

    def x_labels(self) -> None:
        for k, label in enumerate(self.labels):
            self.x_label_at(self.x_value(k / 4), label)

    def x_value(self, value: float) -> float:
        return LEFT + self.plot_w * min(max(value, 0.0), 1.0)


@dataclass
class Curve:
    """One named curve of ``(x, y)`` points in [0, 1]², and an optional marked point on it
    (``marker``: its label and coordinates, e.g. the operating threshold)."""

    name: str
    points: Sequence[tuple[float, float]]
    marker: tuple[str, float, float] | None = None


def curve_chart(chart_id: str, title: str, curves: Sequence[Curve], x_name: str, y_label: str) -> str:
    """Curves on two axes from 0 to 1 (a precision-recall curve per reviewer), each a polyline
    with its marked point drawn as a ring with its label."""
    frame = _NumericFrame(chart_id, title, x_name, y_label, len(curves))
    for k, curve in enumerate(curves):
        colour = PALETTE[k % len(PALETTE)]
        group = [f'<g class="series" data-name="{escape(curve.name)}" stroke="{colour}" fill="{colour}">']
        points = [(frame.x_value(x), frame.y(y)) for x, y in curve.points]
        if len(points) > 1:
            group.append(f'<polyline points="{" ".join(f"{x:.1f},{y:.1f}" for x, y in points)}" fill="none" stroke-width="2"/>')
        elif points:
            group.append(f'<circle cx="{points[0][0]:.1f}" cy="{points[0][1]:.1f}" r="2.5"/>')
        if curve.marker is not None:
            label, mx, my = curve.marker
            x, y = frame.x_value(mx), frame.y(my)
            group.append(f'<circle class="marker" cx="{x:.1f}" cy="{y:.1f}" r="5" fill="none" stroke-width="2">'
                         f'<title>{escape(curve.name)}: {escape(label)} (x {mx:.3f}, y {my:.3f})</title></circle>')
        group.append("</g>")
        frame.parts.append("".join(group))
    frame.legend([c.name for c in curves])
    return frame.done()
