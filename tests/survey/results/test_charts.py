"""SVG charts: named for screen readers, labels escaped, bars in proportion."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from services.survey.results import charts

SVG = "{http://www.w3.org/2000/svg}"


def test_bar_chart_is_a_named_image_with_escaped_labels():
    svg = str(
        charts.bar_chart("c1", "Antal svar <per> alternativ", [("<b>Ja</b>", 30, "30 (75 %)"), ("Nej", 10, "10")])
    )
    root = ET.fromstring(svg)  # well-formed: every label was escaped
    assert root.get("role") == "img" and root.get("aria-labelledby") == "c1-title"
    assert root.find(f"{SVG}title").text == "Antal svar <per> alternativ"
    assert "<b>" not in svg and "&lt;b&gt;Ja&lt;/b&gt;" in svg
    widths = [float(r.get("width")) for r in root.iter(f"{SVG}rect")]
    assert abs(widths[0] - 3 * widths[1]) < 0.5


def test_stacked_chart_names_dont_know_in_the_legend():
    rows = [("Målen var tydliga", [charts.Segment("1", 2), charts.Segment("2", 6), charts.Segment("Vet inte", 2)])]
    svg = str(charts.stacked_chart("c2", "Fördelning", rows, ["1", "2", "Vet inte"], dont_know=True))
    ET.fromstring(svg)
    assert svg.count('class="seg-dk"') == 2  # the segment and its legend square
    assert ">Vet inte</text>" in svg
    assert re.search(r">60</text>", svg)  # 6 of 10 shown as a share


def test_day_chart_marks_reminders():
    days = [("2025-03-03", 4, True, False), ("2025-03-04", 0, False, False), ("2025-03-05", 2, False, True)]
    svg = str(charts.day_chart("c3", "Besvarade per dag", days, reminder_text="Påminnelse", invitation_text="Inbjudan"))
    ET.fromstring(svg)
    assert svg.count('class="mark-reminder"') == 1 and svg.count('class="mark-invitation"') == 1
    assert svg.count('class="bar"') == 2  # no column for a day without answers


def test_the_figure_after_the_longest_bar_fits_inside_the_chart():
    import re

    from services.survey.results.charts import WIDTH, bar_chart

    svg = str(bar_chart("c", "Titel", [("I mycket hög grad", 125, "125 (41.7 %)"), ("Låg", 24, "24 (8.0 %)")]))
    first_value_x = float(re.search(r'class="chart-value" x="([\d.]+)"', svg).group(1))
    assert first_value_x + 7.5 * len("125 (41.7 %)") <= WIDTH
