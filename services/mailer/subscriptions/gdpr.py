"""GDPR: a person's access to their data (export) and their erasure."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, delete, func, select, update
from sqlalchemy.orm import Session

from services.mailer.subscriptions.domain import confirm_mail_key, stop_mail_key
from services.mailer.subscriptions.people import person_record
from shared import ratelimit
from shared.clock import utcnow
from shared.models import (
    BounceEvent,
    Delivery,
    Issue,
    OutboxMail,
    OutboxStatus,
    Subscriber,
    Subscription,
    Suppression,
    SuppressionReason,
)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def personal_data(session: Session, subscriber_id: int, now: datetime | None = None) -> dict | None:
    """Everything we hold on one subscriber, as a JSON-ready dict (None if there is no such person)."""
    record = person_record(session, subscriber_id)
    if record is None:
        return None
    s = record.subscriber
    deliveries = session.execute(
        select(Issue.subject, Delivery.status, Delivery.created_at, Delivery.sent_at)
        .join(Issue, Delivery.issue_id == Issue.id)
        .join(Subscription, Delivery.subscription_id == Subscription.id)
        .where(Subscription.subscriber_id == subscriber_id)
        .order_by(Delivery.created_at)
    ).all()
    bounces = session.scalars(
        select(BounceEvent).where(func.lower(BounceEvent.email) == s.email.lower()).order_by(BounceEvent.at)
    ).all()
    return {
        "exported_at": _iso(now or utcnow()),
        "subscriber": {
            "email": s.email,
            "name": s.name,
            "language": s.language,
            "attributes": dict(s.attributes or {}),
            "created_at": _iso(s.created_at),
        },
        "subscriptions": [
            {
                "list": sub.newsletter_list.name,
                "list_slug": sub.newsletter_list.slug,
                "status": sub.status,
                "requested_at": _iso(sub.requested_at),
                "confirmed_at": _iso(sub.confirmed_at),
                "unsubscribed_at": _iso(sub.unsubscribed_at),
                "consent": {
                    "method": sub.consent_method,
                    "text_version": sub.consent_text_version,
                    "source_url": sub.source_url,
                    "request_ip": sub.request_ip,
                    "confirm_ip": sub.confirm_ip,
                },
                "events": [{"at": _iso(e.at), "kind": e.kind, "ip": e.ip, "detail": e.detail} for e in sub.events],
            }
            for sub in record.subscriptions
        ],
        "mails": [
            {
                "kind": m.kind,
                "subject": m.subject,
                "status": m.status,
                "created_at": _iso(m.created_at),
                "sent_at": _iso(m.sent_at),
                "attempts": m.attempts,
                "last_error": m.last_error,
            }
            for m in record.mails
        ],
        "newsletter_issues": [
            {"subject": subject, "status": status, "created_at": _iso(created), "sent_at": _iso(sent)}
            for subject, status, created, sent in deliveries
        ],
        "bounces": [
            {"at": _iso(b.at), "kind": b.kind, "source": b.source, "status_code": b.status_code, "detail": b.detail}
            for b in bounces
        ],
        "suppression": (
            {
                "reason": record.suppression.reason,
                "detail": record.suppression.detail,
                "created_at": _iso(record.suppression.created_at),
            }
            if record.suppression
            else None
        ),
    }


def erase_subscriber(session: Session, subscriber_id: int, *, editor: str, now: datetime | None = None) -> str | None:
    """Delete the person and their history, blank their mails, and keep only a suppression entry.

    Returns the erased address (None if there was no such subscriber). The address stays on the
    suppression list so that no later import or send reaches the person again.
    """
    subscriber = session.get(Subscriber, subscriber_id)
    if subscriber is None:
        return None
    now = now or utcnow()
    email = subscriber.email.lower()
    # Subscriptions, their events and their issue deliveries go with the subscriber (ON DELETE CASCADE).
    session.execute(delete(Subscriber).where(Subscriber.id == subscriber_id))
    # Mails stay as anonymous rows (sending statistics); their content and address are removed.
    session.execute(
        update(OutboxMail)
        .where(func.lower(OutboxMail.recipient) == email)
        .values(
            recipient="",
            subject="",
            message=b"",
            last_error="",
            status=case((OutboxMail.status == OutboxStatus.QUEUED, OutboxStatus.SUPPRESSED), else_=OutboxMail.status),
        )
        .execution_options(synchronize_session=False)
    )
    session.execute(delete(BounceEvent).where(func.lower(BounceEvent.email) == email))
    ratelimit.forget(session, confirm_mail_key(email), stop_mail_key(email))
    if session.scalar(select(Suppression).where(Suppression.email == email)) is None:
        session.add(
            Suppression(email=email, reason=SuppressionReason.ERASURE, detail=f"erased by {editor}", created_at=now)
        )
    return email
