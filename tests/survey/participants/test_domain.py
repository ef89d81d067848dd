"""Participants: CSV import (BOM, semicolons, CRLF, duplicates, line-numbered errors), one at a time,
and the status list with counts computed in the database."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from services.survey.participants import domain
from shared.clock import utcnow
from shared.models import Participant, Suppression
from tests.survey.conftest import PARTICIPANTS


def test_fixture_import_makes_460_participants_with_attributes(db, make_survey):
    survey_id = make_survey()
    with db.transaction() as s:
        report = domain.import_participants_csv(s, survey_id, PARTICIPANTS.read_text(encoding="utf-8"))
    assert (report.added, report.updated, report.errors) == (460, 0, [])
    with db.sessions() as s:
        first = s.scalar(select(Participant).where(Participant.email == "cecilia.hellstrom@ale.example"))
        assert first.name == "Cecilia Hellström"
        assert first.attributes == {
            "organisation": "Ale kommun",
            "organisationstyp": "kommun",
            "roll": "IT-chef",
            "delregion": "GR",
        }


def test_excel_style_semicolons_bom_crlf_duplicates_and_bad_lines(db, make_survey):
    survey_id = make_survey()
    text = (
        "\ufeffEmail;Name;Roll\r\n"
        "Anna@Ale.example;Anna Ek;IT-chef\r\n"
        "inte-en-adress;Bo;x\r\n"
        "\r\n"
        "anna@ale.example;Anna Ek;Socialchef\r\n"
        "bo@borås.example;Bo Å;\r\n"
    )
    with db.transaction() as s:
        report = domain.import_participants_csv(s, survey_id, text)
    assert (report.added, report.merged) == (2, 1)
    assert report.errors == [(3, "”inte-en-adress” är inte en giltig e-postadress.")]
    assert "rad 3: ”inte-en-adress” är inte en giltig e-postadress." in report.lines()
    with db.transaction() as s:
        anna = s.scalar(select(Participant).where(Participant.email == "anna@ale.example"))
        assert anna.attributes == {"roll": "Socialchef"}
        again = domain.import_participants_csv(s, survey_id, "email,name,roll\nanna@ale.example,,Chef\n")
    assert (again.added, again.updated) == (0, 1)


def test_missing_email_column_is_reported():
    report = domain.import_participants_csv(None, 1, "namn;roll\nAnna;x\n")
    assert report.errors == [(1, "Kolumnen ”email” saknas i första raden.")]


def test_add_edit_remove_one(db, make_survey):
    survey_id = make_survey()
    with db.transaction() as s:
        person = domain.save_participant(s, survey_id, "eva@x.example", "Eva", "roll: chef\nfel rad")
        assert person.attributes == {"roll": "chef"}
        person_id = person.id
    with db.transaction() as s:
        domain.save_participant(s, survey_id, "other@x.example", "O", "")
        try:
            domain.save_participant(s, survey_id, "eva@x.example", "Eva", "", None)
        except domain.ParticipantError as exc:
            assert exc.errors == {"email": "Adressen finns redan bland deltagarna."}
        else:
            raise AssertionError("a duplicate address was accepted")
    with db.transaction() as s:
        domain.save_participant(s, survey_id, "eva@y.example", "Eva E", "", person_id)
        assert domain.remove_participant(s, survey_id, person_id)
        assert s.scalar(select(func.count()).select_from(Participant)) == 1


def test_status_counts(db, make_survey):
    survey_id = make_survey(participants="email,name\n" + "".join(f"p{i}@x.example,P{i}\n" for i in range(7)))
    now = utcnow()
    with db.transaction() as s:
        people = {p.email: p for p in s.scalars(select(Participant))}
        people["p1@x.example"].invited_at = now
        people["p2@x.example"].invited_at = now
        people["p2@x.example"].reminders_sent = 2
        people["p3@x.example"].invited_at = now
        people["p3@x.example"].started_at = now
        people["p4@x.example"].completed_at = now
        people["p5@x.example"].declined_at = now - timedelta(days=1)
        s.add(Suppression(email="p6@x.example", reason="hard_bounce", created_at=now))
    with db.sessions() as s:
        counts = domain.status_counts(s, survey_id)
        page = domain.list_participants(s, survey_id, status="reminded")
        rows = page.rows
    assert counts == {
        "not_invited": 1,
        "invited": 1,
        "reminded": 1,
        "started": 1,
        "completed": 1,
        "declined": 1,
        "bounced": 1,
    }
    assert len(rows) == 1 and not page.has_next and rows[0].email == "p2@x.example" and rows[0].reminders_sent == 2


def test_a_large_import_looks_addresses_up_in_parts(db, make_survey, monkeypatch):
    """100 000 addresses are more parameters than one statement takes: they are looked up in parts."""
    survey_id = make_survey()
    rows = "".join(f"p{i}@x.example,P {i}\n" for i in range(7))
    with db.transaction() as s:
        domain.import_participants_csv(s, survey_id, "email,name\n" + rows[: rows.index("p3@")])
    monkeypatch.setattr(domain, "LOOKUP_PART", 2)
    with db.transaction() as s:
        report = domain.import_participants_csv(s, survey_id, "email,name\n" + rows)
    assert (report.added, report.updated) == (4, 3)
