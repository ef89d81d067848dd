"""The survey commands together, as the README's tour uses them: import, export, participants, invite, remind."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from shared.clock import utcnow
from shared.models import OutboxMail, Participant
from tests.survey.conftest import MILLENNIUM, PARTICIPANTS


def test_import_export_participants_invite_remind(run, db, tmp_path):
    imported = run("surveys", "import", MILLENNIUM, "--closes", "2099-12-31", "--open")
    assert imported.exit_code == 0
    survey_id = int(imported.output.strip())
    exported = run("surveys", "export", survey_id)
    assert (
        exported.output.startswith("title: Utvärdering av Program Millennium")
        and "closes: '2099-12-31'" in exported.output
    )
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


def test_participants_import_reads_a_windows_1252_file_line_by_line(run, db, tmp_path):
    survey_id = int(run("surveys", "import", MILLENNIUM, "--closes", "2099-12-31").output.strip())
    people = tmp_path / "excel.csv"
    people.write_bytes("email;name;kommun\r\nasa@x.example;Åsa Öst;Borås\r\nfel;X;Y\r\n".encode("cp1252"))
    result = run("participants", "import", survey_id, people)
    assert result.exit_code == 0 and "1 nya deltagare" in result.output and "rad 3:" in result.output
    with db.sessions() as s:
        person = s.scalar(select(Participant))
        assert (person.name, person.attributes) == ("Åsa Öst", {"kommun": "Borås"})


def test_surveys_seal_rewrites_the_anonymous_responses_of_past_days(run, db, app, make_survey):
    from services.survey.responses.storage import store_complete_response
    from shared.models import Response, Survey
    from tests.survey.conftest import PAGE1, PAGE2, PAGE3, RESPONDENTS

    survey_id = make_survey(participants=RESPONDENTS)
    with app.test_request_context(), db.transaction() as s:
        survey, person = s.get_one(Survey, survey_id), s.scalars(select(Participant)).one()
        response_id = store_complete_response(
            s, survey, {**PAGE1, **PAGE2, **PAGE3}, person, now=utcnow() - timedelta(days=1)
        )
    assert run("surveys", "seal").output == "1 responses of 1 days sealed\n"
    with db.sessions() as s:
        assert s.scalars(select(Response.id)).all() != [response_id]
        assert not s.scalar(select(Response.awaiting_seal))
    assert run("surveys", "seal").output == "0 responses of 0 days sealed\n"
