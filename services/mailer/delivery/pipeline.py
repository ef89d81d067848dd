"""The send pipeline, top to bottom: claim a batch → check each recipient is still subscribed →
fill in the mail → wait for the rate limit → send over one of N reused SMTP connections → record.

Crash safety: a claimed delivery carries ``claimed_by`` and ``lease_until``. Sent mails are recorded
every 100 mails or quarter second, so a worker killed mid-batch leaves at most its claimed, unrecorded
mails (two batches at most) to be sent again by whoever takes the expired lease over. SIGTERM
(``stop``) finishes the mail in hand, records, and hands the rest of the batch back at once.
"""

from __future__ import annotations

import logging
import os
import queue
import secrets
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from typing import TypeVar

from sqlalchemy import ARRAY, ColumnElement, Integer, and_, any_, exists, func, literal, or_, select, update
from sqlalchemy.orm import Session

from services.mailer.bounces.domain import classify, record_bounce
from services.mailer.delivery.compose import IssueMail, Recipient
from services.mailer.issues.domain import finish_issues
from services.mailer.subscriptions.domain import list_sender
from shared.clock import utcnow
from shared.config import Config
from shared.db import Database, is_postgres
from shared.i18n import language_or_default
from shared.logs import loggable
from shared.mail.dkim import signing_transport
from shared.mail.message import HeaderError
from shared.mail.outbox import GIVE_UP_AFTER, retry_delay
from shared.mail.transport import PermanentFailure, TemporaryFailure, Transport, open_transport
from shared.models import (
    BounceSource,
    Delivery,
    DeliveryStatus,
    Issue,
    IssueStatus,
    NewsletterList,
    SendGrant,
    Subscriber,
    Subscription,
    SubscriptionStatus,
    Suppression,
)
from shared.ratelimit import hold
from shared.tokens import Tokens

log = logging.getLogger(__name__)

BATCH_SIZE = 100
LEASE = timedelta(minutes=2)
RECORD_EVERY = 100  # sent mails recorded together (or every 0.25 s, whichever comes first)

_T = TypeVar("_T")


# A grant's mails are counted when granted and must be sent within this time or are given up, so a
# window of the limit is checked over its length plus this (a mail sent late still counts in it).
GRANT_LIFETIME = 0.25  # seconds
GRANT_MOST = 50  # mails in one grant at most
SEND_RATE_KEY = "send-rate"


def rate_windows(per_second: float, per_hour: int) -> list[tuple[int, float]]:
    """The sending limits as (mails, seconds) windows; none when nothing is limited."""
    windows = []
    if per_second > 0:
        seconds = 1.0 if per_second >= 1 else 1.0 / per_second
        windows.append((max(1, int(per_second * seconds)), seconds))
    if per_hour > 0:
        windows.append((per_hour, 3600.0))
    return windows


def grant_mails(session: Session, wanted: int, windows: list[tuple[int, float]]) -> tuple[int, float]:
    """Count up to ``wanted`` mails that every window still has room for: (mails granted, 0), or
    (0, seconds until there is room). Serialised over all workers by one lock row."""
    now = utcnow()
    if is_postgres(session):  # one clock for workers on several machines
        now = session.scalar(select(func.now())) or now
    hold(session, SEND_RATE_KEY, now)
    room, wait = wanted, 0.0
    for limit, seconds in windows:
        since = now - timedelta(seconds=seconds + GRANT_LIFETIME)
        used, oldest = session.execute(
            select(func.coalesce(func.sum(SendGrant.mails), 0), func.min(SendGrant.at)).where(SendGrant.at > since)
        ).one()
        room = min(room, limit - used)
        if limit - used <= 0 and oldest is not None:
            wait = max(wait, (oldest - since).total_seconds())
    if room <= 0:
        return 0, max(wait, 0.01)
    session.add(SendGrant(at=now, mails=room))
    return room, 0.0


