"""Helpers for issue and delivery tests (and the benchmark): subscribers in bulk, the demo issue."""

from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from services.demo import DEMO_DATA
from shared.clock import utcnow
from shared.models import NewsletterList, Subscriber, Subscription

DEMO_ISSUE = DEMO_DATA / "issue-demo.md"


def default_list(session: Session) -> NewsletterList:
    return session.scalar(select(NewsletterList).where(NewsletterList.slug == "nyhetsbrev"))


def add_subscribers(
    session: Session,
    count: int,
    *,
    list_id: int | None = None,
    prefix: str = "person",
    domain: str = "example.org",
    status: str = "active",
    start: int = 0,
) -> list[int]:
    """``count`` subscribers on the list (default: nyhetsbrev) with the given status; their subscription ids."""
    list_id = list_id or default_list(session).id
    now = utcnow()
    emails = [f"{prefix}{i}@{domain}" for i in range(start, start + count)]
    chunk = 5000
    for offset in range(0, count, chunk):
        part = emails[offset : offset + chunk]
        session.execute(
            insert(Subscriber),
            [
                {"email": e, "name": f"Person {start + offset + n}", "language": "sv", "created_at": now}
                for n, e in enumerate(part)
            ],
        )
    ids = (
        dict(session.execute(select(Subscriber.email, Subscriber.id).where(Subscriber.email.in_(emails[:1000]))).all())
        if count <= 1000
        else None
    )
    if ids is None:
        ids = dict(
            session.execute(
                select(Subscriber.email, Subscriber.id).where(Subscriber.email.like(f"{prefix}%@{domain}"))
            ).all()
        )
    rows = [
        {
            "list_id": list_id,
            "subscriber_id": ids[e],
            "status": status,
            "requested_at": now,
            "confirmed_at": now if status == "active" else None,
            "source_url": "test",
            "consent_text_version": "test",
            "consent_method": "import",
        }
        for e in emails
    ]
    for offset in range(0, len(rows), chunk):
        session.execute(insert(Subscription), rows[offset : offset + chunk])
    return (
        list(
            session.scalars(
                select(Subscription.id).join(Subscriber).where(Subscriber.email.in_(emails)).order_by(Subscription.id)
            )
        )
        if count <= 1000
        else []
    )
