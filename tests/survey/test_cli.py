"""``utskick surveys|participants|invitations|reminders`` from the shell."""
from __future__ import annotations

from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from services.cli import main
from shared.clock import utcnow
from shared.models import OutboxMail, Participant, Survey
from tests.survey.conftest import MILLENNIUM, PARTICIPANTS


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


def test_import_export_participants_invite_remind(run, db, tmp_path):
    imported = run("surveys", "import", MILLENNIUM, "--closes", "2099-12-31", "--open")
    assert imported.exit_code == 0
    survey_id = int(imported.output.strip())
    exported = run("surveys", "export", survey_id)
    assert exported.output.startswith("title: Utvärdering av Program Millennium") and "closes: '2099-12-31'" in exported.output
    again = tmp_path / "again.yaml"
    again.write_text(exported.output, encoding="utf-8")
    assert run("surveys", "import", again).exit_code == 0

    people = run("participants", "import", survey_id, PARTICIPANTS)
    assert "460 nya deltagare" in people.output
    assert "460 invitations queued" in run("invitations", "send", survey_id).output
    assert "0 invitations queued" in run("invitations", "send", survey_id).output
    assert "0 reminders queued" in run("reminders", "send", survey_id).output
    with db.transaction() as s:
        week_ago = utcnow() - timedelta(days=8)
        for p in s.scalars(select(Participant).where(Participant.survey_id == survey_id).limit(10)):
            p.invited_at = week_ago
    assert "10 reminders queued" in run("reminders", "send", survey_id).output
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(OutboxMail)) == 470
    listing = run("surveys", "list").output.splitlines()
    assert f"{survey_id}\topen\t0/460\tUtvärdering av Program Millennium – kommunernas erfarenheter" in listing


def test_import_with_errors_lists_them_without_a_traceback(run, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("title: x\npages:\n  - title: p\n    questions:\n      - {key: a, type: scale, text: t, min: 3, max: 2}\n")
    result = run("surveys", "import", bad)
    assert result.exit_code == 1
    assert "pages[0].questions[0].max: måste vara större än min" in result.output
    assert "Traceback" not in result.output


def test_unknown_survey_is_a_clear_error(run):
    result = run("invitations", "send", 999)
    assert result.exit_code != 0 and "no survey with id 999" in result.output


def test_draft_cannot_be_sent(run, db):
    survey_id = int(run("surveys", "import", MILLENNIUM).output.strip())
    result = run("invitations", "send", survey_id)
    assert result.exit_code != 0 and "Öppna enkäten" in result.output
    with db.sessions() as s:
        assert s.get(Survey, survey_id).status == "draft"
