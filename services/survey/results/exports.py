"""Exports of the responses: CSV (UTF-8 with BOM, comma or semicolon) and XLSX with a codebook.

One row per response, one column per question, matrix row and `multiple` option. Rows are streamed:
answers are read in response order through a server-side cursor and each response's row is put
together as it passes, so 100 000 responses never sit in memory at once.

Spreadsheet programs run a cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return as a formula (OWASP "CSV injection"), so every text cell that does gets a leading ``'``.
"""
from __future__ import annotations

import csv
import io
import itertools
import re
import tempfile
from dataclasses import dataclass
from typing import IO, Iterator

from flask_babel import lazy_gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.survey.results.definition import DONT_KNOW, OTHER, TEXT_TYPES, Question, questions
from shared.models import Answer, Participant, Response, Survey

FORMATS = ("csv", "xlsx")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Control characters XML (and so XLSX) cannot hold; openpyxl refuses them.
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
BATCH = 2000


@dataclass(frozen=True)
class ExportOptions:
    format: str = "csv"
    separator: str = ","
    labels: bool = False  # option labels instead of codes, question texts as headers
    include_partial: bool = False
    include_identity: bool = False  # e-mail and name; never in an anonymous survey


@dataclass(frozen=True)
class Column:
    name: str  # variable name (codes)
    header: str  # what the header row says
    question: Question | None = None
    sub: str | None = None  # matrix row key or `multiple` option key; "other" for the other-text
    codes: tuple[tuple[str, str], ...] = ()  # (code, label) for the codebook


def neutralise(value):
    """Text that a spreadsheet would run as a formula gets a leading quote; other values pass."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _number(value: float | None):
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value


def columns(survey: Survey, options: ExportOptions) -> list[Column]:
    """The export's columns in order: id, status, date, report attributes, identity, then questions."""
    labels = options.labels
    fixed = [Column("id", "id"), Column("datum", str(_("Datum")) if labels else "datum")]
    if options.include_partial:
        fixed.insert(1, Column("status", str(_("Status")) if labels else "status",
                               codes=(("complete", str(_("Klar"))), ("in_progress", str(_("Påbörjad"))))))
    fixed += [Column(f"attr:{a}", a) for a in survey.report_attributes or []]
    if options.include_identity and not survey.anonymous:
        fixed += [Column("email", str(_("E-postadress")) if labels else "email"), Column("name", str(_("Namn")) if labels else "name")]
    other_label, dont_know_label = str(_("Annat")), str(_("Vet inte"))
    out = fixed
    for q in questions(survey.definition):
        dk = ((DONT_KNOW, dont_know_label),) if q.dont_know else ()
        if q.type == "single":
            codes = tuple((o.key, o.label) for o in q.options) + (((OTHER, other_label),) if q.other else ())
            out.append(Column(q.key, q.text if labels else q.key, q, None, codes))
        elif q.type == "multiple":
            for o in q.options:
                out.append(Column(f"{q.key}_{o.key}", f"{q.text} – {o.label}" if labels else f"{q.key}_{o.key}", q, o.key,
                                  (("1", o.label), ("0", ""))))
            if q.other:
                out.append(Column(f"{q.key}_{OTHER}", f"{q.text} – {other_label}" if labels else f"{q.key}_{OTHER}", q, OTHER,
                                  (("1", other_label), ("0", ""))))
        elif q.type == "matrix":
            codes = tuple((str(v), str(v)) for v in q.scale_values) + dk
            for r in q.rows:
                out.append(Column(f"{q.key}_{r.key}", f"{q.text} – {r.label}" if labels else f"{q.key}_{r.key}", q, r.key, codes))
        elif q.type in ("scale", "nps"):
            out.append(Column(q.key, q.text if labels else q.key, q, None, tuple((str(v), str(v)) for v in q.scale_values) + dk))
        else:
            out.append(Column(q.key, q.text if labels else q.key, q, None, dk))
        if q.other and q.type in ("single", "multiple"):
            name = f"{q.key}_{OTHER}_text"
            out.append(Column(name, f"{q.text} – {other_label} ({str(_('text'))})" if labels else name, q, "other_text"))
    return out


def export_rows_stmt(survey: Survey, options: ExportOptions):
    """Every answer of the exported responses, in response order (one pass builds each row)."""
    identity = options.include_identity and not survey.anonymous
    stmt = (
        select(
            Response.id, Response.status, Response.completed_at, Response.updated_at, Response.attributes,
            *( (Participant.email, Participant.name) if identity else () ),
            Answer.question_key, Answer.row_key, Answer.option_key, Answer.number_value, Answer.text_value,
        )
        .select_from(Response)
        .outerjoin(Answer, Answer.response_id == Response.id)
        .where(Response.survey_id == survey.id)
        .order_by(Response.id, Answer.id)
    )
    if identity:
        stmt = stmt.outerjoin(Participant, Participant.id == Response.participant_id)
    if not options.include_partial:
        stmt = stmt.where(Response.status == "complete")
    return stmt


