"""Results fixtures: the survey app's request context (labels such as "Vet inte" are translated)."""

from __future__ import annotations

import pytest


@pytest.fixture
def app_ctx(config):
    """A request context of the survey app; the domain functions are otherwise plain."""
    from services.survey import create_app

    app = create_app(config)
    with app.test_request_context():
        yield app
