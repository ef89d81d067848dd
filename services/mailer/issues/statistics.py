"""What happened to an issue once sent, in numbers: delivered, deferred, failed, bounced, stopped
after it, hour by hour, and link clicks per link. Counts only: nothing here is about a person."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from services.mailer.issues.clicks import link_counts
from shared.db import is_postgres
from shared.models import (
    BounceEvent,
    Delivery,
    DeliveryStatus,
    Issue,
    SubscriptionEvent,
    SubscriptionEventKind,
)


@dataclass
class Hour:
    start: datetime  # UTC
    delivered: int = 0
    stopped: int = 0


@dataclass
class IssueStatistics:
    delivered: int
    deferred: int  # waiting for another try after a temporary failure
    failed: int
    bounced: int
    stopped: int  # subscriptions stopped after this issue reached them
    hours: list[Hour] = field(default_factory=list)
    links: list[tuple[str, int]] = field(default_factory=list)

    @property
    def busiest_hour(self) -> int:
        return max((max(h.delivered, h.stopped) for h in self.hours), default=0)


def _hour(session: Session, column: Any) -> ColumnElement[str]:
    """The hour a time falls in, as text the same on both databases ('2026-12-01 08')."""
    if is_postgres(session):
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD HH24")
    return func.strftime("%Y-%m-%d %H", column)


def _parse_hour(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H").replace(tzinfo=UTC)


def issue_statistics(session: Session, issue: Issue) -> IssueStatistics:
    """The issue's numbers: a GROUP BY per figure, never a row per person in Python."""
    statuses = dict(
        session.execute(
            select(Delivery.status, func.count()).where(Delivery.issue_id == issue.id).group_by(Delivery.status)
        ).all()
    )
    deferred = (
        session.scalar(
            select(func.count()).where(
                Delivery.issue_id == issue.id, Delivery.status == DeliveryStatus.QUEUED, Delivery.attempts > 0
            )
        )
        or 0
    )
    # A bounce for an address this issue went to, reported after the issue started.
    bounced = (
        session.scalar(
            select(func.count(func.distinct(BounceEvent.email))).where(
                BounceEvent.email.in_(select(Delivery.email).where(Delivery.issue_id == issue.id)),
                BounceEvent.at >= (issue.started_at or datetime.max.replace(tzinfo=UTC)),
            )
        )
        or 0
    )
    stop = and_(
        SubscriptionEvent.subscription_id == Delivery.subscription_id,
        SubscriptionEvent.kind == SubscriptionEventKind.UNSUBSCRIBED,
        SubscriptionEvent.at >= Delivery.sent_at,
    )
    stopped = (
        session.scalar(
            select(func.count(func.distinct(SubscriptionEvent.subscription_id)))
            .select_from(Delivery)
            .join(SubscriptionEvent, stop)
            .where(Delivery.issue_id == issue.id, Delivery.status == DeliveryStatus.SENT)
        )
        or 0
    )
    hours: dict[str, Hour] = {}
    delivered_hour = _hour(session, Delivery.sent_at)
    for bucket, n in session.execute(
        select(delivered_hour, func.count())
        .where(Delivery.issue_id == issue.id, Delivery.status == DeliveryStatus.SENT)
        .group_by(delivered_hour)
    ):
        hours.setdefault(bucket, Hour(_parse_hour(bucket))).delivered = n
    stopped_hour = _hour(session, SubscriptionEvent.at)
    for bucket, n in session.execute(
        select(stopped_hour, func.count(func.distinct(SubscriptionEvent.subscription_id)))
        .select_from(Delivery)
        .join(SubscriptionEvent, stop)
        .where(Delivery.issue_id == issue.id, Delivery.status == DeliveryStatus.SENT)
        .group_by(stopped_hour)
    ):
        hours.setdefault(bucket, Hour(_parse_hour(bucket))).stopped = n
    return IssueStatistics(
        delivered=statuses.get(DeliveryStatus.SENT, 0),
        deferred=deferred,
        failed=statuses.get(DeliveryStatus.FAILED, 0),
        bounced=bounced,
        stopped=stopped,
        hours=_fill_gaps(sorted(hours.values(), key=lambda h: h.start)),
        links=link_counts(session, issue.id),
    )


MAX_HOURS = 24 * 14  # the chart shows at most two weeks, hour by hour


def _fill_gaps(hours: list[Hour]) -> list[Hour]:
    """Hours without events shown as zero, so the chart's time axis is even."""
    if not hours:
        return []
    filled: list[Hour] = []
    known = {h.start: h for h in hours}
    moment = hours[0].start
    while moment <= hours[-1].start and len(filled) < MAX_HOURS:
        filled.append(known.get(moment) or Hour(moment))
        moment += timedelta(hours=1)
    return filled
