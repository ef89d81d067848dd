"""The response-rate dashboard: participants per status, per attribute, and completions per day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.survey.mailings.domain import send_reminders
from services.survey.mailings.rendering import DEFAULT_TEXTS
from services.survey.results.dashboard import dashboard
from shared.clock import utcnow
from shared.mail.outbox import enqueue
from shared.models import MailKind, Suppression
from tests.survey.results_data import add_participant, make_survey


def test_dashboard_counts_rates_and_days(db, app_ctx, config):
    day1 = datetime(2025, 3, 3, 8, tzinfo=UTC)
    with db.transaction() as s:
        survey = make_survey(s, anonymous=False)
        s.add(Suppression(email="studs@gr.example", reason="hard_bounce"))
        people = [
            ("a@gr.example", "GR", {"invited_at": day1, "started_at": day1, "completed_at": day1 + timedelta(hours=2)}),
            ("b@gr.example", "GR", {"invited_at": day1, "started_at": day1 + timedelta(days=1)}),
            ("studs@gr.example", "GR", {"invited_at": day1}),
            ("c@fyrbodal.example", "Fyrbodal", {"invited_at": day1, "declined_at": day1 + timedelta(days=1)}),
            (
                "d@fyrbodal.example",
                "Fyrbodal",
                {
                    "invited_at": day1,
                    "completed_at": day1 + timedelta(days=3),
                    "started_at": day1 + timedelta(days=3),
                    "last_reminded_at": day1 + timedelta(days=2),
                    "reminders_sent": 1,
                },
            ),
            ("e@fyrbodal.example", "Fyrbodal", {}),
        ]
        for email, region, fields in people:
            add_participant(s, survey, email, attributes={"delregion": region, "roll": "IT-chef"}, **fields)
        enqueue(s, config, kind=MailKind.SURVEY_REMINDER, to_email="b@gr.example", subject="Påminnelse", text="x")
        board = dashboard(s, survey.id)

    t = board.totals
    assert (t.participants, t.invited, t.started, t.completed, t.declined, t.bounced) == (6, 5, 3, 2, 1, 1)
    assert t.response_rate == pytest.approx(40.0)
    regions = {c.value: c for c in board.by_attribute["delregion"]}
    assert (regions["GR"].invited, regions["GR"].completed, regions["GR"].bounced) == (3, 1, 1)
    assert regions["Fyrbodal"].response_rate == pytest.approx(50.0)
    assert set(board.by_attribute) == {"delregion", "roll"}
    days = {d.day.isoformat(): d for d in board.days}
    assert days["2025-03-03"].invitation and days["2025-03-03"].completed == 1
    assert days["2025-03-04"].completed == 0  # quiet days are shown too
    assert days["2025-03-05"].reminder and days["2025-03-06"].completed == 1
    assert min(days) == "2025-03-03"


def test_every_reminder_round_the_mailings_send_is_marked(db, app_ctx, config):
    """The dashboard reads reminder mails as the mailings write them (``MailKind.SURVEY_REMINDER``):
    a first round still shows after a second round has moved everyone's last reminder on."""
    first_round = utcnow()
    with db.transaction() as s:
        survey = make_survey(s, anonymous=False, **DEFAULT_TEXTS["sv"])
        for n in range(2):
            add_participant(s, survey, f"p{n}@gr.example", invited_at=first_round - timedelta(days=8))
        assert send_reminders(s, config, survey, now=first_round).sent == 2
        assert send_reminders(s, config, survey, now=first_round + timedelta(days=8)).sent == 2
        board = dashboard(s, survey.id)
    marked = {d.day for d in board.days if d.reminder}
    assert marked == {first_round.date(), (first_round + timedelta(days=8)).date()}


def test_completions_are_counted_on_their_swedish_day(db, app_ctx):
    with db.transaction() as s:
        survey = make_survey(s, anonymous=False)
        invited = datetime(2025, 3, 29, 8, tzinfo=UTC)
        for n, done in enumerate(
            [
                datetime(2025, 3, 29, 23, 30, tzinfo=UTC),  # 00:30 on the 30th (winter time, UTC+1)
                datetime(2025, 3, 30, 22, 30, tzinfo=UTC),  # 00:30 on the 31st (summer time, UTC+2)
                datetime(2025, 3, 30, 21, 30, tzinfo=UTC),  # 23:30 on the 30th
            ]
        ):
            add_participant(s, survey, f"p{n}@gr.example", invited_at=invited, completed_at=done)
        board = dashboard(s, survey.id)
    days = {d.day.isoformat(): d.completed for d in board.days}
    assert days == {"2025-03-29": 0, "2025-03-30": 2, "2025-03-31": 1}
