"""Participants: import from CSV, add, edit and remove one, and their status (computed in SQL)."""

from __future__ import annotations

import codecs
import csv
import hashlib
import re
import secrets
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import chain
from typing import Any, TypeVar, cast

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from sqlalchemy import Select, case, delete, func, insert, select, tuple_, update
from sqlalchemy import text as sql
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from shared.clock import utcnow
from shared.db import is_postgres
from shared.models import Participant, ParticipantLink, ParticipantStatus, Response, ResponseStatus, Suppression

_Row = TypeVar("_Row", bound=tuple[Any, ...])


def token_hash(token: str) -> str:
    """What is kept of a personal link: the SHA-256 of its token (hex). The token is random and
    long, so a plain hash is enough; a slow one would only slow every page of every respondent."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def new_links(session: Session, participant_ids: Sequence[int]) -> dict[int, str]:
    """A new personal link for each participant, as participant id → token (32 URL-safe characters).

    Only the hashes are stored: put the token into the mail being written and nowhere else.
    """
    tokens = {participant_id: secrets.token_urlsafe(24) for participant_id in participant_ids}
    if tokens:
        session.execute(
            insert(ParticipantLink),
            [{"participant_id": pid, "token_hash": token_hash(token)} for pid, token in tokens.items()],
        )
    return tokens


class ParticipantError(Exception):
    """Input for one participant that cannot be used; ``errors`` maps field → message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def normalise_email(value: str) -> str:
    """A checked, lower-cased address (raises ValueError with a message for the user)."""
    value = (value or "").strip()
    if not value:
        raise ValueError(_("E-postadress saknas."))
    try:
        checked = validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        raise ValueError(_("”%(value)s” är inte en giltig e-postadress.", value=value)) from None
    return checked.normalized.lower()


@dataclass
class ImportReport:
    """What a CSV import did, with line-numbered problems (the first ``REPORT_LIMIT``; all counted)."""

    added: int = 0
    updated: int = 0
    merged: int = 0  # lines repeating an address earlier in the same file
    errors: list[tuple[int, str]] = field(default_factory=list)
    error_count: int = 0

    def problem(self, line: int, message: str) -> None:
        # A file of a million bad lines must not fill the memory (nor the page) with messages.
        self.error_count += 1
        if len(self.errors) < REPORT_LIMIT:
            self.errors.append((line, message))

    def lines(self) -> list[str]:
        out = [
            _("%(n)s nya deltagare", n=self.added),
            _("%(n)s befintliga uppdaterade", n=self.updated),
            _("%(n)s dubbletter sammanslagna", n=self.merged),
        ]
        out += [_("rad %(line)s: %(msg)s", line=line, msg=msg) for line, msg in self.errors]
        if self.error_count > len(self.errors):
            out.append(_("… och %(n)s rader till med fel", n=self.error_count - len(self.errors)))
        return out


def decode_csv(raw: bytes) -> str:
    """UTF-8 (with or without BOM); Excel's Windows-1252 as a fallback."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


# Lines read, and addresses looked up, per batch: memory stays flat however long the file, and one
# IN list stays well under the parameters PostgreSQL (65 535) or SQLite (32 766) take in a statement.
def file_encoding(path: str) -> str:
    """UTF-8 (with or without BOM) if the whole file decodes so, else Excel's Windows-1252; read in
    chunks, so that the import can then read the file line by line."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with open(path, "rb") as file:
            while chunk := file.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8-sig"


LOOKUP_PART = 1000
REPORT_LIMIT = 1000  # problem lines listed in a report
INLINE_MAX_ROWS = 1000  # larger files are imported by the worker, as a job with a progress bar
INLINE_MAX_BYTES = 200 * 1024

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n|$)")


def text_lines(text: str) -> Iterator[str]:
    """The text's lines one by one, whatever their ends (csv joins quoted line breaks): no second
    copy of a large file."""
    for match in _LINE.finditer(text):
        if match.group():
            yield match.group()


def runs_as_job(data: bytes) -> bool:
    """Large files go to the worker; small ones are imported while the editor waits."""
    return len(data) > INLINE_MAX_BYTES or data.count(b"\n") > INLINE_MAX_ROWS


@dataclass
class _Person:
    name: str
    attributes: dict[str, str]


