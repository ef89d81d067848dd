"""Issues: writing, test sending, scheduling in Swedish time, the worker starting due issues."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from services.mailer.issues import domain
from shared.clock import utcnow
from shared.mail.outbox import deliver_due
from shared.mail.transport import open_transport
from shared.models import Delivery, Issue
from tests.mailer.conftest import mail_text
from tests.mailer.issue_fixtures import DEMO_ISSUE, add_subscribers


def make_issue(app, db) -> int:
    with app.app_context(), db.transaction() as session:
        return domain.create_issue_from_markdown_file(session, DEMO_ISSUE).id


def test_markdown_file_with_front_matter_becomes_a_draft(app, db):
    issue_id = make_issue(app, db)
    with db.transaction() as session:
        issue = session.get(Issue, issue_id)
        assert issue.status == "draft"
        assert issue.subject == "Nyhetsbrev 2025:10 – Dialogdag, upphandling och läget i Millennium"
        assert issue.preheader == "Veckans nyheter från samverkan mellan kommunerna och regionen"
        assert issue.source.lstrip().startswith("## Ledare")


def test_missing_subject_or_content_is_an_error_for_that_field(db):
    with db.transaction() as session:
        with pytest.raises(domain.IssueError) as error:
            domain.create_issue(session, list_id=1, subject=" ", preheader="", source="text")
        assert error.value.field == "subject"
        with pytest.raises(domain.IssueError) as error:
            domain.create_issue(session, list_id=1, subject="Ämne", preheader="", source="  ")
        assert error.value.field == "source"


def test_schedule_in_swedish_time_is_stored_in_utc_and_the_worker_starts_it_when_due(app, db):
    with db.transaction() as session:
        add_subscribers(session, 3)
    issue_id = make_issue(app, db)
    summer = domain.parse_local_time("2030-06-14", "08:00")
    assert summer == datetime(2030, 6, 14, 6, 0, tzinfo=UTC)  # CEST = UTC+2
    assert domain.parse_local_time("2030-01-10", "08:00") == datetime(2030, 1, 10, 7, 0, tzinfo=UTC)
    with app.app_context(), db.transaction() as session:
        domain.schedule(session, app.extensions["utskick"].config, session.get(Issue, issue_id), summer)
    with db.transaction() as session:
        assert domain.start_due_issues(session, now=summer - timedelta(minutes=1)) == 0
        assert session.get(Issue, issue_id).status == "scheduled"
    with db.transaction() as session:
        assert domain.start_due_issues(session, now=summer) == 1
        issue = session.get(Issue, issue_id)
        assert issue.status == "sending" and issue.started_at == summer
        assert len(session.scalars(select(Delivery.id).where(Delivery.issue_id == issue_id)).all()) == 3


def test_a_time_in_the_past_cannot_be_scheduled(app, db):
    issue_id = make_issue(app, db)
    with app.app_context(), db.transaction() as session, pytest.raises(domain.IssueError):
        domain.schedule(
            session, app.extensions["utskick"].config, session.get(Issue, issue_id), utcnow() - timedelta(hours=1)
        )


def test_a_sent_issue_cannot_be_edited_or_sent_again(app, db):
    issue_id = make_issue(app, db)
    config = app.extensions["utskick"].config
    with app.app_context(), db.transaction() as session:
        issue = session.get(Issue, issue_id)
        domain.send_now(session, config, issue)
        with pytest.raises(domain.IssueError):
            domain.send_now(session, config, issue)
        with pytest.raises(domain.IssueError):
            domain.update_issue(session, config, issue, subject="Nytt", preheader="", source="x")


def test_test_send_goes_through_the_outbox_to_the_given_addresses(smtp_app, smtp_server):
    db = smtp_app.extensions["utskick"].db
    issue_id = make_issue(smtp_app, db)
    with smtp_app.app_context(), db.transaction() as session:
        with pytest.raises(domain.IssueError):
            domain.send_test(
                session, smtp_app.extensions["utskick"].config, session.get(Issue, issue_id), "inte-en-adress"
            )
        sent_to = domain.send_test(
            session,
            smtp_app.extensions["utskick"].config,
            session.get(Issue, issue_id),
            "redaktor@example.org,\nchef@example.org",
        )
    assert sent_to == ["redaktor@example.org", "chef@example.org"]
    transport = open_transport(smtp_app.extensions["utskick"].config.mail_url)
    deliver_due(db, transport)
    transport.close()
    messages = smtp_server.wait_for(2)
    assert {m.rcpt_tos[0] for m in messages} == {"redaktor@example.org", "chef@example.org"}
    assert messages[0].message["Subject"].startswith("[Test] Nyhetsbrev 2025:10")
    assert "Upphandling av nya leverantörer" in mail_text(messages[0].message)
    with db.transaction() as session:
        assert session.get(Issue, issue_id).status == "draft"  # a test changes nothing
        assert session.scalar(select(Delivery.id)) is None
