"""Who gets an issue: the active, not suppressed subscribers of one or several lists (each person
once), or of a segment (lists narrowed by conditions). Everything is one SQL statement; the same
statement counts (the send confirmation) and fans out (``issues.domain.fan_out``).

A condition is ``{"field": …, "op": …, "value": …}``:

- ``confirmed`` with ``after`` / ``before`` and a date ``ÅÅÅÅ-MM-DD``: when the subscription was confirmed;
- ``domain`` with ``equals``: the address's domain (``kommun.se`` matches ``a@kommun.se``);
- ``attribute:KEY`` with ``equals`` / ``not_equals`` / ``contains`` / ``empty``: a subscriber attribute.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, delete, exists, func, literal, select, true
from sqlalchemy.orm import Session

from shared.clock import utcnow
from shared.i18n import LOCAL_ZONE
from shared.models import (
    Issue,
    IssueList,
    NewsletterList,
    Segment,
    Subscriber,
    Subscription,
    SubscriptionStatus,
    Suppression,
)

OPERATORS = {
    "confirmed": {"after": _l("efter"), "before": _l("före")},
    "domain": {"equals": _l("är")},
    "attribute": {
        "equals": _l("är"),
        "not_equals": _l("är inte"),
        "contains": _l("innehåller"),
        "empty": _l("saknas"),
    },
}
FIELD_LABELS = {"confirmed": _l("Bekräftad"), "domain": _l("Adressens domän")}
MAX_CONDITIONS = 10


class SegmentError(ValueError):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


def _kind(field: str) -> str:
    return "attribute" if field.startswith("attribute:") else field


def check_conditions(raw: list[dict[str, Any]]) -> list[dict[str, str]]:
    """The conditions cleaned; a ``SegmentError`` names the first one that cannot be used."""
    cleaned: list[dict[str, str]] = []
    for n, condition in enumerate(raw, start=1):
        field = str(condition.get("field") or "").strip()
        op = str(condition.get("op") or "").strip()
        value = str(condition.get("value") or "").strip()
        if not field:
            continue
        kind = _kind(field)
        if kind not in OPERATORS or (kind == "attribute" and not field.partition(":")[2].strip()):
            raise SegmentError(_("Villkor %(n)s: okänt fält.", n=n), f"condition-{n}")
        if op not in OPERATORS[kind]:
            raise SegmentError(_("Villkor %(n)s: välj ett villkor som passar fältet.", n=n), f"condition-{n}")
        if kind == "confirmed":
            try:
                date.fromisoformat(value)
            except ValueError:
                raise SegmentError(_("Villkor %(n)s: skriv datumet som ÅÅÅÅ-MM-DD.", n=n), f"condition-{n}") from None
        elif op != "empty" and not value:
            raise SegmentError(_("Villkor %(n)s: skriv ett värde.", n=n), f"condition-{n}")
        cleaned.append({"field": field, "op": op, "value": value[:200]})
    if len(cleaned) > MAX_CONDITIONS:
        raise SegmentError(_("Högst %(n)s villkor.", n=MAX_CONDITIONS))
    return cleaned


def _local_midnight(value: str) -> datetime:
    return datetime.combine(date.fromisoformat(value), time(), LOCAL_ZONE).astimezone(UTC)


def _condition(condition: dict[str, str]) -> ColumnElement[bool]:
    field, op, value = condition["field"], condition["op"], condition["value"]
    kind = _kind(field)
    if kind == "confirmed":
        moment = _local_midnight(value)
        # "after 2026-05-01" includes that day; "before" does not.
        return Subscription.confirmed_at >= moment if op == "after" else Subscription.confirmed_at < moment
    if kind == "domain":
        return func.lower(Subscriber.email).like("%@" + value.lower().lstrip("@"), escape="\\")
    return _attribute_condition(field.partition(":")[2].strip(), op, value)


def _attribute_condition(key: str, op: str, value: str) -> ColumnElement[bool]:
    attribute = func.coalesce(Subscriber.attributes[key].as_string(), "")
    if op == "equals":
        return func.lower(attribute) == value.lower()
    if op == "not_equals":
        return func.lower(attribute) != value.lower()
    if op == "contains":
        escaped = value.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return func.lower(attribute).like(f"%{escaped}%", escape="\\")
    return attribute == ""


def audience(list_ids: list[int], conditions: list[dict[str, str]] | None = None) -> Select[int, str]:
    """(subscription id, email) of everyone who would get a mail: active on one of the lists, not
    suppressed, matching every condition; one row per person (their first matching subscription)."""
    matching = (
        Subscription.list_id.in_(list_ids),
        Subscription.status == SubscriptionStatus.ACTIVE,
        ~exists().where(Suppression.email == func.lower(Subscriber.email)),
        *(_condition(c) for c in conditions or []),
    )
    if len(set(list_ids)) == 1:
        # One subscription per person and list: each person once already, without grouping 100 000 rows.
        return (
            select(Subscription.id.label("subscription_id"), Subscriber.email)
            .join(Subscriber, Subscriber.id == Subscription.subscriber_id)
            .where(*matching)
        )
    return (
        select(func.min(Subscription.id).label("subscription_id"), Subscriber.email)
        .join(Subscriber, Subscriber.id == Subscription.subscriber_id)
        .where(*matching)
        .group_by(Subscriber.id, Subscriber.email)
    )


def count(session: Session, list_ids: list[int], conditions: list[dict[str, str]] | None = None) -> int:
    """How many people the lists and conditions reach right now."""
    return session.scalar(select(func.count()).select_from(audience(list_ids, conditions).subquery())) or 0


# -- an issue's audience ------------------------------------------------------------------------------


def issue_list_ids(session: Session, issue: Issue) -> list[int]:
    """The lists an issue goes to: its chosen lists, else the list it belongs to."""
    chosen = list(session.scalars(select(IssueList.list_id).where(IssueList.issue_id == issue.id)))
    return chosen or [issue.list_id]


def issue_audience(session: Session, issue: Issue) -> Select[int, str]:
    """The (subscription id, email) rows of the issue's recipients."""
    segment = session.get(Segment, issue.segment_id) if issue.segment_id else None
    if segment is not None:
        return audience(segment.list_ids or _all_list_ids(session), segment.conditions)
    return audience(issue_list_ids(session, issue))