# Told after each batch: (the line or position reached, the report so far, the import's time).
Progress = Callable[[int, ImportReport, datetime], None]


def import_participants_csv(
    session: Session,
    survey_id: int,
    text: str | Iterable[str],
    progress: Progress | None = None,
    *,
    resume: tuple[int, ImportReport, datetime] | None = None,
) -> ImportReport:
    """Add or update participants from CSV (email, name, other columns → attributes): the text, or
    its lines one at a time (a file read line by line is never held whole).

    Comma or semicolon, CRLF, a BOM; repeated addresses are merged (later columns win). Read and
    saved in batches (``add_participants``); after an interruption a job passes back what its
    ``progress`` was last told as ``resume``, to go on after that line. Flushes only.
    """
    done_lines, report, now = resume or (0, ImportReport(), utcnow())
    lines = iter(text_lines(text) if isinstance(text, str) else text)
    header_line = next(lines, "").lstrip("\ufeff").replace("\x00", "")
    if not header_line.strip():
        report.problem(1, _("Filen är tom."))
        return report
    delimiter = ";" if header_line.count(";") > header_line.count(",") else ","
    # NUL cannot be stored (and is never meant).
    reader = csv.reader(chain([header_line], (line.replace("\x00", "") for line in lines)), delimiter=delimiter)
    columns = [h.strip().lower() for h in next(reader)]
    if "email" not in columns and "e-post" not in columns:
        report.problem(1, _("Kolumnen ”email” saknas i första raden."))
        return report
    email_at = columns.index("email") if "email" in columns else columns.index("e-post")
    name_at = columns.index("name") if "name" in columns else (columns.index("namn") if "namn" in columns else None)

    def entries() -> Iterator[tuple[int, str, str, dict[str, str]]]:
        try:
            for row in reader:
                line = reader.line_num
                if line <= done_lines or not any(cell.strip() for cell in row):
                    continue
                if len(row) > len(columns):
                    report.problem(line, _("fler kolumner än rubrikraden"))
                    continue
                row = row + [""] * (len(columns) - len(row))
                attributes = {
                    columns[i]: row[i].strip()
                    for i in range(len(columns))
                    if i not in (email_at, name_at) and columns[i] and row[i].strip()
                }
                name = row[name_at].strip() if name_at is not None else ""
                yield line, row[email_at], name, attributes
        except csv.Error as exc:
            report.problem(reader.line_num, _("filen kunde inte läsas som CSV: %(msg)s", msg=str(exc)))

    return add_participants(session, survey_id, entries(), report, progress, now=now)


def add_participants(
    session: Session,
    survey_id: int,
    entries: Iterable[tuple[int, str, str, dict[str, str]]],
    report: ImportReport | None = None,
    progress: Progress | None = None,
    *,
    now: datetime | None = None,
) -> ImportReport:
    """Add or update people given as (line or position, e-mail, name, attributes): a bad address is
    reported by its line, a repeated one merged (later values win), a known one updated.

    Consumes ``entries`` in batches of ``LOOKUP_PART`` addresses, each one look-up, one INSERT and
    one UPDATE, so memory stays flat however many there are; ``progress`` is called after each (a job
    commits there). Flushes only.
    """
    report = report or ImportReport()
    # One time for every participant this import adds, so a later batch repeating one is a merge.
    now = now or utcnow()
    updated_ids: set[int] = set()  # at most the participants there were before
    batch: dict[str, _Person] = {}
    batches = 0
    line = 0
    for line, raw_email, name, attributes in entries:
        try:
            email = normalise_email(raw_email)
        except ValueError as exc:
            report.problem(line, str(exc))
            continue
        if email in batch:
            report.merged += 1
            batch[email].attributes.update(attributes)
            batch[email].name = name or batch[email].name
        else:
            batch[email] = _Person(name, dict(attributes))
        if len(batch) >= LOOKUP_PART:
            _save_batch(session, survey_id, batch, now, updated_ids, report)
            batch = {}
            batches += 1
            if batches & (batches - 1) == 0 and is_postgres(session):
                # Fresh statistics each time the table may have doubled: planned for the (nearly)
                # empty table it was, the look-up scans all of it, once per batch.
                session.execute(sql("ANALYZE participants"))
            if progress:
                progress(line, report, now)
    if batch:
        _save_batch(session, survey_id, batch, now, updated_ids, report)
    session.flush()
    if progress:
        progress(line, report, now)
    return report


