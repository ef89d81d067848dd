"""Webhooks: another system gives an address and the events it wants; each event becomes a queued
delivery in the same transaction as what caused it, and the worker posts it, signed with HMAC-SHA256,
retrying with growing pauses.

A delivery's body is JSON ``{"id", "event", "created_at", "data"}``; the header
``Utskick-Signature: t=<unix time>,v1=<hex>`` signs ``f"{t}.{body}"`` with the webhook's secret, so the
receiver can check both who sent it and that it is fresh.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, time, timedelta
from typing import Any, cast

from flask_babel import gettext as _
from sqlalchemy import CursorResult, delete, func, select
from sqlalchemy.orm import Session

from shared.api import destinations
from shared.clock import utcnow
from shared.db import Database, is_postgres
from shared.i18n import LOCAL_ZONE
from shared.models import (
    AdminUser,
    Response,
    ResponseStatus,
    Webhook,
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEvent,
)

MAX_ATTEMPTS = 8  # with the pauses below, the last try is about a day after the first
TIMEOUT = destinations.TIMEOUT
BATCH = 20
RECENT_DELIVERIES = 20
# Posts a body to a URL with headers; returns the HTTP status (raises OSError when nobody answers).
Poster = Callable[[str, bytes, Mapping[str, str]], int]


class WebhookError(ValueError):
    """A webhook that cannot be made as asked; ``field`` names the field."""

    def __init__(self, message: str, field: str = ""):
        super().__init__(message)
        self.field = field


def create_webhook(
    session: Session,
    account: AdminUser,
    service: str,
    url: str,
    events: Iterable[str],
    response_count: int | None = None,
    *,
    rules: destinations.Rules,
    resolver: destinations.Resolver = destinations.resolve,
) -> Webhook:
    """A webhook for events of this service; ``secret`` is given out once, by the caller. The URL
    must pass ``destinations.check`` (https, public addresses) under ``rules``."""
    try:
        destinations.check(url, rules, resolver)
    except destinations.RefusedDestination as exc:
        raise WebhookError(str(exc), "url") from None
    wanted = set(events)
    known = {e.value for e in WebhookEvent if e.service == service}
    if not wanted or not wanted <= known:
        raise WebhookError(_("Välj bland: %(events)s.", events=", ".join(sorted(known))), "events")
    if WebhookEvent.SURVEY_RESPONSES_REACHED.value in wanted and not response_count:
        raise WebhookError(
            _("Ange vid hur många svar (response_count) för survey.responses_reached."), "response_count"
        )
    hook = Webhook(
        account_id=account.id,
        service=service,
        url=url.strip(),
        secret="whsec_" + secrets.token_urlsafe(32),
        events=sorted(wanted),
        response_count=response_count,
    )
    session.add(hook)
    session.flush()
    return hook


def webhooks_of(session: Session, account_id: int | None, service: str | None) -> list[Webhook]:
    """The account's webhooks in this service (everyone's when ``account_id`` is None, in both
    services when ``service`` is None)."""
    query = select(Webhook).order_by(Webhook.id)
    if service is not None:
        query = query.where(Webhook.service == service)
    if account_id is not None:
        query = query.where(Webhook.account_id == account_id)
    return list(session.scalars(query))


def set_disabled(hook: Webhook, disabled: bool) -> None:
    """A disabled webhook is told nothing new and its queued deliveries wait until it is enabled."""
    hook.disabled_at = (hook.disabled_at or utcnow()) if disabled else None


def recent_deliveries(session: Session, webhook_id: int) -> list[WebhookDelivery]:
    """The webhook's latest deliveries, newest first."""
    return list(
        session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.webhook_id == webhook_id)
            .order_by(WebhookDelivery.id.desc())
            .limit(RECENT_DELIVERIES)
        )
    )


def emit(
    session: Session,
    event: WebhookEvent,
    data: Mapping[str, Any],
    *,
    response_count: int | None = None,
    not_before: datetime | None = None,
) -> int:
    """Queue the event for every webhook that wants it (for survey.responses_reached, those whose
    count is ``response_count``); returns how many. Nothing is posted until the transaction commits,
    nor before ``not_before``."""
    query = select(Webhook).where(Webhook.service == event.service, Webhook.disabled_at.is_(None))
    if response_count is not None:
        query = query.where(Webhook.response_count == response_count)
    hooks = [h for h in session.scalars(query) if event.value in h.events]
    now = not_before or utcnow()
    for hook in hooks:
        delivery = WebhookDelivery(webhook_id=hook.id, event=event, payload="", created_at=now, due_at=now)
        session.add(delivery)
        session.flush()
        delivery.payload = json.dumps(
            {"id": delivery.id, "event": event.value, "created_at": now.isoformat(), "data": dict(data)},
            ensure_ascii=False,
        )
    return len(hooks)