def _all_list_ids(session: Session) -> list[int]:
    return list(session.scalars(select(NewsletterList.id).where(NewsletterList.archived_at.is_(None))))


def issue_count(session: Session, issue: Issue) -> int:
    return session.scalar(select(func.count()).select_from(issue_audience(session, issue).subquery())) or 0


def set_issue_audience(
    session: Session, issue: Issue, *, list_ids: list[int] | None = None, segment_id: int | None = None
) -> None:
    """Send the issue to these lists (each person once) or to a segment (instead of its own list)."""
    session.execute(delete(IssueList).where(IssueList.issue_id == issue.id))
    issue.segment_id = segment_id
    for list_id in sorted(set(list_ids or [])):
        session.add(IssueList(issue_id=issue.id, list_id=list_id))
    session.flush()


def audience_label(session: Session, issue: Issue) -> str:
    """Who the issue goes to, in words (the issue page and the send confirmation)."""
    segment = session.get(Segment, issue.segment_id) if issue.segment_id else None
    if segment is not None:
        return _("segmentet %(name)s", name=segment.name)
    names = session.scalars(
        select(NewsletterList.name)
        .where(NewsletterList.id.in_(issue_list_ids(session, issue)))
        .order_by(NewsletterList.name)
    )
    return _(" och ").join(names)


# -- saved segments ------------------------------------------------------------------------------------


def all_segments(session: Session) -> list[Segment]:
    return list(session.scalars(select(Segment).order_by(Segment.name)))


def find_segment(session: Session, name: str) -> Segment | None:
    return session.scalar(select(Segment).where(Segment.name == name))


def save_segment(
    session: Session,
    *,
    name: str,
    list_ids: list[int],
    conditions: list[dict[str, Any]],
    current: Segment | None = None,
) -> Segment:
    """Create or change a segment."""
    name = " ".join((name or "").split())
    if not name or len(name) > 100:
        raise SegmentError(_("Skriv ett namn (högst 100 tecken)."), "name")
    other = find_segment(session, name)
    if other is not None and (current is None or other.id != current.id):
        raise SegmentError(_("Det finns redan ett segment som heter %(name)s.", name=name), "name")
    known = set(session.scalars(select(NewsletterList.id)))
    if not list_ids or not set(list_ids) <= known:
        raise SegmentError(_("Välj minst en lista."), "lists")
    segment = current or Segment()
    segment.name = name
    segment.list_ids = sorted(set(list_ids))
    segment.conditions = check_conditions(conditions)
    segment.updated_at = utcnow()
    if current is None:
        session.add(segment)
    session.flush()
    return segment


def fan_out_rows(session: Session, issue: Issue, when: Any, queued: Any) -> Select[Any]:
    """The issue's audience as delivery rows for ``INSERT … SELECT``."""
    recipients = issue_audience(session, issue).subquery()
    # SQLite reads "… FROM (subquery) ON CONFLICT" as a join: a WHERE ends the SELECT unambiguously.
    return select(
        literal(issue.id),
        recipients.c.subscription_id,
        recipients.c.email,
        queued,
        literal(0),
        when,
        when,
        literal(""),
    ).where(true())
