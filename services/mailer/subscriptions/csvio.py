"""CSV import and export of subscribers, as Swedish Excel and other tools write and read them."""

from __future__ import annotations

import csv
import json
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, TextIO, cast

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Table, and_, delete, exists, func, insert, literal, select, update
from sqlalchemy.orm import Session, selectinload

from services.mailer.subscriptions import domain
from shared.clock import utcnow
from shared.config import Config
from shared.db import is_postgres
from shared.i18n import language_or_default
from shared.models import (
    ConsentMethod,
    ImportRow,
    NewsletterList,
    Subscriber,
    Subscription,
    SubscriptionEvent,
    SubscriptionEventKind,
    SubscriptionStatus,
    Suppression,
    Vocabulary,
)
from shared.models.base import UTCDateTime
from shared.tokens import Tokens

EMAIL_HEADERS = {"email", "e-mail", "epost", "e-post", "e-postadress", "epostadress", "mail", "mejl", "adress"}
NAME_HEADERS = {"name", "namn", "fullständigt namn", "full name"}
EXPORT_COLUMNS = ("email", "name", "status", "requested_at", "confirmed_at", "unsubscribed_at")


BATCH = 5000  # rows staged per statement, and confirmation mails queued per transaction
REPORT_LIMIT = 1000  # problem lines listed per kind in a report (all are counted)
MAX_ATTRIBUTES = 50
INLINE_MAX_ROWS = 1000  # larger files are imported by the worker, as a job with a progress bar
INLINE_MAX_BYTES = 200 * 1024


class Outcome(StrEnum):
    """What became of a staged line (``import_rows.outcome``); skipped lines use ``SkipReason``."""

    IMPORTED = "imported"
    MERGED = "merged"  # a repeated address, merged into the line it first appeared on


class SkipReason(Vocabulary):
    """Why an imported row was left out although its address is valid."""

    SUPPRESSED = "suppressed", _l("spärrad (studsar, klagomål eller raderad)")
    # Already on the list, by the status of that subscription (those who stopped are never re-added).
    PENDING = SubscriptionStatus.PENDING.value, _l("finns redan, väntar på bekräftelse")
    ACTIVE = SubscriptionStatus.ACTIVE.value, _l("finns redan, aktiv")
    UNSUBSCRIBED = SubscriptionStatus.UNSUBSCRIBED.value, _l("finns redan, har avslutat (importeras inte igen)")


@dataclass
class Line:
    """One data line of the file: an address (or why it is invalid), a name and the other columns."""

    line: int
    email: str
    name: str
    attributes: dict[str, str]
    problem: str | None = None


@dataclass
class Problem:
    line: int
    value: str
    reason: str  # a SkipReason, an error message, or the line a duplicate was merged into


@dataclass
class CsvFile:
    """A subscriber CSV, decoded and its columns found; ``lines()`` reads it one line at a time."""

    text: str
    encoding: str
    dialect: Any = None
    error: str | None = None  # the file as a whole cannot be read

    def lines(self) -> Iterator[Line]:
        reader = csv.reader(_physical_lines(self.text), self.dialect)
        email_col, name_col, extra = 0, 1, {}  # without a header: e-mail, name, nothing else
        first = True
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue
            if first:
                first = False
                headers = [c.strip().lower() for c in cells]
                if any(h in EMAIL_HEADERS for h in headers):
                    email_col = next(i for i, h in enumerate(headers) if h in EMAIL_HEADERS)
                    name_col = next((i for i, h in enumerate(headers) if h in NAME_HEADERS), -1)
                    extra = {
                        i: _clean(cells[i], 100)
                        for i in range(len(cells))
                        if i not in (email_col, name_col) and _clean(cells[i], 100)
                    }
                    extra = dict(list(extra.items())[:MAX_ATTRIBUTES])
                    continue
            yield _line(reader.line_num, cells, email_col, name_col, extra)


def _line(number: int, cells: list[str], email_col: int, name_col: int, extra: dict[int, str]) -> Line:
    raw_email = cells[email_col].strip() if email_col < len(cells) else ""
    name = _clean(cells[name_col], 200) if 0 <= name_col < len(cells) else ""
    attributes = {key: value for i, key in extra.items() if i < len(cells) and (value := _clean(cells[i], 500))}
    try:
        return Line(number, domain.normalise_email(raw_email), name, attributes)
    except domain.InvalidAddress as exc:
        return Line(number, raw_email[:320], name, attributes, problem=str(exc))


def _clean(value: str, limit: int) -> str:
    # NUL and other control characters cannot be stored, nor go into a mail header.
    return "".join(ch for ch in value.strip() if ch.isprintable())[:limit]


