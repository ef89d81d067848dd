"""Charts drawn on the server as SVG: bars, stacked bars for matrices, completions per day; and the
charts of a question's result and of a breakdown, for the results pages and the report.

Each chart is ``role="img"`` named by its ``<title>``; the page puts a data table beside it, so a
screen reader (or a printout without colour) gets the same figures. Every text is escaped: labels
come from survey definitions the evaluator typed. No inline styles (CSP): classes only.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import format_decimal
from flask_babel import gettext as _
from markupsafe import Markup, escape

from services.survey.surveys.questions import QuestionType

WIDTH = 640
LABEL_WIDTH = 230
ROW_HEIGHT = 28
# Colour-blind-safe diverging scale (low → high) with a neutral middle; "don't know" grey.
STACK_CLASSES = ["seg-1", "seg-2", "seg-3", "seg-4", "seg-5", "seg-6", "seg-7", "seg-8", "seg-9", "seg-10", "seg-11"]


@dataclass(frozen=True)
class Segment:
    label: str
    value: float


def _shorten(label: str, limit: int = 30) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _svg(chart_id: str, title: str, height: int, body: list[str], css_class: str) -> Markup:
    # Safe as it is: every text in it went through escape(); the rest is numbers and our own class names.
    return Markup(  # noqa: S704
        f'<svg class="chart {css_class}" id="{escape(chart_id)}" role="img" '
        f'aria-labelledby="{escape(chart_id)}-title" '
        f'viewBox="0 0 {WIDTH} {height}" width="100%" preserveAspectRatio="xMinYMin meet" '
        f'xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>' + "".join(body) + "</svg>"
    )


def bar_chart(chart_id: str, title: str, bars: list[tuple[str, float, str]]) -> Markup:
    """Horizontal bars: (label, value 0–100 or any scale, text shown at the bar's end)."""
    top = max((value for _label, value, _text in bars), default=0) or 1
    # Leave room after the longest bar for its figure ("125 (41,7 %)"), about 7.5 px a character.
    value_room = 14 + 7.5 * max((len(shown) for _label, _value, shown in bars), default=0)
    plot = WIDTH - LABEL_WIDTH - value_room
    body = []
    for i, (label, value, shown) in enumerate(bars):
        y = i * ROW_HEIGHT + 4
        length = 0 if value <= 0 else max(1.0, plot * value / top)
        body.append(
            f'<text class="chart-label" x="{LABEL_WIDTH - 8}" y="{y + 15}" text-anchor="end">'
            f"{escape(_shorten(label))}</text>"
            f'<rect class="bar" x="{LABEL_WIDTH}" y="{y}" width="{length:.1f}" height="{ROW_HEIGHT - 8}"></rect>'
            f'<text class="chart-value" x="{LABEL_WIDTH + length + 6:.1f}" y="{y + 15}">{escape(shown)}</text>'
        )
    return _svg(chart_id, title, len(bars) * ROW_HEIGHT + 8, body, "bars")


def stacked_chart(
    chart_id: str, title: str, rows: list[tuple[str, list[Segment]]], legend: list[str], dont_know: bool = False
) -> Markup:
    """One 100 % bar per row (matrix rows), split into the shares of each scale point.

    With ``dont_know`` the last segment (and legend entry) is "don't know", drawn light grey.
    """

    def css_of(j: int) -> str:
        return "seg-dk" if dont_know and j == len(legend) - 1 else STACK_CLASSES[j % len(STACK_CLASSES)]

    plot = WIDTH - LABEL_WIDTH - 10
    body = []
    for i, (label, segments) in enumerate(rows):
        y = i * ROW_HEIGHT + 4
        total = sum(s.value for s in segments)
        body.append(
            f'<text class="chart-label" x="{LABEL_WIDTH - 8}" y="{y + 15}" text-anchor="end">'
            f"{escape(_shorten(label))}</text>"
        )
        x = float(LABEL_WIDTH)
        for j, segment in enumerate(segments):
            if not total or not segment.value:
                continue
            length = plot * segment.value / total
            css = css_of(j)
            body.append(
                f'<rect class="{css}" x="{x:.1f}" y="{y}" width="{length:.1f}" height="{ROW_HEIGHT - 8}"></rect>'
            )
            if length > 26:
                share = round(100 * segment.value / total)
                text_css = "chart-label" if css == "seg-dk" else "chart-inside"
                body.append(
                    f'<text class="{text_css}" x="{x + length / 2:.1f}" y="{y + 15}" text-anchor="middle">'
                    f"{share}</text>"
                )
            x += length
    # The legend flows in lines under the bars.
    legend_y = len(rows) * ROW_HEIGHT + 14
    lx = 10.0
    for j, name in enumerate(legend):
        shown = _shorten(name, 24)
        width = 22 + 7 * len(shown)
        if lx + width > WIDTH and lx > 10:
            lx, legend_y = 10.0, legend_y + 20
        body.append(
            f'<rect class="{css_of(j)}" x="{lx:.1f}" y="{legend_y}" width="12" height="12"></rect>'
            f'<text class="chart-label" x="{lx + 16:.1f}" y="{legend_y + 11}">{escape(shown)}</text>'
        )
        lx += width
    return _svg(chart_id, title, legend_y + 24, body, "stacked")


def day_chart(
    chart_id: str, title: str, days: list[tuple[str, int, bool, bool]], reminder_text: str, invitation_text: str
) -> Markup:
    """Completions per day (or period) as columns, each labelled on the axis with its given text;
    invitation and reminder days marked with a line and a letter."""
    height, bottom, left = 220, 190, 40
    top = max((n for _d, n, _i, _r in days), default=0) or 1
    step = (WIDTH - left - 10) / max(1, len(days))
    width = max(1.0, step * 0.7)
    body = [
        f'<line class="axis" x1="{left}" y1="{bottom}" x2="{WIDTH - 5}" y2="{bottom}"></line>',
        f'<text class="chart-label" x="{left - 6}" y="{bottom - 150 + 4}" text-anchor="end">{top}</text>',
        f'<text class="chart-label" x="{left - 6}" y="{bottom + 4}" text-anchor="end">0</text>',
    ]
    for i, (day, n, invitation, reminder) in enumerate(days):
        x = left + i * step
        h = 150 * n / top
        if invitation or reminder:
            css = "mark-reminder" if reminder else "mark-invitation"
            letter = reminder_text[:1] if reminder else invitation_text[:1]
            body.append(
                f'<line class="{css}" x1="{x + width / 2:.1f}" y1="{bottom - 165}" '
                f'x2="{x + width / 2:.1f}" y2="{bottom}"></line>'
                f'<text class="chart-label" x="{x + width / 2:.1f}" y="{bottom - 168}" text-anchor="middle">'
                f"{escape(letter)}</text>"
            )
        if n:
            body.append(
                f'<rect class="bar" x="{x:.1f}" y="{bottom - h:.1f}" width="{width:.1f}" height="{h:.1f}"></rect>'
            )
        if i == 0 or i == len(days) - 1 or (len(days) <= 31 and i % 7 == 0):
            body.append(
                f'<text class="chart-label" x="{x + width / 2:.1f}" y="{bottom + 18}" text-anchor="middle">'
                f"{escape(day)}</text>"
            )
    return _svg(chart_id, title, height, body, "days")


# The charts of the results pages and the report, drawn from their figures.


def results_number(value, decimals: int = 1) -> str:
    """A figure the Swedish way (1 234,5); a dash when there is none."""
    if value is None:
        return "–"
    return format_decimal(value, format="#,##0" + ("." + "0" * decimals if decimals else ""))


def percent_text(value) -> str:
    return "–" if value is None else results_number(value) + " %"


def question_chart(result, chart_id: str | None = None) -> Markup | None:
    """The chart of one question's result (the page shows the same figures in a table)."""
    q = result.question
    chart_id = chart_id or f"chart-{q.key}"
    if q.type == QuestionType.MATRIX:
        legend = [str(v) for v in q.required_scale.points] + ([_("Vet inte")] if q.dont_know else [])
        rows = []
        for row in result.rows:
            segments = [Segment(b.label, b.count) for b in row.bars[: len(q.required_scale.points)]]
            if q.dont_know:
                segments.append(Segment(_("Vet inte"), row.dont_know))
            rows.append((row.label, segments))
        return stacked_chart(
            chart_id,
            _("Andel (%%) per svarsalternativ och påstående: %(q)s", q=q.text),
            rows,
            legend,
            dont_know=q.dont_know,
        )
    if result.bars and result.respondents:
        bars = [(b.label, b.count, f"{b.count} ({percent_text(b.percent)})") for b in result.bars]
        if result.dont_know:
            bars.append((_("Vet inte"), result.dont_know, str(result.dont_know)))
        return bar_chart(chart_id, _("Antal svar per alternativ: %(q)s", q=q.text), bars)
    return None


def breakdown_chart(table, chart_id: str = "chart-breakdown") -> Markup | None:
    """Stacked 100 % bars of the shown groups (only when each response gives one answer: the shares
    of a `multiple` question do not add up to a whole)."""
    shown = [g for g in table.groups if not g.hidden]
    if table.question.type == QuestionType.MULTIPLE or not shown:
        return None
    rows = [
        (g.label, [Segment(c.label, cell.count) for c, cell in zip(table.columns, g.cells, strict=True)]) for g in shown
    ]
    legend = [c.label for c in table.columns]
    return stacked_chart(
        chart_id,
        _("Andel (%%) per svarsalternativ och grupp: %(q)s", q=table.question.text),
        rows,
        legend,
        dont_know=bool(table.columns) and table.columns[-1].key == "dont_know",
    )
