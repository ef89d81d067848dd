"""CSV import and export of subscribers, as Swedish Excel and other tools write and read them."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TextIO

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.mailer.subscriptions import domain
from shared.clock import utcnow
from shared.config import Config
from shared.i18n import language_or_default
from shared.models import (
    ConsentMethod,
    NewsletterList,
    Subscriber,
    Subscription,
    SubscriptionEventKind,
    SubscriptionStatus,
    Suppression,
    Vocabulary,
)
from shared.tokens import Tokens

EMAIL_HEADERS = {"email", "e-mail", "epost", "e-post", "e-postadress", "epostadress", "mail", "mejl", "adress"}
NAME_HEADERS = {"name", "namn", "fullständigt namn", "full name"}
EXPORT_COLUMNS = ("email", "name", "status", "requested_at", "confirmed_at", "unsubscribed_at")
CHUNK = 500  # IN (…) lists stay well below every backend's parameter limit


@dataclass
class Row:
    line: int
    email: str
    name: str


class SkipReason(Vocabulary):
    """Why an imported row was left out although its address is valid."""

    SUPPRESSED = "suppressed", _l("spärrad (studsar, klagomål eller raderad)")
    # Already on the list, by the status of that subscription (those who stopped are never re-added).
    PENDING = SubscriptionStatus.PENDING.value, _l("finns redan, väntar på bekräftelse")
    ACTIVE = SubscriptionStatus.ACTIVE.value, _l("finns redan, aktiv")
    UNSUBSCRIBED = SubscriptionStatus.UNSUBSCRIBED.value, _l("finns redan, har avslutat (importeras inte igen)")


@dataclass
class Problem:
    line: int
    value: str
    reason: str  # a SkipReason, an error message, or the line a duplicate was merged into


@dataclass
class ParsedFile:
    """Rows ready to import, plus what was wrong with the others (by line number)."""

    rows: list[Row] = field(default_factory=list)
    invalid: list[Problem] = field(default_factory=list)
    merged: list[Problem] = field(default_factory=list)  # repeated addresses, merged into the first
    encoding: str = "utf-8"
    error: str | None = None  # the file as a whole could not be read


def _decode(data: bytes) -> tuple[str, str]:
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        # Older Swedish Excel saves "CSV (semikolonavgränsad)" as Windows-1252.
        return data.decode("cp1252", errors="replace"), "windows-1252"


def _dialect(sample: str):
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        first = sample.splitlines()[0] if sample else ""

        class Guess(csv.excel):
            delimiter = ";" if first.count(";") > first.count(",") else ","

        return Guess


def parse_subscriber_csv(data: bytes) -> ParsedFile:
    """Read e-mail and name columns (header names in English or Swedish, any case); comma or semicolon."""
    text, encoding = _decode(data)
    parsed = ParsedFile(encoding=encoding)
    if not text.strip():
        parsed.error = "empty"
        return parsed
    reader = csv.reader(io.StringIO(text, newline=""), _dialect(text[:4096]))
    email_col = 0
    name_col: int | None = 1  # None: a header without a name column
    seen: dict[str, Row] = {}
    first = True
    for cells in reader:
        line = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        if first:
            first = False
            headers = [c.strip().lower() for c in cells]
            if any(h in EMAIL_HEADERS for h in headers):
                email_col = next(i for i, h in enumerate(headers) if h in EMAIL_HEADERS)
                name_col = next((i for i, h in enumerate(headers) if h in NAME_HEADERS), None)
                continue
            if "@" not in cells[0]:
                parsed.error = "no_email_column"
                return parsed
        raw_email = cells[email_col].strip() if email_col < len(cells) else ""
        name = cells[name_col].strip()[:200] if name_col is not None and name_col < len(cells) else ""
        name = "".join(ch for ch in name if ch.isprintable())  # NUL and friends cannot be stored
        try:
            email = domain.normalise_email(raw_email)
        except domain.InvalidAddress as exc:
            parsed.invalid.append(Problem(line, raw_email, str(exc)))
            continue
        earlier = seen.get(email.lower())
        if earlier is not None:
            if not earlier.name and name:
                earlier.name = name
            parsed.merged.append(Problem(line, email, str(earlier.line)))
            continue
        row = Row(line, email, name)
        seen[email.lower()] = row
        parsed.rows.append(row)
    return parsed


@dataclass
class ImportReport:
    imported: list[Row] = field(default_factory=list)
    skipped: list[Problem] = field(default_factory=list)  # reason: a SkipReason
    invalid: list[Problem] = field(default_factory=list)
    merged: list[Problem] = field(default_factory=list)


def _chunks(values: list) -> Iterable[list]:
    for i in range(0, len(values), CHUNK):
        yield values[i : i + CHUNK]


def import_subscribers(
    session: Session,
    config: Config,
    tokens: Tokens,
    newsletter_list: NewsletterList,
    parsed: ParsedFile,
    *,
    consented: bool,
    editor: str,
    now: datetime | None = None,
) -> ImportReport:
    """Add the parsed rows to a list. With ``consented`` they become active at once (consent given
    elsewhere, recorded as method ``import`` with the editor); otherwise each gets a confirmation mail."""
    now = now or utcnow()
    report = ImportReport(invalid=list(parsed.invalid), merged=list(parsed.merged))
    keys = [r.email.lower() for r in parsed.rows]
    subscribers: dict[str, Subscriber] = {}
    suppressed: set[str] = set()
    on_list: dict[int, SubscriptionStatus] = {}
    for chunk in _chunks(keys):
        for s in session.scalars(select(Subscriber).where(func.lower(Subscriber.email).in_(chunk))):
            subscribers[s.email.lower()] = s
        suppressed.update(session.scalars(select(Suppression.email).where(Suppression.email.in_(chunk))))
    for chunk in _chunks([s.id for s in subscribers.values()]):
        on_list.update(
            session.execute(
                select(Subscription.subscriber_id, Subscription.status).where(
                    Subscription.list_id == newsletter_list.id, Subscription.subscriber_id.in_(chunk)
                )
            ).all()
        )

    new: list[Subscription] = []
    for row in parsed.rows:
        key = row.email.lower()
        if key in suppressed:
            report.skipped.append(Problem(row.line, row.email, SkipReason.SUPPRESSED))
            continue
        subscriber = subscribers.get(key)
        if subscriber is not None and subscriber.id in on_list:
            report.skipped.append(Problem(row.line, row.email, SkipReason(on_list[subscriber.id])))
            continue
        if subscriber is None:
            subscriber = Subscriber(
                email=row.email, name=row.name, language=language_or_default(newsletter_list.language), created_at=now
            )
            session.add(subscriber)
            subscribers[key] = subscriber
        elif row.name and not subscriber.name:
            subscriber.name = row.name
        subscription = Subscription(
            newsletter_list=newsletter_list,
            subscriber=subscriber,
            status=SubscriptionStatus.ACTIVE if consented else SubscriptionStatus.PENDING,
            requested_at=now,
            confirmed_at=now if consented else None,
            source_url=f"import ({editor})"[:500],
            consent_text_version="" if consented else domain.CONSENT_TEXT_VERSION,
            consent_method=ConsentMethod.IMPORT if consented else ConsentMethod.DOUBLE_OPT_IN,
        )
        session.add(subscription)
        new.append(subscription)
        report.imported.append(row)
    session.flush()
    detail = f"imported by {editor}" + (", consent already given" if consented else ", confirmation mailed")
    for subscription in new:
        domain.add_event(session, subscription, SubscriptionEventKind.IMPORTED, detail=detail, now=now)
        if not consented:
            domain.send_confirmation(session, config, tokens, subscription)
            domain.add_event(session, subscription, SubscriptionEventKind.CONFIRMATION_SENT, now=now)
    return report


def export_rows(session: Session, list_id: int) -> Iterable[tuple]:
    """(email, name, status, requested_at, confirmed_at, unsubscribed_at, attributes) for every
    subscription of a list."""
    return session.execute(
        select(
            Subscriber.email,
            Subscriber.name,
            Subscription.status,
            Subscription.requested_at,
            Subscription.confirmed_at,
            Subscription.unsubscribed_at,
            Subscriber.attributes,
        )
        .join(Subscriber, Subscription.subscriber_id == Subscriber.id)
        .where(Subscription.list_id == list_id)
        .order_by(func.lower(Subscriber.email))
    )


def write_export(rows: Iterable[tuple], out: TextIO, attribute_keys: list[str] | tuple[str, ...] = ()) -> int:
    """Write the export CSV (header row, ISO 8601 UTC times, a column per attribute after the fixed
    ones); returns the number of data rows."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([*EXPORT_COLUMNS, *attribute_keys])
    n = 0
    for *fixed, attributes in rows:
        attributes = attributes or {}
        writer.writerow(
            [v.isoformat() if isinstance(v, datetime) else (v or "") for v in fixed]
            + [attributes.get(key, "") for key in attribute_keys]
        )
        n += 1
    return n
