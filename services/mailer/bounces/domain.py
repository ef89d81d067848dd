"""Bounces and the suppression list.

A hard bounce (the address does not exist: 5.1.x) suppresses the address at once; soft bounces
(mailbox full, temporarily unavailable) do when there are ``SOFT_BOUNCE_LIMIT`` within
``SOFT_BOUNCE_WINDOW``. Suppressed addresses get no more mail from either service: the outbox and
the issue pipeline both check the list just before sending.
"""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import Message

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from shared.api import webhooks
from shared.clock import utcnow
from shared.models import BounceEvent, BounceKind, BounceSource, Suppression, SuppressionReason, WebhookEvent

SOFT_BOUNCE_LIMIT = 3
SOFT_BOUNCE_WINDOW = timedelta(days=30)

_ENHANCED = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_UNKNOWN_USER = re.compile(
    r"user unknown|unknown user|no such user|does not exist|unknown recipient|recipient address rejected|"
    r"mailbox unavailable|no mailbox|invalid recipient|address rejected",
    re.I,
)


def classify(code: int | None, text: str) -> tuple[BounceKind | None, str]:
    """(hard, soft or None, enhanced status) for an SMTP answer or a DSN status.

    None means the failure says nothing about the address (policy, spam, relay trouble).
    """
    match = _ENHANCED.search(text or "")
    status = match.group(0) if match else ""
    if match:
        klass, subject, detail = match.group(1), match.group(2), match.group(3)
        if klass == "5" and subject == "1":
            return BounceKind.HARD, status  # 5.1.x: bad destination mailbox/system address
        if subject == "2" and detail in ("2", "1"):
            return BounceKind.SOFT, status  # mailbox full / disabled for now
        if klass == "4":
            return BounceKind.SOFT, status
        return None, status
    if code is not None and code >= 500 and _UNKNOWN_USER.search(text or ""):
        return BounceKind.HARD, status or str(code)
    if code is not None and 400 <= code < 500 and _UNKNOWN_USER.search(text or ""):
        return BounceKind.SOFT, status or str(code)
    return None, status


def suppress(
    session: Session, email_address: str, reason: SuppressionReason, detail: str = "", now: datetime | None = None
) -> bool:
    """Put an address on the suppression list; False when it already was."""
    address = email_address.strip().lower()
    if session.scalar(select(Suppression.id).where(Suppression.email == address)) is not None:
        return False
    with session.begin_nested():  # a concurrent insert of the same address must not fail the caller
        session.add(Suppression(email=address, reason=reason, detail=detail[:2000], created_at=now or utcnow()))
    return True


def record_bounce(
    session: Session,
    email_address: str,
    kind: BounceKind,
    *,
    source: BounceSource,
    status_code: str = "",
    detail: str = "",
    now: datetime | None = None,
) -> bool:
    """Keep a bounce and suppress the address when it is hard or soft ones pile up; True if suppressed now."""
    now = now or utcnow()
    address = email_address.strip().lower()
    session.add(
        BounceEvent(email=address, kind=kind, source=source, status_code=status_code[:16], detail=detail[:2000], at=now)
    )
    session.flush()
    suppressed = _suppress_if_due(session, address, kind, status_code, detail, now)
    webhooks.emit(
        session,
        WebhookEvent.BOUNCE,
        {"email": address, "kind": BounceKind(kind).value, "status_code": status_code, "suppressed": suppressed},
    )
    return suppressed


def _suppress_if_due(
    session: Session, address: str, kind: BounceKind, status_code: str, detail: str, now: datetime
) -> bool:
    if kind == BounceKind.HARD:
        return suppress(session, address, SuppressionReason.HARD_BOUNCE, f"{status_code} {detail}".strip(), now)
    recent = session.execute(
        select(func.count()).where(
            BounceEvent.email == address,
            BounceEvent.kind == BounceKind.SOFT,
            BounceEvent.at >= now - SOFT_BOUNCE_WINDOW,
        )
    ).scalar_one()
    if recent >= SOFT_BOUNCE_LIMIT:
        detail = f"{recent} soft bounces in 30 days; last: {status_code} {detail}".strip()
        return suppress(session, address, SuppressionReason.SOFT_BOUNCES, detail, now)
    return False