def _physical_lines(text: str) -> Iterator[str]:
    """The text's lines one by one (csv joins quoted line breaks): no second copy of a large file."""
    start = 0
    while start < len(text):
        end = text.find("\n", start)
        end = len(text) if end < 0 else end + 1
        yield text[start:end]
        start = end


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


def read_subscriber_csv(data: bytes) -> CsvFile:
    """Decode (UTF-8 or Windows-1252) and find the dialect; ``error`` says if the file is unusable."""
    text, encoding = _decode(data)
    if not text.strip():
        return CsvFile("", encoding, error="empty")
    sample = text[:4096]
    found = CsvFile(text, encoding, _dialect(sample))
    first = next(csv.reader(_physical_lines(sample), found.dialect), [])
    headers = [c.strip().lower() for c in first]
    if not any(h in EMAIL_HEADERS for h in headers) and "@" not in (first[0] if first else ""):
        return CsvFile("", encoding, error="no_email_column")
    return found


def runs_as_job(data: bytes) -> bool:
    """Large files go to the worker; small ones are imported while the editor waits."""
    return len(data) > INLINE_MAX_BYTES or data.count(b"\n") > INLINE_MAX_ROWS


@dataclass
class ImportReport:
    """Counts of every outcome, and up to ``REPORT_LIMIT`` problem lines of each kind, by line."""

    imported: int = 0
    skipped_count: int = 0
    invalid_count: int = 0
    merged_count: int = 0
    skipped: list[Problem] = field(default_factory=list)  # reason: a SkipReason
    invalid: list[Problem] = field(default_factory=list)
    merged: list[Problem] = field(default_factory=list)

    def as_job_report(self) -> tuple[list[str], list[dict[str, Any]]]:
        """(summary lines, problem rows) for the job page."""
        summary = [
            _("Importerade: %(n)d", n=self.imported),
            _("Hoppades över: %(n)d", n=self.skipped_count),
            _("Dubbletter i filen (slogs ihop): %(n)d", n=self.merged_count),
            _("Ogiltiga rader: %(n)d", n=self.invalid_count),
        ]
        problems = [{"line": p.line, "value": p.value, "message": p.reason} for p in self.invalid]
        problems += [
            {"line": p.line, "value": p.value, "message": str(SkipReason(p.reason).label)} for p in self.skipped
        ]
        problems += [
            {"line": p.line, "value": p.value, "message": _("samma som rad %(line)s", line=p.reason)}
            for p in self.merged
        ]
        return summary, sorted(problems, key=lambda p: p["line"])


def _rows() -> Table:
    # The Core table: the set statements below update it by column, not by ORM objects.
    return cast(Table, ImportRow.__table__)


def stage(session: Session, import_id: str, csv_file: CsvFile) -> Iterator[int]:
    """Write the file's lines to ``import_rows`` in batches; yields the lines staged so far."""
    batch: list[dict[str, Any]] = []
    staged = 0
    for line in csv_file.lines():
        batch.append(
            {
                "import_id": import_id,
                "line": line.line,
                "email": line.email,
                "email_key": None if line.problem else line.email.lower(),
                "name": line.name,
                "attributes": line.attributes,
                "problem": line.problem,
            }
        )
        if len(batch) >= BATCH:
            _write(session, batch)
            staged += len(batch)
            batch = []
            yield staged
    if batch:
        _write(session, batch)
        yield staged + len(batch)


_COLUMNS = ("import_id", "line", "email", "email_key", "name", "attributes", "problem")


def _write(session: Session, batch: list[dict[str, Any]]) -> None:
    if not is_postgres(session):
        session.execute(insert(ImportRow), batch)
        return
    # COPY: several times faster than INSERT for a million lines.
    cursor = session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(f"COPY import_rows ({', '.join(_COLUMNS)}) FROM STDIN") as copy:
        for row in batch:
            copy.write_row([json.dumps(row[c]) if c == "attributes" else row[c] for c in _COLUMNS])


