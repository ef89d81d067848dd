"""The survey's mail texts, contact person and reminder rules through the API: read, changed, used by
the invitations that follow, and refused field by field with the settings page's checks (an unknown
placeholder, a line break in a subject, days out of order), changing nothing then."""

from __future__ import annotations

import email as email_lib
from email.policy import default

from sqlalchemy import select

from shared.models import OutboxMail
from tests.api_keys import bearer, new_key
from tests.survey.conftest import run_jobs


def test_mail_texts_and_contact_person_are_read_changed_and_used(app, db, config, make_survey):
    survey_id = make_survey(participants="email,name\nanna@ale.example,Anna Berg\n")
    client = app.test_client()
    h = bearer(new_key(app, ["survey:write"]))
    url = f"/api/v1/surveys/{survey_id}/mail-settings"
    before = client.get(url, headers=h).json
    assert before["contact_name"] == "Eva Utvärderare" and before["reminders_paused"] is False

    changed = client.patch(
        url,
        headers=h,
        json={
            "invitation_subject": "Vad tycker du om {enkät}?",
            "invitation_text": "Hej {förnamn}!\n\nFrågor? Kontakta {kontaktperson}.",
            "contact_name": "Per Persson",
            "contact_email": "Per@Vastkom.example",
            "contact_phone": "031  123 45 67",
            "reminder_days": [5, 12],
            "reminder_time": "08:30",
            "reminders_paused": True,
        },
    )
    assert changed.status_code == 200, changed.json
    assert changed.json["contact_email"] == "per@vastkom.example"
    assert changed.json["contact_phone"] == "031 123 45 67"
    assert changed.json["reminder_days"] == [5, 12] and changed.json["reminders_paused"] is True
    assert changed.json["reminder_subject"] == before["reminder_subject"]  # left out: as it was
    assert client.get(url, headers=h).json == changed.json

    assert client.post(f"/api/v1/surveys/{survey_id}/invitations", headers=h).status_code == 202
    run_jobs(db, config)
    with db.sessions() as s:
        mail = s.scalar(select(OutboxMail).where(OutboxMail.recipient == "anna@ale.example"))
    assert mail.subject.startswith("Vad tycker du om ")
    text = email_lib.message_from_bytes(mail.message, policy=default).get_body(("plain",)).get_content()
    assert "Hej Anna!" in text and "Per Persson, per@vastkom.example, 031 123 45 67" in text


def test_errors_are_listed_by_field_and_nothing_is_changed(app, make_survey):
    survey_id = make_survey()
    client = app.test_client()
    h = bearer(new_key(app, ["survey:write"]))
    url = f"/api/v1/surveys/{survey_id}/mail-settings"
    before = client.get(url, headers=h).json

    refused = client.patch(
        url,
        headers=h,
        json={
            "invitation_text": "Hej {efternamn}!",
            "reminder_subject": "Påminnelse\nBcc: alla@vastkom.example",
            "reminder_days": [14, 7],
            "contact_name": "Per Persson",
        },
    )
    assert refused.status_code == 422
    assert refused.mimetype == "application/problem+json"
    errors = {e["field"]: e["message"] for e in refused.json["errors"]}
    assert set(errors) == {"body.invitation_text", "body.reminder_subject", "body.reminder_days"}
    assert "{efternamn}" in errors["body.invitation_text"] and "{förnamn}" in errors["body.invitation_text"]
    assert client.get(url, headers=h).json == before  # the contact name in the same call was not stored

    bad_address = client.patch(url, headers=h, json={"contact_email": "inte-en-adress"})
    assert bad_address.status_code == 422 and bad_address.json["errors"][0]["field"] == "body.contact_email"
    empty = client.patch(url, headers=h, json={"invitation_subject": "  "})
    assert empty.status_code == 422 and empty.json["errors"][0]["field"] == "body.invitation_subject"


def test_reading_needs_survey_read_and_changing_survey_write(app, make_survey):
    survey_id = make_survey()
    client = app.test_client()
    url = f"/api/v1/surveys/{survey_id}/mail-settings"
    reader = bearer(new_key(app, ["survey:read"]))
    assert client.get(url, headers=reader).status_code == 200
    assert client.patch(url, headers=reader, json={"contact_name": "X"}).status_code == 403
    assert client.get("/api/v1/surveys/999/mail-settings", headers=reader).status_code == 404
