"""The sending buttons and the mail preview on the survey page."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from shared.models import OutboxMail, Participant
from tests.survey.conftest import post_form, run_jobs


def test_send_invitations_button_and_mail_preview(evaluator, db, config, make_survey):
    survey_id = make_survey(participants="email,name\nanna@ale.example,Anna Ek\nbo@x.example,Bo\n")
    page = f"/admin/surveys/{survey_id}"
    assert "Skicka inbjudningar (2)" in evaluator.get(page).get_data(as_text=True)
    with db.sessions() as s:
        anna = s.scalar(select(Participant).where(Participant.email == "anna@ale.example"))
    preview = evaluator.get(f"{page}/mail-preview?kind=invitation&participant={anna.id}").get_data(as_text=True)
    assert "Hej Anna!" in preview and "/s/EXEMPEL" in preview  # only the mail ever holds a real link
    # The button leads to a confirmation page with the exact count and a sample mail; nothing is sent yet.
    confirm = evaluator.get(f"{page}/send/invitations").get_data(as_text=True)
    assert "Mejlet går till 2 personer." in confirm and "Hej Anna!" in confirm and "Skicka nu" in confirm
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(OutboxMail)) == 0
    # "Skicka nu" starts a job and shows its page; the worker sends.
    response = post_form(evaluator, f"{page}/send/invitations", {})
    assert response.headers["Location"].startswith("/admin/jobs/")
    waiting = evaluator.get(response.headers["Location"]).get_data(as_text=True)
    assert "Inbjudningar: Utvärdering" in waiting and "Väntar på sin tur" in waiting
    # The bar counts mails written to the outbox (delivered after), and says so.
    assert re.search(
        r'data-field="done">0</span> av <span data-field="total">2</span> mejl skrivna till utkorgen', waiting
    )
    run_jobs(db, config)
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(OutboxMail)) == 2
    assert "2 mejl lades i utkorgen." in evaluator.get(response.headers["Location"]).get_data(as_text=True)
    overview = evaluator.get(page).get_data(as_text=True)
    assert "Inbjuden</a>: 2" in overview


def test_nothing_to_send_or_a_draft_is_explained_not_sent(evaluator, db, make_survey):
    survey_id = make_survey(open=False, participants="email,name\nanna@ale.example,Anna Ek\n")
    page = f"/admin/surveys/{survey_id}"
    assert "Öppna enkäten innan du skickar inbjudningar." in evaluator.get(f"{page}/send/invitations").get_data(
        as_text=True
    )
    refused = post_form(evaluator, f"{page}/send/reminders", {})
    assert refused.headers["Location"] == page
    assert evaluator.get(f"{page}/send/everyone").status_code == 404
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(OutboxMail)) == 0
