"""The harness itself: Chromium starts, pages are served, and axe does catch a violation."""

from __future__ import annotations

import pytest
from flask import Flask

from tests.browser.conftest import assert_no_axe_violations

PAGE = """<!doctype html>
<html lang="sv">
<head><meta charset="utf-8"><title>{title}</title></head>
<body><main><h1>{title}</h1>
<form><p>{field}</p><button type="submit">Skicka</button></form>
</main></body></html>"""


def _app() -> Flask:
    app = Flask(__name__)

    @app.get("/")
    def accessible():
        field = '<label for="epost">E-postadress</label> <input id="epost" name="epost" type="email">'
        return PAGE.format(title="Prenumerera", field=field)

    @app.get("/utan-etikett")
    def unlabelled():
        return PAGE.format(title="Utan etikett", field='<input id="epost" name="epost" type="email">')

    return app


def test_accessible_page_has_no_violations(page, live_server):
    base = live_server(_app())
    page.goto(base + "/")

    assert page.title() == "Prenumerera"
    assert page.evaluate("navigator.language") == "sv-SE"
    results = assert_no_axe_violations(page)
    assert results.violations_count == 0


def test_unlabelled_input_is_reported(page, live_server):
    base = live_server(_app())
    page.goto(base + "/utan-etikett")

    with pytest.raises(pytest.fail.Exception) as failure:
        assert_no_axe_violations(page)
    report = str(failure.value)
    assert "- label (critical)" in report
    assert "at #epost" in report


def test_browser_tests_are_marked(request):
    assert request.node.get_closest_marker("browser") is not None
