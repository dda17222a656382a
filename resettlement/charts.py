"""Small charts drawn on the server as SVG: no JavaScript, no CDN, printable.

Every text that comes from data is escaped. The numbers are always in the report's table as
well; a chart only shows their shape. Colours come from the stylesheet (classes ``s0``, ``s1``).
"""

from collections.abc import Sequence
from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

Number = int | float | Decimal

WIDTH = 720
LABEL_WIDTH = 200  # the least room for bar labels; longer labels get more, up to MAX_LABEL
MAX_LABEL = 42  # characters; longer labels are shortened (the full text is in the tooltip)
CHAR_WIDTH = 6.6  # of the 12px sans-serif labels, roughly
VALUE_WIDTH = 60
BAR = 14
GAP = 8
HEADING = 24


def _fmt(value: Number) -> str:
    return f"{value:,}".replace(",", "\u202f") if isinstance(value, int) else str(value)


def _short(label: str) -> str:
    return label if len(label) <= MAX_LABEL else label[: MAX_LABEL - 1] + "…"


def _heading(title: str) -> str:
    return f'<text class="chart-title" x="0" y="16">{escape(title)}</text>'


def _legend(series: Sequence[tuple[str, Sequence[Number]]], y: int) -> list[str]:
    parts, x = [], 0
    for index, (name, _values) in enumerate(series):
        parts.append(
            f'<rect class="s{index}" x="{x}" y="{y}" width="12" height="12"/>'
            f'<text x="{x + 16}" y="{y + 10}">{escape(name)}</text>'
        )
        x += 24 + 8 * len(name)
    return parts


def bar_chart(
    labels: Sequence[str], series: Sequence[tuple[str, Sequence[Number]]], *, title: str
) -> SafeString:
    """Horizontal bars: one row per label, one bar per series in each row."""
    if not labels:
        return mark_safe("")
    top = max((max((v or 0 for v in values), default=0) for _n, values in series), default=0)
    label_width = max(LABEL_WIDTH, round(max(len(_short(x)) for x in labels) * CHAR_WIDTH) + 12)
    scale = (WIDTH - label_width - VALUE_WIDTH) / float(top) if top else 0
    row_height = BAR * len(series) + GAP
    legend = HEADING + (24 if len(series) > 1 else 0)
    height = legend + row_height * len(labels) + GAP
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}">',
        f"<title>{escape(title)}</title>",
    ]
    parts.append(_heading(title))
    if len(series) > 1:
        parts += _legend(series, HEADING + 4)
    for row, label in enumerate(labels):
        y0 = legend + row * row_height + GAP // 2
        parts.append(
            f'<text class="label" x="{label_width - 6}" y="{y0 + row_height // 2}" '
            f'text-anchor="end">{escape(_short(label))}</text>'
        )
        for index, (name, values) in enumerate(series):
            value = values[row] or 0
            y = y0 + index * BAR
            width = round(float(value) * scale, 1)
            parts.append(
                f'<rect class="bar s{index}" x="{label_width}" y="{y}" width="{width}" '
                f'height="{BAR - 2}"><title>{escape(label)} — {escape(name)}: '
                f"{escape(_fmt(value))}</title></rect>"
                f'<text class="value" x="{label_width + width + 4}" y="{y + BAR - 4}">'
                f"{escape(_fmt(value))}</text>"
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 (every data text above is escaped)


def line_chart(
    labels: Sequence[str], series: Sequence[tuple[str, Sequence[Number]]], *, title: str
) -> SafeString:
    """Lines over ordered labels (months, years); the first and last labels are written."""
    if not labels:
        return mark_safe("")
    height, left, bottom, top_margin = 280, 60, 30, 30 + HEADING
    top = max((max((v or 0 for v in values), default=0) for _n, values in series), default=0)
    plot_w, plot_h = WIDTH - left - 20, height - bottom - top_margin
    step = plot_w / max(len(labels) - 1, 1)

    def y_of(value: Number) -> float:
        return round(top_margin + plot_h - (float(value) / float(top) * plot_h if top else 0), 1)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}">',
        f"<title>{escape(title)}</title>",
        f'<line class="axis" x1="{left}" y1="{top_margin + plot_h}" x2="{left + plot_w}" '
        f'y2="{top_margin + plot_h}"/>',
        f'<text class="label" x="{left - 6}" y="{top_margin + 4}" text-anchor="end">'
        f"{escape(_fmt(top))}</text>",
        f'<text class="label" x="{left - 6}" y="{top_margin + plot_h}" text-anchor="end">0</text>',
        _heading(title),
    ]
    if len(series) > 1:
        parts += _legend(series, HEADING + 2)
    for index, (name, values) in enumerate(series):
        points = " ".join(
            f"{round(left + i * step, 1)},{y_of(v or 0)}" for i, v in enumerate(values)
        )
        parts.append(f'<polyline class="line s{index}" points="{points}">')
        parts.append(f"<title>{escape(name)}</title></polyline>")
        for i, v in enumerate(values):
            parts.append(
                f'<circle class="point s{index}" cx="{round(left + i * step, 1)}" '
                f'cy="{y_of(v or 0)}" r="3"><title>{escape(labels[i])}: '
                f"{escape(_fmt(v or 0))}</title></circle>"
            )
    for i, anchor in ((0, "start"), (len(labels) - 1, "end")):
        parts.append(
            f'<text class="label" x="{round(left + i * step, 1)}" y="{height - 8}" '
            f'text-anchor="{anchor}">{escape(labels[i])}</text>'
        )
        if len(labels) == 1:
            break
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 (every data text above is escaped)
