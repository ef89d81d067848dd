"""``utskick issues create|send|list``."""

from __future__ import annotations

from datetime import UTC, datetime

from click.testing import CliRunner

from services.cli import main
from shared.models import Issue
from tests.mailer.issue_fixtures import DEMO_ISSUE, add_subscribers


def test_cli_creates_and_sends_an_issue(db, cli_env):
    with db.transaction() as session:
        add_subscribers(session, 2)
    runner = CliRunner()
    created = runner.invoke(main, ["issues", "create", str(DEMO_ISSUE), "--list", "nyhetsbrev"])
    assert created.exit_code == 0, created.output
    issue_id = int(created.output.strip().splitlines()[-1])
    scheduled = runner.invoke(main, ["issues", "send", str(issue_id), "--at", "2031-03-07T08:30"])
    assert scheduled.exit_code == 0, scheduled.output
    assert "2031-03-07 08:30" in scheduled.output
    with db.transaction() as session:
        issue = session.get(Issue, issue_id)
        assert issue.status == "scheduled"
        assert issue.scheduled_at == datetime(2031, 3, 7, 7, 30, tzinfo=UTC)
    sent = runner.invoke(main, ["issues", "send", str(issue_id)])
    assert sent.exit_code == 0 and "2 mails queued" in sent.output
    assert runner.invoke(main, ["issues", "send", "999"]).exit_code != 0
    assert runner.invoke(main, ["issues", "create", str(DEMO_ISSUE), "--list", "finns-inte"]).exit_code != 0
