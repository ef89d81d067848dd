"""Markdown → mail: sanitised HTML with inlined CSS in the mail layout, and a readable plain-text part."""

from __future__ import annotations

from services.mailer.issues.domain import parse_markdown_file
from services.mailer.issues.rendering import RECIPIENT, STOP_URL, body_html, body_text
from tests.mailer.issue_fixtures import DEMO_ISSUE


def demo_source() -> str:
    return parse_markdown_file(DEMO_ISSUE.read_text(encoding="utf-8"))[1]


def test_headings_get_the_anchors_the_table_of_contents_links_to():
    html = body_html(demo_source())
    assert '<h2 id="upphandling">Upphandling av nya leverantörer</h2>' in html
    assert '<a href="#upphandling"' in html
    assert "{#" not in html
    assert 'id="ledare-full-fart-i-projekten"' in html  # headings without an explicit id get one too


def test_links_lists_tables_images_and_emphasis():
    html = body_html(
        "*kursiv* **fet** [länk](https://example.org/a)\n\n- ett\n- två\n\n| A | B |\n|---|---|\n| 1 | 2 |\n\n"
        "![Logga](https://example.org/logga.png)"
    )
    assert "<em>kursiv</em>" in html and "<strong>fet</strong>" in html
    assert '<a href="https://example.org/a"' in html
    assert "<li>ett</li>" in html and "<td>1</td>" in html
    assert '<img src="https://example.org/logga.png" alt="Logga">' in html


def _elements(html: str) -> list[tuple[str, list]]:
    from html.parser import HTMLParser

    found = []

    class Collect(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.append((tag, attrs))

    Collect().feed(html)
    return found


def test_scripts_handlers_and_javascript_links_are_removed():
    html = body_html(
        '<script>alert(1)</script>\n\n<img src=x onerror="alert(1)">\n\n[klicka](javascript:alert(1))\n\n'
        '<a href="javascript:alert(2)" onclick="x()">a</a>\n\n[ok](https://example.org)'
    )
    elements = _elements(html)
    assert "script" not in [tag for tag, _ in elements]
    attributes = [(name, value or "") for _, attrs in elements for name, value in attrs]
    assert not [name for name, _ in attributes if name.startswith("on")]
    assert not [value for name, value in attributes if value.strip().lower().startswith("javascript:")]
    assert ("href", "https://example.org") in attributes
    assert "&lt;script&gt;" in html  # raw HTML shows as the text the editor typed, harmless


def test_plain_text_reads_on_its_own():
    text = body_text(demo_source())
    assert "Upphandling av nya leverantörer\n-------------------------------" in text
    assert (
        "Läs rapporten\n(https://example.org/rapporter/nara-vard)" in text
        or "Läs rapporten (https://example.org/rapporter/nara-vard)" in text
    )
    assert "#upphandling" not in text  # in-page anchors mean nothing in plain text
    assert "- Upphandling av nya leverantörer" in text
    assert "20 maj        Styrgrupp digitala hjälpmedel" in text  # the table as aligned columns
    assert "<" not in text and "{#" not in text
    assert max(len(line) for line in text.splitlines()) <= 80


def test_mail_html_has_the_layout_inlined_css_and_the_footer(app, db):
    from services.mailer.issues import domain

    with app.app_context(), db.transaction() as session:
        issue = domain.create_issue_from_markdown_file(session, DEMO_ISSUE)
        rendered = domain.render(session, app.extensions["utskick"].config, issue)
    html, text = rendered.html, rendered.text
    assert "<style" not in html  # inlined: many mail clients ignore style blocks
    assert 'style="' in html and "max-width:600px" in html.replace(" ", "")
    assert 'role="presentation"' in html  # table layout for Outlook
    assert "Utskick" in html  # the organisation's header
    assert f'href="{STOP_URL}"' in html and RECIPIENT in html
    assert "Avsluta prenumerationen" in html and "Avsluta prenumerationen:" in text
    assert "http://mailer.test/issues/" in html  # read it in the browser
    assert STOP_URL in text and RECIPIENT in text
    assert "Veckans nyheter" in html  # the preheader