class RateLimiter:
    """The sending rate limit (per second and/or per hour) of every worker together, kept in the
    database: a worker takes a few mails' worth at a time (``send_grants``), its lanes share them."""

    def __init__(self, db: Database, per_second: float = 0.0, per_hour: int = 0):
        self.db = db
        self.windows = rate_windows(per_second, per_hour)
        # What a quarter of a second allows, so one worker does not take what others could send now.
        self.grant_size = max(1, min(GRANT_MOST, int(per_second * GRANT_LIFETIME))) if per_second > 0 else GRANT_MOST
        self._left = 0
        self._until = 0.0
        self._lock = threading.Lock()

    def acquire(self, stop: threading.Event, max_wait: float = 10.0) -> bool:
        """Take one mail's permit; False when ``stop`` was set or ``max_wait`` passed first."""
        if not self.windows:
            return True
        deadline = time.monotonic() + max_wait
        while True:
            with self._lock:
                if self._left > 0 and time.monotonic() < self._until:
                    self._left -= 1
                    return True
                with self.db.transaction() as session:
                    granted, wait = grant_mails(session, self.grant_size, self.windows)
                if granted:
                    self._left, self._until = granted - 1, time.monotonic() + GRANT_LIFETIME
                    return True
            remaining = deadline - time.monotonic()
            if remaining <= 0 or stop.wait(min(wait, remaining)):
                return False


@dataclass
class SendCounts:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0
    released: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, **counts: int) -> None:
        with self._lock:
            for name, value in counts.items():
                setattr(self, name, getattr(self, name) + value)

    @property
    def total(self) -> int:
        return self.sent + self.retried + self.failed + self.skipped


@dataclass(frozen=True)
class Claimed:
    issue_id: int
    recipient: Recipient


class Outcome(Enum):
    """What a connection lane reports back for one delivery."""

    SENT = "sent"
    RETRY = "retry"  # a temporary failure: queued again for later
    FAILED = "failed"
    UNSENT = "unsent"  # not tried (stopping): handed back at once


# -- the statements ------------------------------------------------------------------------------------


def _among(session: Session, ids: list[int]) -> ColumnElement[bool]:
    """``deliveries.id IN ids``; on PostgreSQL ``= ANY(array)``: one parameter, so a statement's text is
    the same for every batch and prepared once, where a list of 100 parameters was rendered, sent and
    parsed again per batch (a third of the sending process's CPU outside the mails themselves)."""
    if is_postgres(session):
        return Delivery.id == any_(literal(ids, ARRAY(Integer)))
    return Delivery.id.in_(ids)


def claim(session: Session, worker: str, now: datetime, lease: timedelta, limit: int) -> list[Claimed]:
    """Take up to ``limit`` due deliveries of issues being sent (or whose holder's lease ran out).

    One ``UPDATE … RETURNING`` per range, atomic on its own; on PostgreSQL its rows are picked
    ``FOR UPDATE SKIP LOCKED`` so workers never wait for or take each other's rows.
    """
    sending = select(Issue.id).where(Issue.status == IssueStatus.SENDING)
    values = {"status": DeliveryStatus.SENDING, "claimed_by": worker, "lease_until": now + lease}
    # Two ranges of one index, (status, due_at): each read in order and cut off at the limit.
    # One query with OR made both databases collect and sort every due row for each batch.
    ranges = [
        (and_(Delivery.status == DeliveryStatus.SENDING, Delivery.lease_until < now), Delivery.lease_until),
        (and_(Delivery.status == DeliveryStatus.QUEUED, Delivery.due_at <= now), Delivery.due_at),
    ]
    ids: list[int] = []
    for condition, order in ranges:
        wanted = limit - len(ids)
        if wanted <= 0:
            break
        candidates = select(Delivery.id).where(condition, Delivery.issue_id.in_(sending)).order_by(order).limit(wanted)
        if is_postgres(session):
            candidates = candidates.with_for_update(skip_locked=True, of=Delivery)
        ids.extend(
            session.scalars(
                update(Delivery)
                .where(Delivery.id.in_(candidates))
                .values(**values)
                .returning(Delivery.id)
                .execution_options(synchronize_session=False)
            )
        )
    if not ids:
        return []
    # Whoever stopped or was suppressed since the fan-out does not get the mail.
    gone = or_(
        ~exists().where(Subscription.id == Delivery.subscription_id, Subscription.status == SubscriptionStatus.ACTIVE),
        exists().where(Suppression.email == func.lower(Delivery.email)),
    )
    session.execute(
        update(Delivery)
        .where(_among(session, ids), gone)
        .values(status=DeliveryStatus.SKIPPED, lease_until=None, claimed_by=None)
        .execution_options(synchronize_session=False)
    )
    rows = session.execute(
        select(Delivery.id, Delivery.issue_id, Delivery.subscription_id, Delivery.email, Subscriber.name)
        .join(Subscription, Subscription.id == Delivery.subscription_id)
        .join(Subscriber, Subscriber.id == Subscription.subscriber_id)
        .where(_among(session, ids), Delivery.status == DeliveryStatus.SENDING, Delivery.claimed_by == worker)
        .order_by(Delivery.id)
    ).all()
    return [Claimed(r.issue_id, Recipient(r.id, r.subscription_id, r.email, r.name or "")) for r in rows]


