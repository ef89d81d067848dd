"""Issue 9: no text can add a header to a mail (CR/LF and other control characters are refused on
the way in, and by the mail-building layer itself)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update

from services.cli import main
from services.mailer.delivery.compose import IssueMail, Recipient
from services.mailer.delivery.pipeline import IssuePipeline
from services.mailer.issues import domain
from shared.mail.message import HeaderError, build_message, format_address
from shared.models import Delivery, Issue, OutboxMail
from tests.mailer.issue_fixtures import DEMO_ISSUE, add_subscribers
from tests.mailer.issues.test_admin import errors

INJECTED = "Hej\r\nBcc: x@evil.example"


@pytest.mark.parametrize("text", [INJECTED, "Hej\nBcc: x@evil.example", "Hej\x00", "Hej\tdu", "Hej\u2028du"])
def test_the_mail_layer_refuses_control_characters_in_every_header(text):
    with pytest.raises(HeaderError):
        build_message(sender="a@example.org", to="b@example.org", subject=text, text="x")
    with pytest.raises(HeaderError):
        build_message(sender="a@example.org", to="b@example.org", subject="x", text="x", headers={"X-A": text})
    with pytest.raises(HeaderError):
        format_address("b@example.org", text)


def test_the_bulk_builder_refuses_an_injected_subject(app):
    config = app.extensions["utskick"].config
    tokens = app.extensions["utskick"].tokens
    options = {"issue_id": 1, "html": "<p>x</p>", "text": "x", "language": "sv", "list_name": "L", "list_slug": "l"}
    with pytest.raises(HeaderError):
        IssueMail(subject=INJECTED, config=config, tokens=tokens, **options)
    mail = IssueMail(subject="Hej", config=config, tokens=tokens, **options)
    with pytest.raises(HeaderError):
        mail.build(Recipient(1, 1, "b@example.org", "Eva\x00"))
    # Line breaks in a stored name are folded to spaces: one line, no new header.
    built = mail.build(Recipient(1, 1, "b@example.org", "Eva\r\nBcc: x@evil.example"))
    assert b"\r\nBcc:" not in built


@pytest.mark.parametrize("field", ["subject", "preheader"])
def test_the_domain_refuses_line_breaks_in_subject_and_preheader(db, field):
    texts = {"subject": "Ämne", "preheader": "", field: INJECTED}
    with db.transaction() as session, pytest.raises(domain.IssueError) as error:
        domain.create_issue(session, list_id=1, source="text", **texts)
    assert error.value.field == field
    assert "radbrytningar" in error.value.message


def test_the_web_form_explains_the_refused_subject_and_keeps_the_input(app, db, editor_client):
    page = editor_client.post(
        "/admin/issues/new",
        data={"list_id": "1", "subject": INJECTED, "preheader": "Kort\ntext", "source": "Hej"},
    )
    assert errors(page.text) == ["Ämnesraden får inte innehålla radbrytningar eller andra styrtecken."]
    assert "Kort\ntext" in page.text  # the input is kept
    with db.transaction() as session:
        assert session.scalar(select(Issue.id)) is None


def test_the_cli_refuses_front_matter_with_a_line_break(db, cli_env, tmp_path):
    source = tmp_path / "issue.md"
    source.write_text('---\nsubject: "Hej\\r\\nBcc: x@evil.example"\n---\nText\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["issues", "create", str(source), "--list", "nyhetsbrev"])
    assert result.exit_code != 0
    assert "radbrytningar" in result.output and "Traceback" not in result.output
    with db.transaction() as session:
        assert session.scalar(select(Issue.id)) is None


def stored_with_injection(app, db) -> int:
    """A draft written before the check existed: the subject went into the database as is."""
    with app.app_context(), db.transaction() as session:
        issue = domain.create_issue_from_markdown_file(session, DEMO_ISSUE)
        session.flush()
        session.execute(update(Issue).where(Issue.id == issue.id).values(subject=INJECTED))
        return issue.id


def test_test_sending_an_old_injected_draft_is_a_message_not_a_500(app, db, editor_client):
    issue_id = stored_with_injection(app, db)
    page = editor_client.post(f"/admin/issues/{issue_id}/test", data={"addresses": "redaktor@example.org"})
    assert page.status_code == 400
    assert "Ämnesraden får inte innehålla radbrytningar eller andra styrtecken." in page.text
    with db.transaction() as session:
        assert session.scalar(select(OutboxMail.id)) is None


def test_no_delivered_copy_carries_an_injected_header(smtp_app, smtp_server):
    db, config = smtp_app.extensions["utskick"].db, smtp_app.extensions["utskick"].config
    with db.transaction() as session:
        add_subscribers(session, 3)
    issue_id = stored_with_injection(smtp_app, db)
    with smtp_app.app_context(), db.transaction() as session, pytest.raises(domain.IssueError):
        domain.send_now(session, config, session.get(Issue, issue_id))
    # Even if deliveries existed (a path we do not know of), the builder refuses the subject.
    with smtp_app.app_context(), db.transaction() as session:
        issue = session.get(Issue, issue_id)
        issue.subject = "Rätt ämne"
        domain.send_now(session, config, issue)
    with db.transaction() as session:
        session.execute(update(Issue).where(Issue.id == issue_id).values(subject=INJECTED))
    IssuePipeline(config, db).run()
    assert smtp_server.messages == []
    with db.transaction() as session:
        assert set(session.scalars(select(Delivery.status))) == {"failed"}
