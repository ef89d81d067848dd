"""Mail texts: syntax errors and unknown placeholders explained, and the sandbox holds."""

from __future__ import annotations

from services.survey.mailings import rendering


def test_template_errors_are_explained():
    assert rendering.template_error("Hej {{ name }}, {{ link }}") is None
    assert "Okänd platshållare ”namn”" in rendering.template_error("Hej {{ namn }}")
    assert rendering.template_error("Hej {{ name ").startswith("rad 1:")
    # The sandbox refuses to reach into Python internals.
    assert rendering.template_error("{{ name.__class__.__mro__ }}") is not None