def record_sent(session: Session, ids: list[int], now: datetime) -> None:
    session.execute(
        update(Delivery)
        .where(_among(session, ids))
        .values(
            status=DeliveryStatus.SENT, sent_at=now, attempts=Delivery.attempts + 1, lease_until=None, last_error=""
        )
        .execution_options(synchronize_session=False)
    )


def release(session: Session, ids: list[int], worker: str) -> None:
    """Hand claimed but unsent deliveries back (SIGTERM, pause) for anyone to take."""
    session.execute(
        update(Delivery)
        .where(_among(session, ids), Delivery.status == DeliveryStatus.SENDING, Delivery.claimed_by == worker)
        .values(status=DeliveryStatus.QUEUED, lease_until=None, claimed_by=None)
        .execution_options(synchronize_session=False)
    )


def release_all(session: Session, worker: str) -> None:
    """Hand back every delivery ``worker`` still holds (a run cut short by an outage)."""
    session.execute(
        update(Delivery)
        .where(Delivery.status == DeliveryStatus.SENDING, Delivery.claimed_by == worker)
        .values(status=DeliveryStatus.QUEUED, lease_until=None, claimed_by=None)
        .execution_options(synchronize_session=False)
    )


def renew(session: Session, ids: list[int], worker: str, until: datetime) -> None:
    session.execute(
        update(Delivery)
        .where(_among(session, ids), Delivery.claimed_by == worker, Delivery.status == DeliveryStatus.SENDING)
        .values(lease_until=until)
        .execution_options(synchronize_session=False)
    )


def envelope_address(address: str) -> str:
    """The address as SMTP carries it without SMTPUTF8: the domain in punycode."""
    local, _, domain = address.rpartition("@")
    return f"{local}@{domain.encode('idna').decode('ascii')}"


# -- the pipeline -------------------------------------------------------------------------------------