def _save_batch(
    session: Session,
    survey_id: int,
    batch: dict[str, _Person],
    now: datetime,
    updated_ids: set[int],
    report: ImportReport,
) -> None:
    """One batch of addresses: those already there updated in one statement, the rest added in one."""
    existing = session.execute(
        select(
            Participant.id,
            Participant.email,
            Participant.name,
            Participant.attributes,
            (Participant.created_at == now).label("added_now"),
        ).where(Participant.survey_id == survey_id, Participant.email.in_(list(batch)))
    ).all()
    changes = []
    for found in existing:
        person = batch.pop(found.email)
        changes.append(
            {
                "id": found.id,
                "name": person.name[:200] or found.name,
                "attributes": {**(found.attributes or {}), **person.attributes},
            }
        )
        if found.added_now or found.id in updated_ids:  # an earlier batch of this file had it
            report.merged += 1
        else:
            updated_ids.add(found.id)
            report.updated += 1
    if changes:
        session.execute(update(Participant), changes)  # by primary key, one executemany
    if batch:
        session.execute(
            insert(Participant),
            [
                {
                    "survey_id": survey_id,
                    "email": email,
                    "name": person.name[:200],
                    "attributes": person.attributes,
                    "reminders_sent": 0,
                    "created_at": now,
                }
                for email, person in batch.items()
            ],
        )
        report.added += len(batch)


def _attributes_from_text(text: str) -> dict:
    """``key: value`` lines (the form's attribute box) → dict."""
    out = {}
    for line in (text or "").splitlines():
        if ":" in line:
            key, value = line.split(":", 1)
            if key.strip() and value.strip():
                out[key.strip().lower()] = value.strip()
    return out


def attributes_as_text(attributes: dict) -> str:
    return "\n".join(f"{k}: {v}" for k, v in (attributes or {}).items())


def save_participant(
    session: Session, survey_id: int, email: str, name: str, attributes_text: str, participant_id: int | None = None
) -> Participant:
    """Add one participant or change one; raises ParticipantError with messages per field."""
    try:
        email = normalise_email(email)
    except ValueError as exc:
        raise ParticipantError({"email": str(exc)}) from None
    clash = session.scalar(
        select(Participant.id).where(
            Participant.survey_id == survey_id, Participant.email == email, Participant.id != (participant_id or 0)
        )
    )
    if clash:
        raise ParticipantError({"email": _("Adressen finns redan bland deltagarna.")})
    if participant_id is None:
        participant = Participant(survey_id=survey_id, email=email, reminders_sent=0, created_at=utcnow())
        session.add(participant)
    else:
        found = get_participant(session, survey_id, participant_id)
        if found is None:  # the page looked it up before (404 there)
            raise LookupError(f"no participant {participant_id} in survey {survey_id}")
        participant = found
        participant.email = email
    participant.name = (name or "").strip()[:200]
    participant.attributes = _attributes_from_text(attributes_text)
    session.flush()
    return participant


def get_participant(session: Session, survey_id: int, participant_id: int) -> Participant | None:
    return session.scalar(
        select(Participant).where(Participant.survey_id == survey_id, Participant.id == participant_id)
    )


def remove_participant(session: Session, survey_id: int, participant_id: int) -> bool:
    """Remove one person and any unfinished answers (a submitted anonymous response is not theirs any more)."""
    session.execute(
        delete(Response).where(Response.participant_id == participant_id, Response.status == ResponseStatus.IN_PROGRESS)
    )
    # A DELETE without RETURNING gives a CursorResult; Session.execute is typed for any statement.
    result = cast(
        CursorResult[Any],
        session.execute(
            delete(Participant).where(Participant.survey_id == survey_id, Participant.id == participant_id)
        ),
    )
    return result.rowcount == 1


