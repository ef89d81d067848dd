"""Participants: import from CSV, add, edit and remove one, and their status (computed in SQL)."""

from __future__ import annotations

import csv
import hashlib
import io
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from sqlalchemy import Select, case, delete, func, insert, select, tuple_
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from shared.clock import utcnow
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
    """What a CSV import did, with line-numbered problems."""

    added: int = 0
    updated: int = 0
    merged: int = 0  # lines repeating an address earlier in the same file
    errors: list[tuple[int, str]] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [
            _("%(n)s nya deltagare", n=self.added),
            _("%(n)s befintliga uppdaterade", n=self.updated),
            _("%(n)s dubbletter sammanslagna", n=self.merged),
        ]
        out += [_("rad %(line)s: %(msg)s", line=line, msg=msg) for line, msg in self.errors]
        return out


def decode_csv(raw: bytes) -> str:
    """UTF-8 (with or without BOM); Excel's Windows-1252 as a fallback."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


LOOKUP_PART = 10_000


def import_participants_csv(session: Session, survey_id: int, text: str) -> ImportReport:
    """Add or update participants from CSV text (email, name, other columns → attributes).

    Comma or semicolon, CRLF, a BOM; repeated addresses are merged (later columns win). Flushes only.
    """
    report = ImportReport()
    text = text.lstrip("\ufeff").replace("\x00", "")  # NUL cannot be stored (and is never meant)
    header_line = text.splitlines()[0] if text.strip() else ""
    delimiter = ";" if header_line.count(";") > header_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        report.errors.append((1, _("Filen är tom.")))
        return report
    columns = [h.strip().lower() for h in header]
    if "email" not in columns and "e-post" not in columns:
        report.errors.append((1, _("Kolumnen ”email” saknas i första raden.")))
        return report
    email_at = columns.index("email") if "email" in columns else columns.index("e-post")
    name_at = columns.index("name") if "name" in columns else (columns.index("namn") if "namn" in columns else None)
    entries: list[tuple[int, str, str, dict[str, str]]] = []
    try:
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) > len(columns):
                report.errors.append((line, _("fler kolumner än rubrikraden")))
                continue
            row = row + [""] * (len(columns) - len(row))
            attributes = {
                columns[i]: row[i].strip()
                for i in range(len(columns))
                if i not in (email_at, name_at) and columns[i] and row[i].strip()
            }
            name = row[name_at].strip() if name_at is not None else ""
            entries.append((line, row[email_at], name, attributes))
    except csv.Error as exc:
        report.errors.append((reader.line_num, _("filen kunde inte läsas som CSV: %(msg)s", msg=str(exc))))
        return report
    return add_participants(session, survey_id, entries, report)


def add_participants(
    session: Session,
    survey_id: int,
    entries: Iterable[tuple[int, str, str, dict[str, str]]],
    report: ImportReport | None = None,
) -> ImportReport:
    """Add or update people given as (line or position, e-mail, name, attributes): a bad address is
    reported by its line, a repeated one merged (later values win), a known one updated. Flushes only."""
    report = report or ImportReport()
    people: dict[str, dict] = {}
    for line, raw_email, name, attributes in entries:
        try:
            email = normalise_email(raw_email)
        except ValueError as exc:
            report.errors.append((line, str(exc)))
            continue
        if email in people:
            report.merged += 1
            people[email]["attributes"].update(attributes)
            people[email]["name"] = name or people[email]["name"]
        else:
            people[email] = {"name": name, "attributes": dict(attributes)}

    emails = list(people)
    existing: dict[str, Participant] = {}
    # In parts: one IN list of 100 000 addresses is more parameters than PostgreSQL (65 535) or
    # SQLite (32 766) take in one statement.
    for start in range(0, len(emails), LOOKUP_PART):
        part = emails[start : start + LOOKUP_PART]
        existing.update(
            (p.email, p)
            for p in session.scalars(
                select(Participant).where(Participant.survey_id == survey_id, Participant.email.in_(part))
            )
        )
    now = utcnow()
    new_rows = []
    for email, person in people.items():
        if email in existing:
            participant = existing[email]
            participant.name = person["name"][:200] or participant.name
            participant.attributes = {**(participant.attributes or {}), **person["attributes"]}
            report.updated += 1
        else:
            new_rows.append(
                {
                    "survey_id": survey_id,
                    "email": email,
                    "name": person["name"][:200],
                    "attributes": person["attributes"],
                    "reminders_sent": 0,
                    "created_at": now,
                }
            )
    if new_rows:
        session.execute(insert(Participant), new_rows)
    report.added = len(new_rows)
    session.flush()
    return report


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