def apply(
    session: Session,
    import_id: str,
    newsletter_list: NewsletterList,
    *,
    consented: bool,
    editor: str,
    now: datetime,
) -> None:
    """Check the staged lines against the register and add the new ones to the list, in set statements."""
    rows = _rows()
    mine = and_(rows.c.import_id == import_id, rows.c.email_key.is_not(None))
    other = rows.alias("other")
    undecided = and_(mine, rows.c.outcome.is_(None))

    def update_rows(where, **values) -> None:
        session.execute(update(rows).where(where).values(**values))

    # Each statement joins (UPDATE … FROM, hash joins on PostgreSQL) rather than asking per line.
    # Repeated addresses: the first line is kept, with the first name any of its lines gives.
    firsts = (
        select(other.c.email_key, func.min(other.c.line).label("line"))
        .where(other.c.import_id == import_id, other.c.email_key.is_not(None))
        .group_by(other.c.email_key)
        .subquery()
    )
    update_rows(and_(mine, rows.c.email_key == firsts.c.email_key), first_line=firsts.c.line)
    update_rows(and_(mine, rows.c.line != rows.c.first_line), outcome=Outcome.MERGED)
    named_firsts = (
        select(other.c.email_key, func.min(other.c.line).label("line"))
        .where(other.c.import_id == import_id, other.c.email_key.is_not(None), other.c.name != "")
        .group_by(other.c.email_key)
        .subquery()
    )
    names = (
        select(other.c.email_key, other.c.name)
        .join(named_firsts, and_(other.c.email_key == named_firsts.c.email_key, other.c.line == named_firsts.c.line))
        .where(other.c.import_id == import_id)
        .subquery()
    )
    update_rows(and_(undecided, rows.c.name == "", rows.c.email_key == names.c.email_key), name=names.c.name)
    update_rows(
        and_(undecided, exists().where(Suppression.email == rows.c.email_key)), outcome=SkipReason.SUPPRESSED.value
    )
    # Already in the register (on this list or another), whatever the case of the address.
    update_rows(and_(undecided, func.lower(Subscriber.email) == rows.c.email_key), subscriber_id=Subscriber.id)
    update_rows(
        and_(
            undecided,
            Subscription.list_id == newsletter_list.id,
            Subscription.subscriber_id == rows.c.subscriber_id,
        ),
        outcome=Subscription.status,
    )
    # Someone in the register without a name gets the one in the file.
    session.execute(
        update(Subscriber)
        .where(
            Subscriber.name == "",
            rows.c.subscriber_id == Subscriber.id,
            rows.c.import_id == import_id,
            rows.c.outcome.is_(None),
            rows.c.name != "",
        )
        .values(name=rows.c.name)
    )
    new = and_(undecided, rows.c.subscriber_id.is_(None))
    language = language_or_default(newsletter_list.language)
    session.execute(
        insert(Subscriber).from_select(
            ["email", "name", "language", "attributes", "created_at"],
            select(rows.c.email, rows.c.name, literal(language), rows.c.attributes, literal(now, UTCDateTime()))
            .where(new)
            .order_by(rows.c.line),
        )
    )
    update_rows(and_(new, Subscriber.email == rows.c.email), subscriber_id=Subscriber.id)
    status = SubscriptionStatus.ACTIVE if consented else SubscriptionStatus.PENDING
    method = ConsentMethod.IMPORT if consented else ConsentMethod.DOUBLE_OPT_IN
    session.execute(
        insert(Subscription).from_select(
            [
                "list_id",
                "subscriber_id",
                "status",
                "requested_at",
                "confirmed_at",
                "source_url",
                "consent_text_version",
                "consent_method",
            ],
            select(
                literal(newsletter_list.id),
                rows.c.subscriber_id,
                literal(status.value),
                literal(now, UTCDateTime()),
                literal(now if consented else None, UTCDateTime()),
                literal(f"import ({editor})"[:500]),
                literal("" if consented else domain.CONSENT_TEXT_VERSION),
                literal(method.value),
            )
            .where(undecided)
            .order_by(rows.c.line),
        )
    )
    update_rows(undecided, outcome=Outcome.IMPORTED)
    detail = f"imported by {editor}" + (", consent already given" if consented else ", confirmation mailed")
    session.execute(
        insert(SubscriptionEvent).from_select(
            ["subscription_id", "kind", "detail", "at"],
            select(
                Subscription.id,
                literal(SubscriptionEventKind.IMPORTED.value),
                literal(detail),
                literal(now, UTCDateTime()),
            )
            .join(rows, rows.c.subscriber_id == Subscription.subscriber_id)
            .where(
                rows.c.import_id == import_id,
                rows.c.outcome == Outcome.IMPORTED,
                Subscription.list_id == newsletter_list.id,
            ),
        )
    )


