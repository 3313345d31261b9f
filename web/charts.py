"""Charts as inline SVG, drawn on the server: no script, no CDN (the hall has no Internet).

Colours come from CSS classes (``series-0`` …) in app.css; every bar carries its value as
text, so the chart is read at a glance and still exact. Each chart is an ``img`` with a title
and a description for screen readers.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from web.pages import Raw, esc

_ids = itertools.count(1)


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    values: Sequence[float | None]


def _frame(title: str, width: int, height: int, body: list[str], legend: Sequence[str]) -> Raw:
    ident = f"chart-{next(_ids)}"
    desc = "; ".join(legend)
    return Raw(
        f'<figure class="chart"><svg role="img" aria-labelledby="{ident}-t {ident}-d" '
        f'viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMinYMin meet">'
        f'<title id="{ident}-t">{esc(title)}</title><desc id="{ident}-d">{esc(desc)}</desc>'
        + "".join(body) + f'</svg><figcaption>{esc(title)}</figcaption></figure>')


def _legend(series: Sequence[Series], x: float, y: float) -> list[str]:
    out = []
    for i, s in enumerate(series):
        out.append(f'<rect class="series-{i}" x="{x:.0f}" y="{y - 10:.0f}" width="12" height="12"/>'
                   f'<text class="legend" x="{x + 17:.0f}" y="{y:.0f}">{esc(s.name)}</text>')
        x += 30 + text_width(s.name)
    return out


def text_width(text: str, size: float = 15) -> float:
    """About how wide ``text`` is drawn: CJK characters are square, Latin about half."""
    return sum(size if ord(ch) > 0x2E80 else size * 0.55 for ch in text)


def _fmt(value: float) -> str:
    return f"{value:.0f}" if value == int(value) else f"{value:.1f}"


def hbars(title: str, labels: Sequence[str], series: Sequence[Series], unit: str = "",
          limit: float | None = None) -> Raw:
    """Horizontal grouped bars, one group per label (services, counters, clerks)."""
    label_w, width, bar_h, gap = 190, 720, 18, 10
    group_h = bar_h * len(series) + gap
    top = 34
    height = top + group_h * len(labels) + 10
    peak = max([v for s in series for v in s.values if v is not None] + [limit or 0, 1e-9])
    scale = (width - label_w - 70) / peak
    body = _legend(series, label_w, 18)
    described = []
    for row, label in enumerate(labels):
        y = top + row * group_h
        body.append(f'<text class="label" x="{label_w - 8}" y="{y + group_h / 2:.0f}" '
                    f'text-anchor="end">{esc(label)}</text>')
        parts = []
        for i, s in enumerate(series):
            value = s.values[row]
            by = y + i * bar_h
            if value is None:
                continue
            w = max(1.0, value * scale)
            body.append(f'<rect class="series-{i}" x="{label_w}" y="{by}" width="{w:.1f}" '
                        f'height="{bar_h - 2}"/><text class="value" x="{label_w + w + 4:.1f}" '
                        f'y="{by + bar_h - 4}">{_fmt(value)}{esc(unit)}</text>')
            parts.append(f"{s.name} {_fmt(value)}{unit}")
        described.append(f"{label}: {', '.join(parts) or 'none'}")
    if limit is not None:
        x = label_w + limit * scale
        body.append(f'<line class="limit" x1="{x:.1f}" y1="{top - 6}" x2="{x:.1f}" '
                    f'y2="{height - 6}"/>')
    return _frame(title, width, height, body, described)


def columns(title: str, labels: Sequence[str], series: Sequence[Series], unit: str = "",
            limit: float | None = None) -> Raw:
    """Vertical grouped columns, one group per label (hours of the day)."""
    width, height, left, top, bottom = 720, 260, 40, 34, 28
    inner_h = height - top - bottom
    group_w = (width - left - 10) / max(1, len(labels))
    bar_w = max(4.0, (group_w - 8) / max(1, len(series)))
    peak = max([v for s in series for v in s.values if v is not None] + [limit or 0, 1e-9])
    scale = inner_h / peak
    body = _legend(series, left, 18)
    described = []
    for col, label in enumerate(labels):
        x = left + col * group_w + 4
        body.append(f'<text class="label" x="{x + group_w / 2 - 4:.1f}" y="{height - 10}" '
                    f'text-anchor="middle">{esc(label)}</text>')
        parts = []
        for i, s in enumerate(series):
            value = s.values[col]
            if value is None:
                continue
            h = max(1.0, value * scale)
            bx = x + i * bar_w
            body.append(f'<rect class="series-{i}" x="{bx:.1f}" y="{top + inner_h - h:.1f}" '
                        f'width="{bar_w - 2:.1f}" height="{h:.1f}"/>'
                        f'<text class="value" x="{bx + bar_w / 2 - 1:.1f}" '
                        f'y="{top + inner_h - h - 3:.1f}" text-anchor="middle">'
                        f'{_fmt(value)}</text>')
            parts.append(f"{s.name} {_fmt(value)}{unit}")
        described.append(f"{label}: {', '.join(parts) or 'none'}")
    if limit is not None:
        y = top + inner_h - limit * scale
        body.append(f'<line class="limit" x1="{left}" y1="{y:.1f}" x2="{width - 6}" '
                    f'y2="{y:.1f}"/>')
    body.append(f'<line class="axis" x1="{left}" y1="{top + inner_h}" x2="{width - 6}" '
                f'y2="{top + inner_h}"/>')
    return _frame(title, width, height, body, described)