class IssuePipeline:
    """Delivers newsletter issues with ``connections`` parallel SMTP connections under one rate limit."""

    def __init__(
        self,
        config: Config,
        db: Database,
        *,
        tokens: Tokens | None = None,
        connections: int | None = None,
        batch_size: int = BATCH_SIZE,
        lease: timedelta = LEASE,
        worker_id: str | None = None,
        transport_factory: Callable[[], Transport] | None = None,
    ):
        self.config = config
        self.db = db
        self.tokens = tokens or Tokens(config.secret_keys)
        self.connections = max(1, connections or config.smtp_connections)
        self.batch_size = batch_size
        self.lease = lease
        self.worker = (worker_id or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}")[:100]
        self.transport_factory = transport_factory or (
            lambda: signing_transport(open_transport(config.mail_url), config)
        )
        self.limiter = RateLimiter(db, config.send_rate_per_second, config.send_rate_per_hour)
        self._mails: dict[int, IssueMail] = {}
        self._mails_lock = threading.Lock()
        self._cut_short = False  # the last run ended in an error, with deliveries still claimed

    # One object per issue, loaded once: the rendered HTML and text are the same for every mail.
    def _mail(self, issue_id: int) -> IssueMail:
        # Found without the lock (a dict look-up is atomic): every lane asks for every mail.
        mail = self._mails.get(issue_id)
        if mail is not None:
            return mail
        with self._mails_lock:
            mail = self._mails.get(issue_id)
            if mail is None:
                with self.db.sessions() as session:
                    # Claimed deliveries exist, so their issue does (deleting it deletes them).
                    issue = session.get_one(Issue, issue_id)
                    newsletter_list = session.get_one(NewsletterList, issue.list_id)
                    mail = IssueMail(
                        issue_id=issue.id,
                        subject=issue.subject,
                        html=issue.html,
                        text=issue.text,
                        language=language_or_default(newsletter_list.language),
                        list_name=newsletter_list.name,
                        list_slug=newsletter_list.slug,
                        config=self.config,
                        tokens=self.tokens,
                        sender=list_sender(newsletter_list),
                    )
                self._mails[issue_id] = mail
            return mail

    def claim(self, limit: int | None = None) -> list[Claimed]:
        with self.db.transaction() as session:
            return claim(session, self.worker, utcnow(), self.lease, limit or self.batch_size)

    def run(self, stop: threading.Event | None = None) -> int:
        """Send until nothing is due (or ``stop`` is set); return how many deliveries were handled.

        This thread does all the database work (claim, record, renew, release); the connection
        threads only fill in and send. One writer keeps SQLite free of lock waits, and records go
        in bulk.
        """
        stop = stop or threading.Event()
        counts = SendCounts()
        if self._cut_short:
            # Nobody else takes them before their lease runs out, and no run of ours has them in
            # hand now; those sent but not yet recorded go again (at most one record batch).
            with self.db.transaction() as session:
                release_all(session, self.worker)
            self._cut_short = False
        first = self.claim() if not stop.is_set() else []
        if first:
            try:
                self._coordinate(first, stop, counts)
            except Exception:
                self._cut_short = True
                raise
        with self.db.transaction() as session:
            finish_issues(session)
        return counts.total

    def _coordinate(self, first: list[Claimed], stop: threading.Event, counts: SendCounts) -> None:
        work: queue.Queue[Claimed | None] = queue.Queue()
        results: queue.Queue = queue.Queue()
        outstanding: set[int] = set()
        lanes = [
            threading.Thread(target=self._lane, args=(work, results, stop), name=f"issue-lane-{i}", daemon=True)
            for i in range(self.connections)
        ]
        for lane in lanes:
            lane.start()

        def feed(batch: list[Claimed]) -> None:
            for item in batch:
                outstanding.add(item.recipient.delivery_id)
                work.put(item)

        feed(first)
        exhausted = False
        sent: list[int] = []
        last_record = last_renew = time.monotonic()
        try:
            while outstanding or not (exhausted or stop.is_set()):
                if stop.is_set():
                    self._release_unstarted(work, outstanding, counts)
                elif not exhausted and work.qsize() < self.batch_size:
                    batch = self.claim()
                    exhausted = not batch
                    feed(batch)
                try:
                    outcome, item, error = results.get(timeout=0.05)
                except queue.Empty:
                    outcome = None
                while outcome is not None:
                    delivery_id = item.recipient.delivery_id
                    outstanding.discard(delivery_id)
                    if outcome is Outcome.SENT:
                        sent.append(delivery_id)
                    elif outcome is Outcome.RETRY:
                        self._retry_later(item.recipient, error, counts)
                    elif outcome is Outcome.FAILED:
                        self._fail(item.recipient, error, counts)
                    elif outcome is Outcome.UNSENT:
                        self._release([delivery_id], counts)
                    try:
                        outcome, item, error = results.get_nowait()
                    except queue.Empty:
                        outcome = None
                now = time.monotonic()
                if sent and (len(sent) >= RECORD_EVERY or now - last_record > 0.25):
                    self._record(sent, counts)
                    sent, last_record = [], now
                # Renew before half the lease is gone, so a slow rate limit never lets another worker take over.
                if outstanding and now - last_renew > self.lease.total_seconds() / 3:
                    with self.db.transaction() as session:
                        renew(session, list(outstanding), self.worker, utcnow() + self.lease)
                    last_renew = now
        finally:
            # Normally both queues are empty here; after an error (say the database went away) the
            # unstarted mails stay claimed until their lease runs out, and the lanes still stop.
            unstarted = self._drain(work)
            for _lane in lanes:
                work.put(None)
            for lane in lanes:
                lane.join()
            sent.extend(
                item.recipient.delivery_id for outcome, item, _ in self._drain(results) if outcome is Outcome.SENT
            )
            self._record(sent, counts)
            if unstarted:
                self._release([item.recipient.delivery_id for item in unstarted], counts)

    @staticmethod
    def _drain(q: queue.Queue[_T | None]) -> list[_T]:
        items: list[_T] = []
        while True:
            try:
                item = q.get_nowait()
            except queue.Empty:
                return items
            if item is not None:
                items.append(item)

    def _release_unstarted(self, work: queue.Queue[Claimed | None], outstanding: set[int], counts: SendCounts) -> None:
        unstarted = [item.recipient.delivery_id for item in self._drain(work)]
        if unstarted:
            outstanding.difference_update(unstarted)
            self._release(unstarted, counts)

    def _release(self, ids: list[int], counts: SendCounts) -> None:
        with self.db.transaction() as session:
            release(session, ids, self.worker)
        counts.add(released=len(ids))

    def _lane(self, work: queue.Queue[Claimed | None], results: queue.Queue, stop: threading.Event) -> None:
        """One SMTP connection: take a claimed delivery, wait for the rate limit, fill in, send, report."""
        transport = self.transport_factory()
        try:
            while True:
                item = work.get()
                if item is None:
                    return
                if stop.is_set() or not self.limiter.acquire(stop, max_wait=float("inf")):
                    results.put((Outcome.UNSENT, item, None))
                    continue
                try:
                    mail = self._mail(item.issue_id)
                    message = mail.build(item.recipient)
                    transport.send(mail.envelope_from, envelope_address(item.recipient.email), message)
                except TemporaryFailure as exc:
                    results.put((Outcome.RETRY, item, str(exc)))
                except PermanentFailure as exc:
                    results.put((Outcome.FAILED, item, exc))
                except HeaderError as exc:  # trying again would build the same refused header
                    results.put((Outcome.FAILED, item, PermanentFailure(None, str(exc))))
                except Exception as exc:  # a bug must not take the lane down with the delivery in hand
                    log.exception("delivery %s: unexpected error", item.recipient.delivery_id)
                    results.put((Outcome.RETRY, item, f"internal error: {exc}"))
                else:
                    results.put((Outcome.SENT, item, None))
        finally:
            transport.close()

    def _record(self, sent: list[int], counts: SendCounts) -> None:
        if not sent:
            return
        with self.db.transaction() as session:
            record_sent(session, sent, utcnow())
        counts.add(sent=len(sent))

    def _gone(self, recipient: Recipient, counts: SendCounts) -> None:
        """The delivery was deleted while in hand (its person erased, say): nothing left to record."""
        counts.add(skipped=1)
        log.info("delivery %s: deleted while being sent, nothing recorded", recipient.delivery_id)

    def _retry_later(self, recipient: Recipient, error: str, counts: SendCounts) -> None:
        with self.db.transaction() as session:
            delivery = session.get(Delivery, recipient.delivery_id)
            if delivery is None:
                self._gone(recipient, counts)
                return
            now = utcnow()
            delivery.attempts += 1
            delivery.last_error = error[:2000]
            delivery.lease_until = None
            delivery.claimed_by = None
            if now - delivery.created_at >= GIVE_UP_AFTER:
                delivery.status = DeliveryStatus.FAILED
                counts.add(failed=1)
                log.error("delivery %s given up after 48 h: %s", delivery.id, loggable(error))
            else:
                delivery.status = DeliveryStatus.QUEUED
                delivery.due_at = now + retry_delay(delivery.attempts)
                counts.add(retried=1)
                log.warning("delivery %s deferred: %s", delivery.id, loggable(error))

    def _fail(self, recipient: Recipient, exc: PermanentFailure, counts: SendCounts) -> None:
        with self.db.transaction() as session:
            delivery = session.get(Delivery, recipient.delivery_id)
            if delivery is None:  # no bounce either: an erased address is not stored again
                self._gone(recipient, counts)
                return
            delivery.attempts += 1
            delivery.status = DeliveryStatus.FAILED
            delivery.last_error = str(exc)[:2000]
            delivery.lease_until = None
            delivery.claimed_by = None
            kind, status = classify(exc.code, exc.text)
            if kind is not None:
                record_bounce(
                    session, delivery.email, kind, source=BounceSource.SMTP, status_code=status, detail=str(exc)
                )
        counts.add(failed=1)
        log.error("delivery %s failed: %s", recipient.delivery_id, loggable(str(exc)))
