"""Survey fixtures: the app, the Millennium survey imported and open, participants, a signed-in evaluator."""

from __future__ import annotations

import re

import pytest
import yaml
from click.testing import CliRunner
from sqlalchemy import select

from services.cli import main
from services.demo import DEMO_DATA
from services.survey import create_app
from services.survey.participants.domain import import_participants_csv, new_links
from services.survey.surveys.definitions import normalise
from services.survey.surveys.domain import create_survey, open_survey
from shared.accounts import create_admin
from shared.models import Participant

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


@pytest.fixture
def evaluator(app, db):
    """A test client signed in as an evaluator."""
    with db.transaction() as s:
        create_admin(s, app.extensions["utskick"].passwords, "eva@vastkom.example", "ett-langt-losenord", "evaluator")
    client = app.test_client()
    form = client.get("/admin/login").get_data(as_text=True)
    response = client.post(
        "/admin/login",
        data={"email": "eva@vastkom.example", "password": "ett-langt-losenord", "csrf_token": csrf_from(form)},
    )
    assert response.status_code == 302
    return client


@pytest.fixture
def run(config, monkeypatch):
    """Run ``utskick …`` with the test configuration in the environment."""
    monkeypatch.setenv("DATABASE_URL", config.database_url)
    monkeypatch.setenv("MAIL_URL", f"file://{config.mail_url.directory}")
    monkeypatch.setenv("SECRET_KEYS", ",".join(config.secret_keys))
    monkeypatch.setenv("SURVEY_URL", "http://survey.test")
    monkeypatch.setenv("UTSKICK_VAR_DIR", str(config.var_dir))

    def invoke(*args):
        return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)

    return invoke


def token_of(db, email="anna@ale.example") -> str:
    """A personal link's token for the participant, as a mail to them would carry it."""
    with db.transaction() as s:
        participant_id = s.scalar(select(Participant.id).where(Participant.email == email))
        return new_links(s, [participant_id])[participant_id]


@pytest.fixture
def client(app):
    """A respondent's browser without CSRF tokens (the tests of the token itself use ``app.test_client()``)."""
    app.config["WTF_CSRF_ENABLED"] = False
    return app.test_client()


def post_form(client, url, data, page_url=None, **kwargs):
    """POST the way a browser does: with the CSRF token read from the page first."""
    token = csrf_from(client.get(page_url or url).get_data(as_text=True))
    return client.post(url, data={**data, "csrf_token": token}, **kwargs)


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
PAGE3 = {
    "paus_paverkan": "5",
    "paus_beskrivning": "Allt stannade.",
    "rekommendera": "8",
    "lardomar": "Samverka tidigt.",
}

# One respondent with every attribute the Millennium survey reports on (and one it does not: organisation).
RESPONDENTS = (
    "email,name,organisation,organisationstyp,roll,delregion\r\n"
    "anna@ale.example,Anna Ek,Ale kommun,kommun,IT-chef,GR\r\n"
)


def post(client, token, data, action):
    """Post one page of answers with the button ``action`` (back, next, save, submit)."""
    return client.post(f"/s/{token}", data={**data, "action": action})


def run_jobs(db, config) -> None:
    """What the worker does: run every queued job."""
    import threading

    from services.worker import job_functions, service_contexts
    from shared.jobs import run_next_job
    from tests.waiting import wait_until

    stop, contexts = threading.Event(), service_contexts(config)
    wait_until(lambda: run_next_job(db, config, job_functions(), stop, contexts) == 0, timeout=60)
