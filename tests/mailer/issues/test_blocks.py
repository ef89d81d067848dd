"""Blocks in Markdown: the contents list, the calendar table and the byline, in HTML and plain text."""

from __future__ import annotations

from services.mailer.issues.rendering import body_html, body_text

SOURCE = """## Ledare

```signatur
Anna Berg | Direktör | https://vastkom.example/media/1/anna.jpg
```

[innehåll]

## Upphandling {#upphandling}

Text.

## Kalendarium

```kalendarium
2026-12-10 | Dialogdag | Trollhättan
2027-01-15 | Styrelsemöte
```
"""


def test_blocks_in_html(app):
    with app.app_context():
        html = body_html(SOURCE)
    assert '<img src="https://vastkom.example/media/1/anna.jpg" alt="Anna Berg, Direktör">' in html
    assert "<em>Anna Berg, Direktör</em>" in html
    assert "<strong>Innehåll</strong>" in html
    assert '<a href="#upphandling" rel="noopener">Upphandling</a>' in html
    assert '<a href="#kalendarium" rel="noopener">Kalendarium</a>' in html
    assert '<h2 id="kalendarium">Kalendarium</h2>' in html
    assert "<th>Datum</th>" in html and "<td>Dialogdag</td>" in html and "<td>Trollhättan</td>" in html
    assert "[innehåll]" not in html and "```" not in html


def test_blocks_in_plain_text(app):
    with app.app_context():
        text = body_text(SOURCE)
    assert "Innehåll\n\n- Ledare\n- Upphandling\n- Kalendarium" in text
    assert "2026-12-10  Dialogdag     Trollhättan" in text
    assert "Anna Berg, Direktör" in text
