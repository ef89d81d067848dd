"""The response-rate dashboard: participants per status, per attribute, and completions per day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event

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


def test_attributes_each_count_every_participant_once_with_those_without_a_value_last(db, app_ctx):
    """Per attribute the groups add up to the totals: someone without the attribute (or with JSON
    null for it) is in the "Uppgift saknas" group, whatever other attributes they have."""
    day1 = datetime(2025, 3, 3, 8, tzinfo=UTC)
    with db.transaction() as s:
        survey = make_survey(s, anonymous=False)
        people = [
            ("a@gr.example", {"delregion": "GR", "roll": "IT-chef"}, {"completed_at": day1}),
            ("b@gr.example", {"delregion": "GR"}, {}),
            ("c@fyrbodal.example", {"delregion": "Fyrbodal", "roll": None}, {"completed_at": day1}),
            ("d@fyrbodal.example", {}, {}),
        ]
        for email, attributes, fields in people:
            add_participant(s, survey, email, attributes=attributes, invited_at=day1, **fields)
        board = dashboard(s, survey.id)

    regions = [(c.value, c.participants, c.completed) for c in board.by_attribute["delregion"]]
    assert regions == [("Fyrbodal", 1, 1), ("GR", 2, 1), (None, 1, 0)]
    roles = [(c.value, c.participants, c.completed, c.invited) for c in board.by_attribute["roll"]]
    assert roles == [("IT-chef", 1, 1, 1), (None, 3, 1, 3)]


@pytest.mark.parametrize("attributes", [1, 6])
def test_the_dashboard_reads_the_same_few_statements_however_many_attributes(db, app_ctx, attributes):
    """Counting per attribute is one pass over the participants, not one per attribute: at 100 000
    participants each pass is a tenth of a second or more."""
    statements: list[str] = []
    with db.transaction() as s:
        survey = make_survey(s, anonymous=False)
        for n in range(3):
            values = {f"egenskap{a}": f"värde{(n + a) % 2}" for a in range(attributes)}
            add_participant(s, survey, f"p{n}@gr.example", attributes=values, invited_at=utcnow())
        s.flush()

        def count(conn, cursor, statement, *args) -> None:
            statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            board = dashboard(s, survey.id)
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
    assert len(board.by_attribute) == attributes
    assert all(sum(c.participants for c in groups) == 3 for groups in board.by_attribute.values())
    # Counts per attribute and value with the totals, completions, invitations and reminders by hour.
    assert len(statements) == 4
