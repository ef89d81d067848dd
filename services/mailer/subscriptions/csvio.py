"""CSV import and export of subscribers, as Swedish Excel and other tools write and read them."""

from __future__ import annotations

import csv
import json
import re
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TextIO, cast

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Table, and_, case, delete, exists, func, insert, literal, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
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
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error:  # a field over csv's size limit, a stray quote or NUL: that line only
                yield Line(reader.line_num, "", "", {}, problem=_("Raden kunde inte läsas som CSV."))
                continue
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


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n|$)")


def _physical_lines(text: str) -> Iterator[str]:
    """The text's lines one by one, whatever their ends (csv joins quoted line breaks): no second
    copy of a large file."""
    for match in _LINE.finditer(text):
        if match.group():
            yield match.group()


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
    try:
        first = next(csv.reader(_physical_lines(sample), found.dialect), [])
    except csv.Error:
        first = []
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


@dataclass(frozen=True)
class Staged:
    """A staged import: its lines' key, the list, and what marks the subscriptions it adds."""

    import_id: str
    list_id: int
    source: str  # subscriptions.source_url of every subscription this import adds
    now: datetime  # and their requested_at

    @classmethod
    def for_editor(cls, import_id: str, list_id: int, editor: str, now: datetime) -> Staged:
        return cls(import_id, list_id, f"import ({editor})"[:500], now)

    def added(self):
        """The condition on ``Subscription`` for the subscriptions this import added."""
        return and_(
            Subscription.list_id == self.list_id,
            Subscription.requested_at == self.now,
            Subscription.source_url == self.source,
        )


def _conditions(import_id: str):
    """(valid lines, first lines of each address, not suppressed) over ``import_rows``."""
    rows = _rows()
    other = rows.alias("other")
    valid = and_(rows.c.import_id == import_id, rows.c.email_key.is_not(None))
    first = and_(
        valid,
        ~exists().where(
            other.c.import_id == import_id, other.c.email_key == rows.c.email_key, other.c.line < rows.c.line
        ),
    )
    allowed = ~exists().where(Suppression.email == rows.c.email_key)
    return valid, first, allowed


def apply(session: Session, staged: Staged, newsletter_list: NewsletterList, *, consented: bool) -> None:
    """Add the staged file's new people to the list, in set statements (each a join over the file).

    Nothing is written to the staged lines: what became of each is worked out afterwards
    (``report``), from the register and the subscriptions this import added.
    """
    if is_postgres(session):
        # Fresh statistics: planned for an empty table, the joins below would loop line by line.
        session.execute(text("ANALYZE import_rows, subscribers, subscriptions"))
    rows = _rows()
    other = rows.alias("other")
    _valid, first, allowed = _conditions(staged.import_id)
    # The first name any line of the address gives (the first line's own, mostly).
    name = func.coalesce(
        func.nullif(rows.c.name, ""),
        select(other.c.name)
        .where(other.c.import_id == staged.import_id, other.c.email_key == rows.c.email_key, other.c.name != "")
        .order_by(other.c.line)
        .limit(1)
        .scalar_subquery(),
        "",
    )
    # Someone in the register without a name gets the one in the file.
    session.execute(
        update(Subscriber)
        .where(Subscriber.name == "", func.lower(Subscriber.email) == rows.c.email_key, first, allowed)
        .values(name=name)
    )
    in_register = exists().where(func.lower(Subscriber.email) == rows.c.email_key)
    language = language_or_default(newsletter_list.language)
    now = literal(staged.now, UTCDateTime())
    session.execute(
        insert(Subscriber).from_select(
            ["email", "name", "language", "attributes", "created_at"],
            select(rows.c.email, name, literal(language), rows.c.attributes, now).where(first, allowed, ~in_register),
        )
    )
    if is_postgres(session):
        session.execute(text("ANALYZE subscribers"))  # it may have grown by a million
    status = SubscriptionStatus.ACTIVE if consented else SubscriptionStatus.PENDING
    method = ConsentMethod.IMPORT if consented else ConsentMethod.DOUBLE_OPT_IN
    columns = ["list_id", "subscriber_id", "status", "requested_at", "confirmed_at", "source_url"]
    # Those on the list already are left as they are: ON CONFLICT, not a NOT EXISTS (which PostgreSQL
    # would plan as a scan of the subscriptions per line, the table growing under it).
    dialect_insert = postgresql_insert if is_postgres(session) else sqlite_insert
    session.execute(
        dialect_insert(Subscription)
        .from_select(
            [*columns, "consent_text_version", "consent_method"],
            select(
                literal(staged.list_id),
                Subscriber.id,
                literal(status.value),
                now,
                literal(staged.now if consented else None, UTCDateTime()),
                literal(staged.source),
                literal("" if consented else domain.consent_text(newsletter_list)[1]),
                literal(method.value),
            )
            .join(rows, func.lower(Subscriber.email) == rows.c.email_key)
            .where(first, allowed),
        )
        .on_conflict_do_nothing(index_elements=["list_id", "subscriber_id"])
    )
    detail = f"imported by {staged.source[len('import (') : -1]}" + (
        ", consent already given" if consented else ", confirmation mailed"
    )
    session.execute(
        insert(SubscriptionEvent).from_select(
            ["subscription_id", "kind", "detail", "at"],
            select(Subscription.id, literal(SubscriptionEventKind.IMPORTED.value), literal(detail), now).where(
                staged.added()
            ),
        )
    )