def queue_confirmations(
    session: Session, config: Config, tokens: Tokens, import_id: str, list_id: int, *, after: int = 0
) -> tuple[int, int]:
    """Queue confirmation mails for up to ``BATCH`` imported lines after line ``after``.

    Returns (how many, the last line done; 0 when none were left). Call it until it returns 0 mails,
    committing between calls if you like: each batch is complete on its own.
    """
    rows = _rows()
    batch = session.execute(
        select(rows.c.line, Subscription.id)
        .join(Subscription, Subscription.subscriber_id == rows.c.subscriber_id)
        .where(
            rows.c.import_id == import_id,
            rows.c.outcome == Outcome.IMPORTED,
            rows.c.line > after,
            Subscription.list_id == list_id,
        )
        .order_by(rows.c.line)
        .limit(BATCH)
    ).all()
    if not batch:
        return 0, 0
    now = utcnow()
    subscriptions = session.scalars(
        select(Subscription)
        .where(Subscription.id.in_([subscription_id for _line, subscription_id in batch]))
        .options(selectinload(Subscription.subscriber))
    ).all()
    for subscription in subscriptions:
        domain.send_confirmation(session, config, tokens, subscription)
        domain.add_event(session, subscription, SubscriptionEventKind.CONFIRMATION_SENT, now=now)
    session.flush()
    session.expunge_all()  # memory stays flat however many batches follow
    return len(batch), batch[-1][0]


def report(session: Session, import_id: str) -> ImportReport:
    """Counts by outcome and the first ``REPORT_LIMIT`` problem lines of each kind."""
    rows = _rows()
    mine = rows.c.import_id == import_id
    found = ImportReport()
    for outcome, count in session.execute(
        select(rows.c.outcome, func.count()).where(mine, rows.c.problem.is_(None)).group_by(rows.c.outcome)
    ):
        if outcome == Outcome.IMPORTED:
            found.imported = count
        elif outcome == Outcome.MERGED:
            found.merged_count = count
        else:
            found.skipped_count += count
    found.invalid_count = session.scalar(select(func.count()).where(mine, rows.c.problem.is_not(None))) or 0

    def first(where, *columns):
        return session.execute(
            select(rows.c.line, *columns).where(mine, where).order_by(rows.c.line).limit(REPORT_LIMIT)
        )

    found.invalid = [
        Problem(line, email, problem)
        for line, email, problem in first(rows.c.problem.is_not(None), rows.c.email, rows.c.problem)
    ]
    found.merged = [
        Problem(line, email, str(first_line))
        for line, email, first_line in first(rows.c.outcome == Outcome.MERGED, rows.c.email, rows.c.first_line)
    ]
    skipped = rows.c.outcome.in_([reason.value for reason in SkipReason])
    found.skipped = [
        Problem(line, email, SkipReason(outcome))
        for line, email, outcome in first(skipped, rows.c.email, rows.c.outcome)
    ]
    return found


def forget(session: Session, import_id: str) -> None:
    """The staged lines are of no use once reported (and they hold addresses)."""
    session.execute(delete(ImportRow).where(ImportRow.import_id == import_id))


def import_subscribers(
    session: Session,
    config: Config,
    tokens: Tokens,
    newsletter_list: NewsletterList,
    csv_file: CsvFile,
    *,
    consented: bool,
    editor: str,
    now: datetime | None = None,
) -> ImportReport:
    """Add a file's subscribers to a list in the caller's transaction. With ``consented`` they become
    active at once (consent given elsewhere, recorded as method ``import`` with the editor);
    otherwise each gets a confirmation mail."""
    import_id = uuid.uuid4().hex
    for _staged in stage(session, import_id, csv_file):
        pass
    apply(session, import_id, newsletter_list, consented=consented, editor=editor, now=now or utcnow())
    after = 0
    while not consented:
        queued, after = queue_confirmations(session, config, tokens, import_id, newsletter_list.id, after=after)
        if not queued:
            break
    found = report(session, import_id)
    forget(session, import_id)
    return found


def export_rows(session: Session, list_id: int) -> Iterable[tuple]:
    """(email, name, status, requested_at, confirmed_at, unsubscribed_at) for every subscription of a list."""
    return session.execute(
        select(
            Subscriber.email,
            Subscriber.name,
            Subscription.status,
            Subscription.requested_at,
            Subscription.confirmed_at,
            Subscription.unsubscribed_at,
        )
        .join(Subscriber, Subscription.subscriber_id == Subscriber.id)
        .where(Subscription.list_id == list_id)
        .order_by(func.lower(Subscriber.email))
    )


def write_export(rows: Iterable[tuple], out: TextIO) -> int:
    """Write the export CSV (header row, ISO 8601 UTC times); returns the number of data rows."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(EXPORT_COLUMNS)
    n = 0
    for row in rows:
        writer.writerow([v.isoformat() if isinstance(v, datetime) else (v or "") for v in row])
        n += 1
    return n