def emit_response_count(session: Session, survey_id: int, *, anonymous: bool) -> int:
    """After a response is completed: tell the webhooks waiting for the survey's count just reached.
    Counts only when some webhook waits for a count at all (each completion would pay otherwise).

    An anonymous survey's completions are known only by the day (see ``responses.storage``), so its
    event waits for the next midnight, Swedish time: its moment would tell whose answer it was."""
    waiting = session.scalar(
        select(func.count()).where(
            Webhook.service == "survey", Webhook.response_count.is_not(None), Webhook.disabled_at.is_(None)
        )
    )
    if not waiting:
        return 0
    complete = session.scalar(
        select(func.count()).where(Response.survey_id == survey_id, Response.status == ResponseStatus.COMPLETE)
    )
    return emit(
        session,
        WebhookEvent.SURVEY_RESPONSES_REACHED,
        {"survey_id": survey_id, "complete_responses": complete},
        response_count=complete,
        not_before=_next_midnight() if anonymous else None,
    )


def _next_midnight() -> datetime:
    local = utcnow().astimezone(LOCAL_ZONE)
    return datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=LOCAL_ZONE).astimezone(UTC)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The ``Utskick-Signature`` header's value."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def _pause(attempts: int) -> timedelta:
    return timedelta(minutes=2 ** (attempts - 1))  # 1, 2, 4 … 128 minutes


def deliver_due(
    db: Database, rules: destinations.Rules, poster: Poster | None = None, now: datetime | None = None
) -> int:
    """Post what is due (a batch); returns how many were tried. Each URL is checked again under
    ``rules`` as it is posted to (``destinations.post``), unless a test gives its own ``poster``."""
    poster = poster or destinations.poster(rules)
    now = now or utcnow()
    with db.transaction() as session:
        query = (
            select(WebhookDelivery)
            .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
            .where(
                WebhookDelivery.status == WebhookDeliveryStatus.QUEUED,
                WebhookDelivery.due_at <= now,
                Webhook.disabled_at.is_(None),
            )
            .order_by(WebhookDelivery.id)
            .limit(BATCH)
        )
        if is_postgres(session):
            query = query.with_for_update(skip_locked=True, of=WebhookDelivery)
        due = list(session.scalars(query))
        for delivery in due:
            # Claimed for as long as a post may take: another worker skips it meanwhile.
            delivery.due_at = now + timedelta(seconds=TIMEOUT * 3)
        claimed = [(d.id, d.webhook_id, d.event.value, d.payload) for d in due]
    for delivery_id, webhook_id, event, payload in claimed:
        with db.sessions() as session:
            hook = session.get(Webhook, webhook_id)
            url, secret = (hook.url, hook.secret) if hook else ("", "")
        body = payload.encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Utskick-Webhook/1",
            "Utskick-Event": event,
            "Utskick-Delivery": str(delivery_id),
            "Utskick-Signature": signature(secret, int(now.timestamp()), body),
        }
        try:
            status, error = poster(url, body, headers), ""
        except destinations.RefusedDestination as exc:
            status, error = 0, f"Refused: {exc}"
        except OSError as exc:
            status, error = 0, type(exc).__name__
        with db.transaction() as session:
            tried = session.get(WebhookDelivery, delivery_id)
            if tried is None:  # the webhook was removed meanwhile
                continue
            tried.attempts += 1
            if 200 <= status < 300:
                tried.status, tried.sent_at, tried.last_error = WebhookDeliveryStatus.SENT, utcnow(), ""
            else:
                tried.last_error = error or f"HTTP {status}"
                if tried.attempts >= MAX_ATTEMPTS:
                    tried.status = WebhookDeliveryStatus.FAILED
                else:
                    tried.due_at = now + _pause(tried.attempts)
    return len(claimed)


def forget_delivered(session: Session, cutoff: datetime) -> int:
    """Housekeeping: deliveries done (sent or given up) before ``cutoff`` hold personal data only."""
    result = cast(
        CursorResult[Any],
        session.execute(
            delete(WebhookDelivery).where(
                WebhookDelivery.status != WebhookDeliveryStatus.QUEUED,
                func.coalesce(WebhookDelivery.sent_at, WebhookDelivery.created_at) < cutoff,
            )
        ),
    )
    return result.rowcount or 0
