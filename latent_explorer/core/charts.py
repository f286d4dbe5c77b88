"""Small line and step charts as standalone SVG text, for reports that must open without the window or Qt.

A report embeds the window's own figures where the window has them; measurements that no panel draws (the
structure analysis, a KMeans sweep run for the report) are drawn here. SVG keeps text sharp at any zoom and
needs nothing but a browser. Colours follow the Okabe–Ito palette, which stays distinct for colour-blind
readers; series also differ by dash where colour alone would not do.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

import numpy as np

PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
DASHES = ("", "6 4", "2 3", "8 3 2 3")
_CLIP_IDS = itertools.count(1)


@dataclass(frozen=True)
class Series:
    """One curve: ``kind`` "line" (x, y), "step" (x = bin edges, y = one value per bin), "points", or "band"
    (the area between ``y`` and ``y_upper``)."""

    name: str
    x: np.ndarray
    y: np.ndarray
    kind: str = "line"
    y_upper: np.ndarray | None = None
    colour: int = 0  # index into PALETTE
    dash: int = 0  # index into DASHES


def nice_ticks(lo: float, hi: float, count: int = 6) -> list[float]:
    """About ``count`` round tick values (1, 2 or 5 × 10^k apart) covering [lo, hi]."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo]
    raw = (hi - lo) / max(count - 1, 1)
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1.0, 2.0, 5.0, 10.0) if m * power >= raw * (1 - 1e-9))
    first = math.ceil(lo / step - 1e-9)
    last = math.floor(hi / step + 1e-9)
    return [round(i * step, 12) for i in range(first, last + 1)]


def _label(value: float) -> str:
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 1e5 or magnitude < 1e-3:
        return f"{value:.1e}"
    return f"{value:g}" if magnitude >= 1 else f"{value:.3g}"


def _points(series: Series) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(series.x, np.float64)
    y = np.asarray(series.y, np.float64)
    if series.kind == "step":  # edges (b + 1) and values (b): a staircase
        x = np.repeat(x, 2)[1:-1]
        y = np.repeat(y, 2)
    return x, y


