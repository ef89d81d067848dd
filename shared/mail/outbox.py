"""The transactional outbox: ``enqueue`` writes a mail in the caller's transaction; ``deliver_due``
(run by the worker) sends what is due, retrying temporary failures with backoff."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import parseaddr

from sqlalchemy import exists, insert, or_, select, update
from sqlalchemy.orm import Session

from shared.clock import utcnow
from shared.config import Config
from shared.db import Database, is_postgres
from shared.logs import loggable
from shared.mail.message import MessageWriter, as_wire_bytes, build_message, format_address
from shared.mail.transport import PermanentFailure, TemporaryFailure, Transport
from shared.models import MailKind, OutboxMail, OutboxStatus, Suppression

log = logging.getLogger(__name__)

# Minutes first, then hours; a mail still failing 48 h after it was written is given up.
RETRY_DELAYS = (60, 300, 900, 3600, 3 * 3600, 6 * 3600)
GIVE_UP_AFTER = timedelta(hours=48)
LEASE = timedelta(minutes=5)


def retry_delay(attempts: int) -> timedelta:
    return timedelta(seconds=RETRY_DELAYS[min(attempts, len(RETRY_DELAYS)) - 1])


def is_suppressed(session: Session, email: str) -> bool:
    return session.scalar(select(exists().where(Suppression.email == email.lower()))) or False


def enqueue(
    session: Session,
    config: Config,
    *,
    kind: MailKind,
    to_email: str,
    to_name: str = "",
    subject: str,
    text: str,
    html: str | None = None,
    headers: dict[str, str] | None = None,
    language: str = "sv",
    due_at: datetime | None = None,
) -> OutboxMail:
    """Write one mail to the outbox as part of the caller's transaction (it is sent after commit)."""
    message = build_message(
        sender=config.mail_from,
        to=format_address(to_email, to_name),
        subject=subject,
        text=text,
        html=html,
        headers=headers,
        language=language,
    )
    now = utcnow()
    mail = OutboxMail(
        kind=MailKind(kind),
        sender=parseaddr(config.mail_from)[1],
        recipient=to_email,
        subject=subject,
        message=as_wire_bytes(message),
        status=OutboxStatus.SUPPRESSED if is_suppressed(session, to_email) else OutboxStatus.QUEUED,
        created_at=now,
        due_at=due_at or now,
    )
    session.add(mail)
    return mail


@dataclass(frozen=True)
class Mail:
    """One mail of a fan-out (``enqueue_many``)."""

    to_email: str
    to_name: str
    subject: str
    text: str
    html: str
    headers: dict[str, str] = field(default_factory=dict)


def enqueue_many(session: Session, config: Config, kind: MailKind, mails: Sequence[Mail], language: str = "sv") -> None:
    """Write a batch of mails in one INSERT, in the caller's transaction.

    For fan-outs whose recipients were chosen in SQL without the suppression list's addresses:
    unlike ``enqueue`` it does not look each address up again.
    """
    if not mails:
        return
    now = utcnow()
    sender = parseaddr(config.mail_from)[1]
    writer = MessageWriter(config.mail_from, language)
    rows = [
        {
            "kind": MailKind(kind),
            "sender": sender,
            "recipient": mail.to_email,
            "subject": mail.subject,
            "message": writer.write(mail.to_email, mail.to_name, mail.subject, mail.text, mail.html, mail.headers),
            "status": OutboxStatus.QUEUED,
            "attempts": 0,
            "created_at": now,
            "due_at": now,
            "last_error": "",
        }
        for mail in mails
    ]
    session.execute(insert(OutboxMail), rows)


@dataclass
class DeliveryCounts:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    suppressed: int = 0

    @property
    def total(self) -> int:
        return self.sent + self.retried + self.failed + self.suppressed


def claim_due(session: Session, now: datetime, limit: int) -> list[int]:
    """Take up to ``limit`` due mails for this worker; on PostgreSQL other workers skip them."""
    query = (
        select(OutboxMail.id)
        .where(
            OutboxMail.status == OutboxStatus.QUEUED,
            OutboxMail.due_at <= now,
            or_(OutboxMail.claimed_until.is_(None), OutboxMail.claimed_until < now),
        )
        .order_by(OutboxMail.due_at, OutboxMail.id)
        .limit(limit)
    )
    if is_postgres(session):
        query = query.with_for_update(skip_locked=True)
    ids = list(session.scalars(query))
    if ids:
        session.execute(update(OutboxMail).where(OutboxMail.id.in_(ids)).values(claimed_until=now + LEASE))
    return ids


def deliver_due(
    db: Database,
    transport: Transport,
    *,
    batch: int = 50,
    stop: threading.Event | None = None,
    now: datetime | None = None,
    unfinished: list[int] | None = None,
) -> DeliveryCounts:
    """Send due outbox mails; stop early (between mails) when ``stop`` is set.

    ``unfinished`` holds ids this worker claimed in an earlier call that an outage cut short: they
    are handled first (their lease keeps others off them), and each id leaves the list once handled.
    """
    counts = DeliveryCounts()
    ids = unfinished if unfinished is not None else []
    with db.transaction() as session:
        ids.extend(claim_due(session, now or utcnow(), batch))
    while ids:
        if stop is not None and stop.is_set():
            _release(db, ids[0])
        else:
            _deliver_one(db, transport, ids[0], counts)
        ids.pop(0)
    return counts


def _release(db: Database, mail_id: int) -> None:
    with db.transaction() as session:
        session.execute(update(OutboxMail).where(OutboxMail.id == mail_id).values(claimed_until=None))


def _deliver_one(db: Database, transport: Transport, mail_id: int, counts: DeliveryCounts) -> None:
    with db.sessions() as session:
        mail = session.get(OutboxMail, mail_id)
        if mail is None or mail.status != OutboxStatus.QUEUED:
            return
        if is_suppressed(session, mail.recipient):
            mail.status = OutboxStatus.SUPPRESSED
            counts.suppressed += 1
            session.commit()
            return
        sender, recipient, message = mail.sender, mail.recipient, mail.message
    # The network call happens outside any transaction: a slow server must not hold locks.
    # A temporary failure leaves the mail queued, to be tried again later.
    try:
        transport.send(sender, recipient, message)
        outcome, error = OutboxStatus.SENT, ""
    except TemporaryFailure as exc:
        outcome, error = OutboxStatus.QUEUED, str(exc)
    except PermanentFailure as exc:
        outcome, error = OutboxStatus.FAILED, str(exc)
    with db.transaction() as session:
        mail = session.get_one(OutboxMail, mail_id)
        now = utcnow()
        mail.attempts += 1
        mail.claimed_until = None
        mail.last_error = error
        if outcome == OutboxStatus.SENT:
            mail.status, mail.sent_at = OutboxStatus.SENT, now
            counts.sent += 1
        elif outcome == OutboxStatus.QUEUED and now - mail.created_at < GIVE_UP_AFTER:
            mail.due_at = now + retry_delay(mail.attempts)
            counts.retried += 1
            log.warning("mail %s deferred: %s", mail_id, loggable(error))
        else:
            mail.status = OutboxStatus.FAILED
            counts.failed += 1
            log.error("mail %s failed: %s", mail_id, loggable(error))
