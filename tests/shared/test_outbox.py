"""The outbox against a real SMTP server: sent, retried with backoff, failed with the server's answer."""

import email
from datetime import timedelta
from email.policy import default

from shared.clock import utcnow
from shared.config import parse_mail_url
from shared.mail.outbox import deliver_due, enqueue
from shared.mail.transport import open_transport
from shared.models import MailKind, OutboxMail, Suppression


def queue_one(db, config, to="asa@kommun.example", **kwargs):
    with db.transaction() as session:
        mail = enqueue(
            session,
            config,
            kind=MailKind.CONFIRMATION,
            to_email=to,
            to_name="Åsa Öberg",
            subject="Hej från VästKom",
            text="Hej Åsa!",
            html="<p>Hej Åsa!</p>",
            **kwargs,
        )
        session.flush()
        return mail.id


def smtp(config, smtp_server):
    return open_transport(parse_mail_url(smtp_server.url, config.var_dir))


def row(db, mail_id) -> OutboxMail:
    with db.sessions() as session:
        return session.get(OutboxMail, mail_id)


def test_a_queued_mail_reaches_the_server_once(db, config, smtp_server):
    mail_id = queue_one(db, config)
    transport = smtp(config, smtp_server)
    assert deliver_due(db, transport).sent == 1
    assert deliver_due(db, transport).total == 0  # nothing twice
    (received,) = smtp_server.wait_for(1)
    assert received.rcpt_tos == ("asa@kommun.example",)
    assert received.message["Subject"] == "Hej från VästKom"
    assert row(db, mail_id).status == "sent"


def test_rolled_back_change_sends_nothing(db, config, smtp_server):
    try:
        with db.transaction() as session:
            enqueue(session, config, kind=MailKind.CONFIRMATION, to_email="x@kommun.example", subject="s", text="t")
            raise RuntimeError("the change failed")
    except RuntimeError:
        pass
    assert deliver_due(db, smtp(config, smtp_server)).total == 0


def test_temporary_failure_is_retried_later_then_sent(db, config, smtp_server):
    mail_id = queue_one(db, config)
    smtp_server.respond_with(451, "4.7.1 Try again later", times=1, on="RCPT")
    transport = smtp(config, smtp_server)
    assert deliver_due(db, transport).retried == 1
    first = row(db, mail_id)
    assert first.status == "queued" and first.attempts == 1 and "451" in first.last_error
    assert first.due_at > utcnow() + timedelta(seconds=30)
    assert deliver_due(db, transport).total == 0  # not due yet
    assert deliver_due(db, transport, now=first.due_at + timedelta(seconds=1)).sent == 1
    assert len(smtp_server.messages) == 1


def test_lost_connection_is_retried(db, config, smtp_server):
    mail_id = queue_one(db, config)
    smtp_server.drop_connection_next()
    assert deliver_due(db, smtp(config, smtp_server)).retried == 1
    assert row(db, mail_id).status == "queued"


def test_permanent_failure_records_the_servers_answer(db, config, smtp_server):
    mail_id = queue_one(db, config)
    smtp_server.respond_with(550, "5.1.1 <asa@kommun.example>: Recipient address rejected", on="RCPT")
    assert deliver_due(db, smtp(config, smtp_server)).failed == 1
    failed = row(db, mail_id)
    assert failed.status == "failed"
    assert "5.1.1" in failed.last_error and "Recipient address rejected" in failed.last_error


def test_gives_up_after_48_hours(db, config, smtp_server):
    mail_id = queue_one(db, config)
    with db.transaction() as session:
        session.get(OutboxMail, mail_id).created_at = utcnow() - timedelta(hours=49)
    smtp_server.respond_with(451, "4.3.0 still busy", on="RCPT")
    assert deliver_due(db, smtp(config, smtp_server)).failed == 1


def test_suppressed_addresses_get_nothing(db, config, smtp_server):
    with db.transaction() as session:
        session.add(Suppression(email="bounced@kommun.example", reason="hard_bounce"))
    queued_then_suppressed = queue_one(db, config, to="later@kommun.example")
    suppressed_at_enqueue = queue_one(db, config, to="bounced@kommun.example")
    with db.transaction() as session:
        session.add(Suppression(email="later@kommun.example", reason="erasure"))
    counts = deliver_due(db, smtp(config, smtp_server))
    assert counts.sent == 0 and counts.suppressed == 1
    assert row(db, suppressed_at_enqueue).status == "suppressed"
    assert row(db, queued_then_suppressed).status == "suppressed"
    assert smtp_server.messages == []


def test_file_transport_writes_one_eml_per_mail(db, config):
    queue_one(db, config)
    assert deliver_due(db, open_transport(config.mail_url)).sent == 1
    files = list(config.mail_url.directory.glob("*.eml"))
    assert len(files) == 1
    parsed = email.message_from_bytes(files[0].read_bytes(), policy=default)
    assert parsed["Subject"] == "Hej från VästKom" and parsed["X-Envelope-To"] == "asa@kommun.example"


def test_one_connection_is_reused_for_many_mails(db, config, smtp_server):
    for n in range(5):
        queue_one(db, config, to=f"person{n}@kommun.example")
    assert deliver_due(db, smtp(config, smtp_server)).sent == 5
    assert smtp_server.wait_for(5)
    assert smtp_server.connections == 1


def test_the_log_names_mails_by_id_never_by_address(db, config, smtp_server, caplog):
    """Logs are out of reach of erasure: neither our lines nor the server's quoted answer keep the address."""
    deferred, failed = queue_one(db, config, to="asa@kommun.example"), queue_one(db, config, to="bo@kommun.example")
    smtp_server.respond_with(451, "4.2.1 <asa@kommun.example>: mailbox busy", times=1, on="RCPT")
    smtp_server.respond_with(550, "5.1.1 <bo@kommun.example>: Recipient address rejected", times=1, on="RCPT")
    with caplog.at_level("INFO"):
        counts = deliver_due(db, smtp(config, smtp_server))
    assert (counts.retried, counts.failed) == (1, 1)
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith(("shared", "services")))
    assert f"mail {deferred} deferred" in logged and f"mail {failed} failed" in logged
    assert "Recipient address rejected" in logged  # the server's words stay, for the operator
    assert "kommun.example" not in logged


def test_a_database_error_is_logged_without_the_values_it_quotes(db):
    """An unexpected error is logged with its traceback; the row the database refused (an address)
    is quoted by SQLAlchemy's message and by PostgreSQL's detail, and neither may reach the log."""
    import pytest
    from sqlalchemy.exc import IntegrityError

    from shared.logs import loggable_exception
    from shared.models import Subscriber

    with db.transaction() as session:
        session.add(Subscriber(email="karin@kommun.example"))
    with pytest.raises(IntegrityError) as caught, db.transaction() as session:
        session.add(Subscriber(email="karin@kommun.example"))
    logged = loggable_exception(caught.value)
    assert "IntegrityError" in logged and "INSERT INTO subscribers" in logged
    assert "karin" not in logged
