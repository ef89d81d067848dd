"""The subscriber register as editors see it: counts, search, one person's record."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Row, func, or_, select, text
from sqlalchemy.orm import Session, selectinload

from shared.db import is_postgres
from shared.i18n import language_or_default
from shared.models import NewsletterList, OutboxMail, Subscriber, Subscription, SubscriptionStatus, Suppression

PER_PAGE = 50


def status_counts(session: Session, list_id: int | None = None) -> dict[SubscriptionStatus, int]:
    """Subscriptions per status (every status present, zero when none), counted by the database."""
    query = select(Subscription.status, func.count()).group_by(Subscription.status)
    if list_id is not None:
        query = query.where(Subscription.list_id == list_id)
    counts = dict.fromkeys(SubscriptionStatus, 0)
    # A list of pairs: a Result itself has keys(), and update() would take it for a mapping.
    counts.update(session.execute(query).all())
    return counts


def counts_per_list(session: Session) -> list[tuple[NewsletterList, dict[SubscriptionStatus, int]]]:
    """Each list with its subscriptions per status, in one GROUP BY."""
    rows = session.execute(
        select(Subscription.list_id, Subscription.status, func.count()).group_by(
            Subscription.list_id, Subscription.status
        )
    ).all()
    by_list: dict[int, dict[SubscriptionStatus, int]] = {}
    for list_id, status, n in rows:
        by_list.setdefault(list_id, dict.fromkeys(SubscriptionStatus, 0))[status] = n
    lists = session.scalars(select(NewsletterList).order_by(NewsletterList.name))
    return [(lst, by_list.get(lst.id, dict.fromkeys(SubscriptionStatus, 0))) for lst in lists]


@dataclass
class SearchPage:
    rows: Sequence[Row[Subscription, Subscriber, NewsletterList]]
    total: int
    page: int
    pages: int


def search_subscriptions(
    session: Session,
    *,
    query: str = "",
    status: SubscriptionStatus | None = None,
    list_id: int | None = None,
    page: int = 1,
    per_page: int = PER_PAGE,
) -> SearchPage:
    """One page of subscriptions, newest request first, filtered by e-mail/name text, status and list."""
    stmt = (
        select(Subscription, Subscriber, NewsletterList)
        .join(Subscriber, Subscription.subscriber_id == Subscriber.id)
        .join(NewsletterList, Subscription.list_id == NewsletterList.id)
    )
    text = (query or "").strip().lower()
    if text:
        stmt = stmt.where(
            or_(
                func.lower(Subscriber.email).contains(text, autoescape=True),
                func.lower(Subscriber.name).contains(text, autoescape=True),
            )
        )
    if status is not None:
        stmt = stmt.where(Subscription.status == status)
    if list_id is not None:
        stmt = stmt.where(Subscription.list_id == list_id)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    rows = session.execute(
        stmt.order_by(Subscription.requested_at.desc(), Subscription.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return SearchPage(rows=rows, total=total, page=page, pages=pages)


@dataclass
class PersonRecord:
    subscriber: Subscriber
    subscriptions: list[Subscription]
    mails: list[OutboxMail]
    suppression: Suppression | None


def person_record(session: Session, subscriber_id: int) -> PersonRecord | None:
    """Everything the register holds on one person: subscriptions with consent and history, mails, suppression."""
    subscriber = session.get(Subscriber, subscriber_id)
    if subscriber is None:
        return None
    subscriptions = list(
        session.scalars(
            select(Subscription).where(Subscription.subscriber_id == subscriber_id).order_by(Subscription.id)
        )
    )
    mails = list(
        session.scalars(
            select(OutboxMail)
            .where(func.lower(OutboxMail.recipient) == subscriber.email.lower())
            .order_by(OutboxMail.created_at.desc(), OutboxMail.id.desc())
        )
    )
    suppression = session.scalar(select(Suppression).where(Suppression.email == subscriber.email.lower()))
    return PersonRecord(subscriber, subscriptions, mails, suppression)


MAX_ATTRIBUTE_KEY = 100
MAX_ATTRIBUTE_VALUE = 500


def set_attributes(session: Session, subscriber: Subscriber, pairs: Sequence[tuple[str, str]]) -> dict[str, str]:
    """Replace a person's attributes (organisation, municipality, role, …) with the given pairs; a
    pair without a name or value is dropped, and a name given twice keeps its last value."""
    attributes: dict[str, str] = {}
    for key, value in pairs:
        key = " ".join((key or "").split())[:MAX_ATTRIBUTE_KEY]
        value = " ".join((value or "").split())[:MAX_ATTRIBUTE_VALUE]
        if key and value:
            attributes[key] = value
    subscriber.attributes = attributes
    session.flush()
    return attributes


def attribute_keys(session: Session) -> list[str]:
    """The attribute names subscribers have (offered as choices in the segment form), found by the
    database: each dialect has its own way to list a JSON object's keys."""
    if is_postgres(session):
        statement = text("SELECT DISTINCT json_object_keys(attributes) AS key FROM subscribers ORDER BY key")
    else:
        statement = text(
            "SELECT DISTINCT j.key FROM subscribers, json_each(subscribers.attributes) AS j ORDER BY j.key"
        )
    return list(session.scalars(statement))


def subscribers_after(
    session: Session,
    *,
    after: int,
    limit: int,
    query: str = "",
    status: SubscriptionStatus | None = None,
    list_id: int | None = None,
) -> list[Subscriber]:
    """Up to ``limit`` subscribers with an id above ``after`` (the API's cursor), in id order, matching
    a part of the address or name, and with a subscription of this status (on this list) if asked."""
    stmt = select(Subscriber).where(Subscriber.id > after)
    text = (query or "").strip().lower()
    if text:
        stmt = stmt.where(
            or_(
                func.lower(Subscriber.email).contains(text, autoescape=True),
                func.lower(Subscriber.name).contains(text, autoescape=True),
            )
        )
    if status is not None or list_id is not None:
        having = select(Subscription.id).where(Subscription.subscriber_id == Subscriber.id)
        if status is not None:
            having = having.where(Subscription.status == status)
        if list_id is not None:
            having = having.where(Subscription.list_id == list_id)
        stmt = stmt.where(having.exists())
    # Their subscriptions in one more query, not one per person.
    return list(
        session.scalars(stmt.order_by(Subscriber.id).limit(limit).options(selectinload(Subscriber.subscriptions)))
    )


def update_subscriber(subscriber: Subscriber, *, name: str | None = None, language: str | None = None) -> None:
    """Change what the person is called in mails, or the language they get them in; None keeps it."""
    if name is not None:
        subscriber.name = name.strip()[:200]
    if language is not None:
        subscriber.language = language_or_default(language)