def line_chart(series: Sequence[Series], title: str, x_label: str, y_label: str, width: int = 720,
               height: int = 380, x_range: tuple[float, float] | None = None,
               y_range: tuple[float, float] | None = None, vertical_lines: Sequence[tuple[float, str]] = ()) -> str:
    """An SVG chart of ``series`` on shared linear axes, with a legend; NaN values break a line."""
    left, right, top, bottom = 84, 20, 36, 52
    plot_w, plot_h = width - left - right, height - top - bottom
    xs, ys = [], []
    for s in series:
        x, y = _points(s)
        xs.append(x[np.isfinite(x)])
        ys.append(y[np.isfinite(y)])
        if s.y_upper is not None:
            ys.append(np.asarray(s.y_upper, np.float64)[np.isfinite(s.y_upper)])
    all_x = np.concatenate([*xs, np.zeros(0)])
    all_y = np.concatenate([*ys, np.zeros(0)])
    if all_x.size == 0:
        all_x = np.array([0.0, 1.0])
    if all_y.size == 0:
        all_y = np.array([0.0, 1.0])
    x0, x1 = x_range or (float(all_x.min()), float(all_x.max()))
    y0, y1 = y_range or (min(0.0, float(all_y.min())), float(all_y.max()))
    if x1 <= x0:
        x1 = x0 + 1.0
    if y1 <= y0:
        y1 = y0 + 1.0
    y1 += 0.04 * (y1 - y0)

    def px(v: np.ndarray | float) -> np.ndarray:
        return left + (np.asarray(v, np.float64) - x0) / (x1 - x0) * plot_w

    def py(v: np.ndarray | float) -> np.ndarray:
        return top + plot_h - (np.asarray(v, np.float64) - y0) / (y1 - y0) * plot_h

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
           f'height="{height}" font-family="sans-serif" font-size="12">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="{width / 2:.1f}" y="20" text-anchor="middle" font-size="14">{escape(title)}</text>']
    for t in nice_ticks(x0, x1):
        x = float(px(t))
        out.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{top + plot_h}" stroke="#e5e5e5"/>')
        out.append(f'<text x="{x:.1f}" y="{top + plot_h + 16}" text-anchor="middle">{_label(t)}</text>')
    for t in nice_ticks(y0, y1):
        y = float(py(t))
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="#e5e5e5"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{_label(t)}</text>')
    out.append(f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#444"/>')
    out.append(f'<text x="{left + plot_w / 2:.1f}" y="{height - 12}" text-anchor="middle">{escape(x_label)}</text>')
    out.append(f'<text transform="translate(16 {top + plot_h / 2:.1f}) rotate(-90)" text-anchor="middle">'
               f'{escape(y_label)}</text>')
    clip = f"plot-{next(_CLIP_IDS)}"  # unique within a page that holds many charts
    out.append(f'<defs><clipPath id="{clip}"><rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}"/>'
               '</clipPath></defs>')
    out.append(f'<g clip-path="url(#{clip})">')
    for value, text in vertical_lines:
        x = float(px(value))
        out.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{top + plot_h}" stroke="#777" '
                   f'stroke-dasharray="3 3"/><text x="{x + 4:.1f}" y="{top + 14}" fill="#555">{escape(text)}</text>')
    for s in series:
        colour = PALETTE[s.colour % len(PALETTE)]
        x, y = _points(s)
        if s.kind == "band" and s.y_upper is not None:
            upper = np.asarray(s.y_upper, np.float64)
            ok = np.isfinite(x) & np.isfinite(y) & np.isfinite(upper)
            for run in _runs(ok):
                edge = [f"{a:.1f},{b:.1f}" for a, b in zip(px(x[run]), py(upper[run]), strict=True)]
                back = [f"{a:.1f},{b:.1f}" for a, b in zip(px(x[run][::-1]), py(y[run][::-1]), strict=True)]
                out.append(f'<polygon points="{" ".join(edge + back)}" fill="{colour}" fill-opacity="0.18"/>')
        elif s.kind == "points":
            ok = np.isfinite(x) & np.isfinite(y)
            out.extend(f'<circle cx="{a:.1f}" cy="{b:.1f}" r="1.6" fill="{colour}"/>'
                       for a, b in zip(px(x[ok]), py(y[ok]), strict=True))
        else:
            dash = DASHES[s.dash % len(DASHES)]
            dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
            for run in _runs(np.isfinite(x) & np.isfinite(y)):
                points = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(px(x[run]), py(y[run]), strict=True))
                out.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="1.6"'
                           f'{dash_attr}/>')
    out.append("</g>")
    legend_w = 40 + 7 * max((len(s.name) for s in series), default=0)
    legend_x = left + plot_w - legend_w - 4
    if series:
        out.append(f'<rect x="{legend_x}" y="{top + 2}" width="{legend_w}" height="{16 * len(series) + 6}" '
                   'fill="white" fill-opacity="0.85" stroke="#ccc"/>')
    for i, s in enumerate(series):
        colour = PALETTE[s.colour % len(PALETTE)]
        y = top + 18 + 16 * i
        if s.kind == "band":
            out.append(f'<rect x="{legend_x + 6}" y="{y - 9}" width="22" height="10" fill="{colour}" '
                       'fill-opacity="0.3"/>')
        else:
            dash = DASHES[s.dash % len(DASHES)]
            dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
            out.append(f'<line x1="{legend_x + 6}" y1="{y - 4}" x2="{legend_x + 28}" y2="{y - 4}" stroke="{colour}" '
                       f'stroke-width="2"{dash_attr}/>')
        out.append(f'<text x="{legend_x + 34}" y="{y}">{escape(s.name)}</text>')
    out.append("</svg>")
    return "\n".join(out)


def _runs(mask: np.ndarray) -> list[np.ndarray]:
    """Index arrays of the consecutive True stretches of ``mask`` that hold at least two points."""
    idx = np.flatnonzero(mask)
    if idx.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(idx) > 1) + 1
    return [run for run in np.split(idx, breaks) if run.size >= 2]
