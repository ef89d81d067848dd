"""By the clock: surveys close themselves, automatic reminders go on their days, at their time, on
weekdays, not while paused; the survey page says when the next one goes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from services.survey.mailings.domain import write_mails
from services.survey.mailings.schedule import close_due_surveys, next_automatic_reminder, run_schedule
from shared.clock import utcnow
from shared.i18n import LOCAL_ZONE
from shared.models import OutboxMail, Participant, Survey

PEOPLE = "email,name\nanna@ale.example,Anna Ek\nbo@bor.example,Bo Ås\n"


def local(*parts) -> datetime:
    return datetime(*parts, tzinfo=LOCAL_ZONE).astimezone(UTC)


WEDNESDAY = local(2026, 12, 2, 10, 0)


def reminded(db) -> dict[str, int]:
    with db.sessions() as s:
        return dict(s.execute(select(Participant.email, Participant.reminders_sent).order_by(Participant.email)).all())


def scheduled_survey(make_survey, db, **settings) -> int:
    survey_id = make_survey(participants=PEOPLE)
    with db.transaction() as s:
        survey = s.get(Survey, survey_id)
        survey.reminder_days, survey.reminder_time, survey.reminder_weekdays_only = [7, 14], "09:00", True
        for name, value in settings.items():
            setattr(survey, name, value)
        s.execute(
            update(Participant)
            .where(Participant.email == "anna@ale.example")
            .values(invited_at=local(2026, 11, 25, 15, 0))
        )
        s.execute(
            update(Participant)
            .where(Participant.email == "bo@bor.example")
            .values(invited_at=local(2026, 11, 27, 8, 0))
        )
    return survey_id


def run(app, db, config, now) -> int:
    """The worker's round at ``now``: the schedule fans out what is due, then the mails are written."""
    with app.test_request_context(), db.transaction() as s:
        queued = run_schedule(s, now)
    with app.test_request_context(), db.transaction() as s:
        write_mails(s, config, limit=None)
    return queued


def test_automatic_reminders_go_on_their_day_after_their_time(app, db, config, make_survey):
    survey_id = scheduled_survey(make_survey, db)
    with db.sessions() as s:
        assert next_automatic_reminder(s, s.get(Survey, survey_id), local(2026, 12, 2, 8, 0)) == datetime(
            2026, 12, 2, 9, 0, tzinfo=LOCAL_ZONE
        )
    assert run(app, db, config, local(2026, 12, 2, 8, 59)) == 0  # before the time of day
    assert run(app, db, config, WEDNESDAY) == 1  # Anna was invited seven days ago, Bo five
    assert reminded(db) == {"anna@ale.example": 1, "bo@bor.example": 0}
    assert run(app, db, config, WEDNESDAY) == 0  # once
    with db.sessions() as s:
        # Bo's first is due on Friday the 4th; Anna's second on the 9th.
        assert next_automatic_reminder(s, s.get(Survey, survey_id), WEDNESDAY) == datetime(
            2026, 12, 4, 9, 0, tzinfo=LOCAL_ZONE
        )
        assert s.scalar(select(OutboxMail.subject)).startswith("Påminnelse: ")
    assert run(app, db, config, local(2026, 12, 9, 9, 30)) == 2  # Anna's second and Bo's first


def test_weekends_wait_for_monday_and_a_pause_holds_everything(app, db, config, make_survey):
    survey_id = scheduled_survey(make_survey, db)
    saturday = local(2026, 12, 5, 10, 0)
    assert run(app, db, config, saturday) == 0
    with db.sessions() as s:
        assert next_automatic_reminder(s, s.get(Survey, survey_id), saturday) == datetime(
            2026, 12, 7, 9, 0, tzinfo=LOCAL_ZONE
        )
    with db.transaction() as s:
        s.get(Survey, survey_id).reminders_paused = True
    assert run(app, db, config, local(2026, 12, 7, 10, 0)) == 0
    with db.sessions() as s:
        assert next_automatic_reminder(s, s.get(Survey, survey_id), saturday) is None
    with db.transaction() as s:
        survey = s.get(Survey, survey_id)
        survey.reminders_paused, survey.reminder_weekdays_only = False, False
    assert run(app, db, config, saturday) == 2


def test_a_survey_closes_itself_at_its_closing_time(app, db, make_survey):
    survey_id = make_survey(closes="2099-01-31")
    with db.transaction() as s:
        assert close_due_surveys(s, local(2099, 1, 31, 23, 59)) == 0
        assert close_due_surveys(s, local(2099, 2, 1, 0, 0)) == 1
    with db.sessions() as s:
        assert s.get(Survey, survey_id).status == "closed"


def test_the_survey_page_shows_the_schedule_and_pauses_it(evaluator, db, make_survey):
    from tests.survey.conftest import post_form

    survey_id = scheduled_survey(make_survey, db)
    page = f"/admin/surveys/{survey_id}"
    html = evaluator.get(page).get_data(as_text=True)
    assert "7, 14 dagar efter inbjudan, kl. 09:00, bara vardagar." in html and "Nästa utskick:" in html
    post_form(evaluator, f"{page}/reminders/pause", {"paused": "on"}, page_url=page)
    assert "Pausade." in evaluator.get(page).get_data(as_text=True)


def test_settings_take_reminder_days_time_and_weekdays(evaluator, db, make_survey):
    from tests.survey.conftest import post_form

    survey_id = make_survey()
    url = f"/admin/surveys/{survey_id}/settings"
    with db.sessions() as s:
        survey = s.get(Survey, survey_id)
        fields = {
            name: getattr(survey, name)
            for name in ("invitation_subject", "invitation_text", "reminder_subject", "reminder_text")
        }
    fields |= {"max_reminders": "2", "reminder_interval_days": "7", "reminder_time": "9.30"}
    bad = post_form(evaluator, url, {**fields, "reminder_days": "14, 7"})
    assert bad.status_code == 422 and "i stigande ordning" in bad.get_data(as_text=True)
    assert (
        post_form(evaluator, url, {**fields, "reminder_days": "7 14", "reminder_weekdays_only": "on"}).status_code
        == 302
    )
    with db.sessions() as s:
        survey = s.get(Survey, survey_id)
        assert (survey.reminder_days, survey.reminder_time, survey.reminder_weekdays_only) == ([7, 14], "09:30", True)


def test_the_worker_fans_out_writes_and_sends_automatic_reminders(db, config, make_survey):
    from services.worker import run as run_worker

    survey_id = make_survey(participants=PEOPLE)
    with db.transaction() as s:
        survey = s.get(Survey, survey_id)
        survey.reminder_days, survey.reminder_time, survey.reminder_weekdays_only = [7], "00:00", False
        s.execute(update(Participant).values(invited_at=utcnow() - timedelta(days=8)))
    assert run_worker(config, once=True, idle_sleep=0) > 0
    assert reminded(db) == {"anna@ale.example": 1, "bo@bor.example": 1}
    with db.sessions() as s:
        sent = s.execute(
            select(OutboxMail.recipient, OutboxMail.status, OutboxMail.kind).order_by(OutboxMail.recipient)
        )
        assert sent.all() == [
            ("anna@ale.example", "sent", "survey_reminder"),
            ("bo@bor.example", "sent", "survey_reminder"),
        ]