def status_expression():
    """The participant's status as SQL, the first that applies in this order; the query needs
    ``with_suppressions``."""
    return case(
        (Participant.completed_at.is_not(None), ParticipantStatus.COMPLETED.value),
        (Participant.declined_at.is_not(None), ParticipantStatus.DECLINED.value),
        (Suppression.email.is_not(None), ParticipantStatus.BOUNCED.value),
        (Participant.started_at.is_not(None), ParticipantStatus.STARTED.value),
        (Participant.reminders_sent > 0, ParticipantStatus.REMINDED.value),
        (Participant.invited_at.is_not(None), ParticipantStatus.INVITED.value),
        else_=ParticipantStatus.NOT_INVITED.value,
    )


def with_suppressions(query: Select[_Row]) -> Select[_Row]:
    """Join each participant's suppression, if any (addresses are unique there: no row doubles).
    A join, not an EXISTS per row: PostgreSQL priced that so high that it compiled the query (JIT)
    for 400 ms at 100 000 participants."""
    return query.outerjoin(Suppression, Suppression.email == func.lower(Participant.email))


def status_counts(session: Session, survey_id: int) -> dict[ParticipantStatus, int]:
    """Number of participants per status (one GROUP BY), every status present."""
    status = status_expression().label("status")
    rows = session.execute(
        with_suppressions(select(status, func.count())).where(Participant.survey_id == survey_id).group_by(status)
    ).all()
    counts = dict.fromkeys(ParticipantStatus, 0)
    counts.update({ParticipantStatus(name): n for name, n in rows})
    return counts


@dataclass
class ParticipantRow:
    id: int
    email: str
    name: str
    status: ParticipantStatus
    reminders_sent: int


@dataclass
class ParticipantPage:
    rows: list[ParticipantRow]
    has_previous: bool
    has_next: bool
    searched: int | None = None  # how many a search found (without one, ``status_counts`` tells)


def list_participants(
    session: Session,
    survey_id: int,
    status: str | None = None,
    search: str = "",
    limit: int = 100,
    offset: int = 0,
    after: int | None = None,
    before: int | None = None,
) -> ParticipantPage:
    """A page of participants with their status by name, filtered by status and a search in
    name/address. ``after``/``before`` (a participant's id, the last/first of the page next to it)
    page by key — an index range however far in — rather than by ``offset``."""
    status_col = status_expression().label("status")
    query = with_suppressions(
        select(Participant.id, Participant.email, Participant.name, status_col, Participant.reminders_sent)
    ).where(Participant.survey_id == survey_id)
    if status is not None:
        query = query.where(status_expression() == ParticipantStatus(status).value)
    searched = None
    if search:
        like = f"%{search.strip().lower()}%"
        query = query.where(func.lower(Participant.email).like(like) | func.lower(Participant.name).like(like))
        searched = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    order = (Participant.name, Participant.email, Participant.id)
    mark = after if after is not None else before
    key = (
        session.execute(select(*order).where(Participant.id == mark, Participant.survey_id == survey_id)).first()
        if mark is not None
        else None
    )
    if key is not None and before is not None and after is None:
        found = list(
            session.execute(
                query.where(tuple_(*order) < tuple(key)).order_by(*(c.desc() for c in order)).limit(limit + 1)
            )
        )
        rows, has_previous, has_next = found[:limit][::-1], len(found) > limit, True
    else:
        if key is not None:
            query = query.where(tuple_(*order) > tuple(key))
        found = list(session.execute(query.order_by(*order).limit(limit + 1).offset(0 if key is not None else offset)))
        rows, has_previous, has_next = found[:limit], key is not None or offset > 0, len(found) > limit
    return ParticipantPage(
        [ParticipantRow(**{**row._mapping, "status": ParticipantStatus(row.status)}) for row in rows],
        has_previous,
        has_next,
        searched,
    )


def participants_after(session: Session, survey_id: int, after: int, limit: int, status: str | None = None) -> list:
    """Up to ``limit`` participants with an id above ``after`` (the API's cursor), in id order, with
    their status and attributes."""
    status_col = status_expression().label("status")
    query = with_suppressions(
        select(
            Participant.id,
            Participant.email,
            Participant.name,
            Participant.attributes,
            status_col,
            Participant.reminders_sent,
        )
    ).where(Participant.survey_id == survey_id, Participant.id > after)
    if status is not None:
        query = query.where(status_expression() == ParticipantStatus(status).value)
    return list(session.execute(query.order_by(Participant.id).limit(limit)))
