"""The sending buttons and the mail preview on the survey page."""

from __future__ import annotations

from sqlalchemy import func, select

from shared.models import OutboxMail, Participant
from tests.survey.conftest import post_form


def test_send_invitations_button_and_mail_preview(evaluator, db, make_survey):
    survey_id = make_survey(participants="email,name\nanna@ale.example,Anna Ek\nbo@x.example,Bo\n")
    page = f"/admin/surveys/{survey_id}"
    assert "Skicka inbjudningar (2)" in evaluator.get(page).get_data(as_text=True)
    with db.sessions() as s:
        anna = s.scalar(select(Participant).where(Participant.email == "anna@ale.example"))
    preview = evaluator.get(f"{page}/mail-preview?kind=invitation&participant={anna.id}").get_data(as_text=True)
    assert "Hej Anna Ek!" in preview and "/s/EXEMPEL" in preview  # only the mail ever holds a real link
    response = post_form(evaluator, page + "/send", {"kind": "invitations"}, page_url=page)
    assert "2 inbjudningar lades i utkorgen." in evaluator.get(response.headers["Location"]).get_data(as_text=True)
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(OutboxMail)) == 2
    overview = evaluator.get(page).get_data(as_text=True)
    assert "Inbjuden</a>: 2" in overview