def queue_confirmations(
    session: Session, config: Config, tokens: Tokens, staged: Staged, *, after: int = 0
) -> tuple[int, int]:
    """Queue confirmation mails for up to ``BATCH`` subscriptions the import added, after id ``after``.

    Returns (how many, the last subscription id done). Call it until it returns 0 mails, committing
    between calls if you like: each batch is complete on its own.
    """
    subscriptions = session.scalars(
        select(Subscription)
        .where(staged.added(), Subscription.id > after)
        .order_by(Subscription.id)
        .limit(BATCH)
        .options(selectinload(Subscription.subscriber), selectinload(Subscription.newsletter_list))
    ).all()
    if not subscriptions:
        return 0, after
    now = utcnow()
    for subscription in subscriptions:
        domain.send_confirmation(session, config, tokens, subscription)
        domain.add_event(session, subscription, SubscriptionEventKind.CONFIRMATION_SENT, now=now)
    last = subscriptions[-1].id
    session.flush()
    session.expunge_all()  # memory stays flat however many batches follow
    return len(subscriptions), last


def report(session: Session, staged: Staged) -> ImportReport:
    """Counts of every outcome and the first ``REPORT_LIMIT`` lines of each kind, by line."""
    rows = _rows()
    other = rows.alias("other")
    valid, first, allowed = _conditions(staged.import_id)
    mine = rows.c.import_id == staged.import_id
    found = ImportReport()
    found.invalid_count = session.scalar(select(func.count()).where(mine, rows.c.problem.is_not(None))) or 0
    valid_count = session.scalar(select(func.count()).where(valid)) or 0
    addresses = session.scalar(select(func.count(func.distinct(rows.c.email_key))).where(valid)) or 0
    found.imported = session.scalar(select(func.count()).select_from(Subscription).where(staged.added())) or 0
    found.merged_count = valid_count - addresses
    found.skipped_count = addresses - found.imported

    def listed(query) -> list:
        return list(session.execute(query.order_by(rows.c.line).limit(REPORT_LIMIT)))

    found.invalid = [
        Problem(line, email, problem)
        for line, email, problem in listed(
            select(rows.c.line, rows.c.email, rows.c.problem).where(mine, rows.c.problem.is_not(None))
        )
    ]
    earlier = select(func.min(other.c.line)).where(
        other.c.import_id == staged.import_id, other.c.email_key == rows.c.email_key
    )
    found.merged = [
        Problem(line, email, str(first_line))
        for line, email, first_line in listed(
            select(rows.c.line, rows.c.email, earlier.scalar_subquery()).where(valid, ~first.self_group())
        )
    ]
    # Skipped: suppressed, or on the list already (by a subscription this import did not add).
    earlier_on_list = (
        select(func.lower(Subscriber.email).label("key"), Subscription.status)
        .join(Subscription, Subscription.subscriber_id == Subscriber.id)
        .where(
            Subscription.list_id == staged.list_id,
            ~and_(Subscription.requested_at == staged.now, Subscription.source_url == staged.source),
        )
        .subquery()
    )
    reason = case((~allowed, SkipReason.SUPPRESSED.value), else_=earlier_on_list.c.status)
    found.skipped = [
        Problem(line, email, SkipReason(why))
        for line, email, why in listed(
            select(rows.c.line, rows.c.email, reason)
            .select_from(rows.outerjoin(earlier_on_list, earlier_on_list.c.key == rows.c.email_key))
            .where(first, or_(~allowed, earlier_on_list.c.status.is_not(None)))
        )
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
    staged = Staged.for_editor(import_id, newsletter_list.id, editor, now or utcnow())
    apply(session, staged, newsletter_list, consented=consented)
    after = 0
    while not consented:
        queued, after = queue_confirmations(session, config, tokens, staged, after=after)
        if not queued:
            break
    found = report(session, staged)
    forget(session, import_id)
    return found


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
