"""Survey fixtures: the app, the Millennium survey imported and open, and participants."""
from __future__ import annotations

import re

import pytest
import yaml

from services.demo import DEMO_DATA
from services.survey import create_app
from services.survey.definitions import normalise
from services.survey.participants import import_participants_csv
from services.survey.surveys import create_survey, open_survey

MILLENNIUM = DEMO_DATA / "survey-millennium.yaml"
PARTICIPANTS = DEMO_DATA / "participants-millennium.csv"


def millennium(**changes) -> dict:
    """The fixture definition, closing in the future unless a test says otherwise."""
    data = yaml.safe_load(MILLENNIUM.read_text(encoding="utf-8"))
    data["closes"] = "2099-12-31"
    data.update(changes)
    return normalise(data)


@pytest.fixture
def app(config):
    app = create_app(config)
    yield app


@pytest.fixture
def make_survey(app, db):
    """``make_survey(anonymous=True, participants="email,name\\n…", open=True) -> survey id``."""

    def make(open: bool = True, participants: str | None = None, **changes) -> int:
        with app.test_request_context(), db.transaction() as session:
            survey = create_survey(session, millennium(**changes))
            survey.contact_name, survey.contact_email = "Eva Utvärderare", "eva@vastkom.example"
            if open:
                open_survey(session, survey)
            if participants:
                import_participants_csv(session, survey.id, participants)
            return survey.id

    return make


def csrf_from(html: str) -> str:
    tag = re.search(r'<input[^>]*name="csrf_token"[^>]*>', html)
    match = tag and re.search(r'value="([^"]+)"', tag.group(0))
    assert match, "the page has no CSRF token"
    return match.group(1)


PAGE1 = {"delaktighet": "hog", "omraden": ["it", "other"], "omraden.other": "Skolan", "ar": "3"}
PAGE2 = {
    "information": "4",
    "pastaenden.tydliga_mal": "5",
    "pastaenden.mandat": "4",
    "pastaenden.samverkan_vgr": "dont_know",
    "pastaenden.tid": "2",
}
PAGE3 = {"paus_paverkan": "5", "paus_beskrivning": "Allt stannade.", "rekommendera": "8", "lardomar": "Samverka tidigt."}