# -- delivery status notifications (RFC 3464) -----------------------------------------------------------


@dataclass(frozen=True)
class BounceReport:
    email: str
    kind: BounceKind
    status: str
    detail: str


def _address(value: str) -> str:
    # "rfc822; someone@example.org"
    value = (value or "").strip()
    if ";" in value:
        value = value.split(";", 1)[1]
    return value.strip().strip("<>").strip()


def parse_dsn(raw: bytes) -> list[BounceReport]:
    """The failed or delayed recipients of a DSN (multipart/report; report-type=delivery-status)."""
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    reports: list[BounceReport] = []
    for part in message.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        payload = part.get_payload()
        blocks: list[Message | str]
        if isinstance(payload, str):  # some parsers leave it as text: split the header blocks ourselves
            blocks = [email.message_from_string(b) for b in re.split(r"\r?\n\r?\n", payload.strip()) if b.strip()]
        elif isinstance(payload, list):
            blocks = payload
        else:  # a single message, not the list of header blocks a report has
            continue
        for block in blocks[1:] if len(blocks) > 1 else blocks:  # the first block is per-message
            if not isinstance(block, Message):
                continue
            recipient = _address(block.get("Final-Recipient") or block.get("Original-Recipient") or "")
            action = (block.get("Action") or "").strip().lower()
            status = (block.get("Status") or "").strip()
            diagnostic = " ".join((block.get("Diagnostic-Code") or "").split())
            if not recipient or action not in ("failed", "delayed"):
                continue
            kind, enhanced = classify(None, f"{status} {diagnostic}")
            if kind is None:
                if action == "failed" and status.startswith("5.1"):
                    kind = BounceKind.HARD
                elif action == "delayed" or status.startswith("4"):
                    kind = BounceKind.SOFT
                elif action == "failed" and status.startswith("5"):
                    # A permanent failure for another reason (policy, content): counts against the address softly.
                    kind = BounceKind.SOFT
            if kind is not None:
                reports.append(BounceReport(recipient, kind, status or enhanced, diagnostic))
    return reports


def process_dsn(
    session: Session, raw: bytes, *, source: BounceSource = BounceSource.DSN, now: datetime | None = None
) -> list[BounceReport]:
    """Record every bounce in one DSN; return what was found."""
    reports = parse_dsn(raw)
    for report in reports:
        record_bounce(
            session, report.email, report.kind, source=source, status_code=report.status, detail=report.detail, now=now
        )
    return reports


# -- the editors' suppression list ----------------------------------------------------------------------


def list_suppressions(
    session: Session, query: str = "", *, limit: int = 100, offset: int = 0
) -> tuple[list[Suppression], int]:
    """Suppressed addresses (newest first), filtered by a part of the address; and the total."""
    where = []
    if query.strip():
        where.append(Suppression.email.contains(query.strip().lower(), autoescape=True))
    total = session.scalar(select(func.count()).select_from(Suppression).where(*where)) or 0
    rows = session.scalars(
        select(Suppression)
        .where(*where)
        .order_by(Suppression.created_at.desc(), Suppression.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return list(rows), total


def suppressions_after(session: Session, after: int, limit: int, query: str = "") -> list[Suppression]:
    """Up to ``limit`` suppressions with an id above ``after`` (the API's cursor), in id order."""
    stmt = select(Suppression).where(Suppression.id > after)
    if query.strip():
        stmt = stmt.where(Suppression.email.contains(query.strip().lower(), autoescape=True))
    return list(session.scalars(stmt.order_by(Suppression.id).limit(limit)))


def find_suppression(session: Session, email_address: str) -> Suppression | None:
    return session.scalar(select(Suppression).where(Suppression.email == email_address.strip().lower()))


def lift_suppression(session: Session, suppression_id: int) -> str | None:
    """Take an address off the list (and forget its soft bounces); return the address, None if unknown."""
    row = session.get(Suppression, suppression_id)
    if row is None:
        return None
    address = row.email
    session.delete(row)
    session.execute(delete(BounceEvent).where(BounceEvent.email == address, BounceEvent.kind == BounceKind.SOFT))
    return address