def rows(session: Session, survey: Survey, options: ExportOptions) -> Iterator[list]:
    """The header row, then one row per response, values already neutralised."""
    cols = columns(survey, options)
    yield [neutralise(c.header) for c in cols]
    index = {c.name: i for i, c in enumerate(cols)}
    by_question = {q.key: q for q in questions(survey.definition)}
    labels = options.labels
    other_label, dont_know_label = str(_("Annat")), str(_("Vet inte"))
    status_labels = {"complete": str(_("Klar")), "in_progress": str(_("Påbörjad"))}
    multiple_columns = {q.key: [c for c in cols if c.question is not None and c.question.key == q.key and c.sub not in (None, "other_text")]
                        for q in by_question.values() if q.type == "multiple"}
    result = session.execute(export_rows_stmt(survey, options).execution_options(yield_per=BATCH))
    for response_id, group in itertools.groupby(result, key=lambda r: r.id):
        answers = list(group)
        first = answers[0]
        row: list = [None] * len(cols)
        row[index["id"]] = response_id
        when = first.completed_at or first.updated_at
        row[index["datum"]] = when.date().isoformat() if when else None
        if "status" in index:
            row[index["status"]] = status_labels.get(first.status, first.status) if labels else first.status
        for attribute in survey.report_attributes or []:
            row[index[f"attr:{attribute}"]] = (first.attributes or {}).get(attribute)
        if "email" in index:
            row[index["email"]], row[index["name"]] = first.email, first.name
        answered_multiple = set()
        for a in answers:
            q = by_question.get(a.question_key)
            if q is None:
                continue  # an answer to a question since removed from the definition
            if q.type == "multiple":
                answered_multiple.add(q.key)
                name = f"{q.key}_{a.option_key}"
                if name in index:
                    row[index[name]] = (q.option_label(a.option_key) if a.option_key != OTHER else other_label) if labels else 1
            elif q.type == "single":
                row[index[q.key]] = (q.option_label(a.option_key) if a.option_key != OTHER else other_label) if labels else a.option_key
            elif q.type == "matrix":
                name = f"{q.key}_{a.row_key}"
                if name in index:
                    row[index[name]] = (dont_know_label if labels else DONT_KNOW) if a.option_key == DONT_KNOW else _number(a.number_value)
            elif q.type in TEXT_TYPES:
                row[index[q.key]] = a.text_value
            else:
                row[index[q.key]] = (dont_know_label if labels else DONT_KNOW) if a.option_key == DONT_KNOW else _number(a.number_value)
            if a.option_key == OTHER and a.text_value and f"{q.key}_{OTHER}_text" in index:
                row[index[f"{q.key}_{OTHER}_text"]] = a.text_value
        if not labels:
            # 0 = not chosen, but only for those who answered the question; blank = not answered.
            for key in answered_multiple:
                for c in multiple_columns[key]:
                    if row[index[c.name]] is None:
                        row[index[c.name]] = 0
        yield [neutralise(v) for v in row]


def csv_chunks(session: Session, survey: Survey, options: ExportOptions) -> Iterator[bytes]:
    """The CSV file in chunks: BOM first (so Excel reads UTF-8), CRLF line ends."""
    yield "\ufeff".encode("utf-8")
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=options.separator, lineterminator="\r\n")
    for i, row in enumerate(rows(session, survey, options), start=1):
        writer.writerow(["" if v is None else v for v in row])
        if i % 500 == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def _xlsx_value(value):
    return _ILLEGAL_XML.sub("", value) if isinstance(value, str) else value


def write_xlsx(session: Session, survey: Survey, options: ExportOptions, out: IO[bytes]) -> None:
    """The XLSX workbook: sheet "Svar" with the rows, sheet "Kodbok" with questions, codes and labels."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)  # rows go to a temporary file as they are appended
    sheet = book.create_sheet(str(_("Svar")))
    for row in rows(session, survey, options):
        sheet.append([_xlsx_value(v) for v in row])
    codebook = book.create_sheet(str(_("Kodbok")))
    codebook.append([str(_("Variabel")), str(_("Fråga")), str(_("Kod")), str(_("Etikett"))])
    for c in columns(survey, ExportOptions(include_partial=options.include_partial,
                                            include_identity=options.include_identity)):
        text = c.question.text if c.question else c.name.removeprefix("attr:")
        if c.question is not None and c.sub and c.sub != "other_text":
            text += " – " + (c.question.row_label(c.sub) if c.question.type == "matrix" else c.question.option_label(c.sub))
        codebook.append([_xlsx_value(neutralise(v)) for v in (c.name.removeprefix("attr:"), text, None, None)])
        for code, label in c.codes:
            codebook.append([None, None, _xlsx_value(neutralise(code)), _xlsx_value(neutralise(label))])
    book.save(out)


def xlsx_file(session: Session, survey: Survey, options: ExportOptions) -> IO[bytes]:
    """The workbook in a temporary file (spilled to disk when large), rewound for reading."""
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    write_xlsx(session, survey, options, spool)
    spool.seek(0)
    return spool


def filename(survey: Survey, options: ExportOptions) -> str:
    return f"enkat-{survey.id}-svar.{options.format}"
