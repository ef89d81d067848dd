"""Exports of the responses: CSV (UTF-8 with BOM, comma or semicolon) and XLSX with a codebook.

One row per response, one column per question, matrix row and `multiple` option. The database pivots
each response's answers into its row (``MAX(CASE …) … GROUP BY response``) and the rows are streamed
from a server-side cursor in response order, so 100 000 responses never sit in memory at once.

Spreadsheet programs run a cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return as a formula (OWASP "CSV injection"), so every text cell that does gets a leading ``'``.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import IO

from flask_babel import lazy_gettext as _
from sqlalchemy import Text, and_, case, cast, func, select, type_coerce
from sqlalchemy.orm import Session

from services.survey.results.anonymity import (
    MERGED,
    Combination,
    Period,
    merge_small_combinations,
    period_of,
    periods,
    rule_text,
    threshold,
)
from services.survey.results.xlsx import write_workbook
from services.survey.surveys.questions import (
    CHOICE_TYPES,
    DONT_KNOW,
    OTHER,
    POINT_TYPES,
    SINGLE_TYPES,
    TEXT_TYPES,
    Question,
    QuestionType,
    definition_of,
)
from shared.i18n import local_time, to_local
from shared.models import Answer, Participant, Response, ResponseStatus, Survey

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BATCH = 2000
STATUS_ORDER = (ResponseStatus.COMPLETE, ResponseStatus.IN_PROGRESS)  # as the codebook lists them


Progress = Callable[[int], None]  # told the number of rows written so far, every BATCH rows
# In the data of the SPSS and R exports (numeric codes): "Vet inte", declared missing there.
DONT_KNOW_CODE = -99


class TooFewResponses(Exception):
    """An anonymous survey is exported only once it has k complete responses."""

    def __init__(self, needed: int):
        super().__init__(f"{needed} more complete responses needed")
        self.needed = needed


@dataclass(frozen=True)
class ExportOptions:
    format: str = "csv"
    separator: str = ","
    labels: bool = False  # option labels instead of codes, question texts as headers
    include_partial: bool = False  # never in an anonymous survey (in progress, a response is still a person's)
    include_identity: bool = False  # e-mail and name; never in an anonymous survey
    numeric: bool = False  # numbers for options and "Vet inte" (the SPSS and R exports' data)


def option_numbers(q: Question) -> dict[str, int]:
    """A `single` question's options numbered 1, 2, … in the survey's order ("Annat" last), for SPSS and R."""
    keys = [o.key for o in q.options] + ([OTHER] if q.other else [])
    return {key: i for i, key in enumerate(keys, start=1)}


@dataclass(frozen=True)
class Anonymised:
    """How an anonymous survey's export shows dates and report attributes (``anonymity``)."""

    periods: list[Period]
    shown: dict[Combination, Combination]  # (period, *attributes) as stored → as exported
    merged: int  # responses with a merged value
    threshold: int


def response_combinations_stmt(survey_id: int):
    """Complete responses per completion time (a day, in an anonymous survey) and set of attributes."""
    as_text = cast(Response.attributes, Text)
    return (
        select(Response.completed_at, as_text.label("attributes"), func.count().label("n"))
        .where(Response.survey_id == survey_id, Response.status == ResponseStatus.COMPLETE)
        .group_by(Response.completed_at, as_text)
    )


def _attribute_values(survey: Survey, attributes: dict | None) -> tuple[str | None, ...]:
    attributes = attributes or {}
    return tuple(None if attributes.get(a) is None else str(attributes[a]) for a in survey.report_attributes or [])


def anonymise(session: Session, survey: Survey) -> Anonymised:
    """Periods of at least k completions for the date column, and the attribute combinations merged
    until each is held by at least k responses. Raises ``TooFewResponses`` below k in all."""
    k = threshold(survey)
    found = [
        (to_local(r.completed_at).date(), _attribute_values(survey, json.loads(r.attributes or "{}")), int(r.n))
        for r in session.execute(response_combinations_stmt(survey.id))
        if r.completed_at is not None
    ]
    complete = sum(n for _day, _values, n in found)
    if complete < k:
        raise TooFewResponses(k - complete)
    per_day: dict[date, int] = {}
    for day, _values, n in found:
        per_day[day] = per_day.get(day, 0) + n
    spans = periods(per_day, k)
    counts: dict[Combination, int] = {}
    for day, values, n in found:
        span = period_of(spans, day)
        key = (span.label if span else None, *values)
        counts[key] = counts.get(key, 0) + n
    shown, merged = merge_small_combinations(counts, k)
    return Anonymised(spans, shown, merged, k)


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


def columns(survey: Survey, options: ExportOptions) -> list[Column]:
    """The export's columns in order: id, status, date, report attributes, identity, then questions."""
    options = effective(survey, options)
    labels = options.labels
    fixed = [Column("id", "id"), Column("datum", str(_("Datum")) if labels else "datum")]
    if options.include_partial:
        fixed.insert(
            1,
            Column(
                "status",
                str(_("Status")) if labels else "status",
                codes=tuple((s.value, str(s.label)) for s in STATUS_ORDER),
            ),
        )
    fixed += [Column(f"attr:{a}", a) for a in survey.report_attributes or []]
    if options.include_identity and not survey.anonymous:
        fixed += [
            Column("email", str(_("E-postadress")) if labels else "email"),
            Column("name", str(_("Namn")) if labels else "name"),
        ]
    other_label, dont_know_label, not_chosen = str(_("Annat")), str(_("Vet inte")), str(_("Inte valt"))
    out = fixed
    for q in definition_of(survey).answered_questions:
        dk = ((DONT_KNOW, dont_know_label),) if q.dont_know else ()
        if q.type in SINGLE_TYPES:
            codes = tuple((o.key, o.label) for o in q.options) + (((OTHER, other_label),) if q.other else ())
            out.append(Column(q.key, q.text if labels else q.key, q, None, codes))
        elif q.type == QuestionType.MULTIPLE:
            for o in q.options:
                out.append(
                    Column(
                        f"{q.key}_{o.key}",
                        f"{q.text} – {o.label}" if labels else f"{q.key}_{o.key}",
                        q,
                        o.key,
                        (("1", o.label), ("0", not_chosen)),
                    )
                )
            if q.other:
                out.append(
                    Column(
                        f"{q.key}_{OTHER}",
                        f"{q.text} – {other_label}" if labels else f"{q.key}_{OTHER}",
                        q,
                        OTHER,
                        (("1", other_label), ("0", not_chosen)),
                    )
                )
        elif q.type == QuestionType.MATRIX:
            codes = tuple((str(v), str(v)) for v in q.required_scale.points) + dk
            for r in q.rows:
                out.append(
                    Column(
                        f"{q.key}_{r.key}", f"{q.text} – {r.label}" if labels else f"{q.key}_{r.key}", q, r.key, codes
                    )
                )
        elif q.type == QuestionType.RANKING:  # one column per option: its place
            codes = tuple((str(n), str(n)) for n in range(1, len(q.options) + 1))
            for o in q.options:
                name = f"{q.key}_{o.key}"
                out.append(Column(name, f"{q.text} – {o.label}" if labels else name, q, o.key, codes))
        elif q.type in POINT_TYPES:
            codes = tuple((str(v), str(v)) for v in q.required_scale.points) + dk
            out.append(Column(q.key, q.text if labels else q.key, q, None, codes))
        else:
            out.append(Column(q.key, q.text if labels else q.key, q, None, dk))
        if q.other and q.type in CHOICE_TYPES:
            name = f"{q.key}_{OTHER}_text"
            out.append(Column(name, f"{q.text} – {other_label} ({_('text')!s})" if labels else name, q, "other_text"))
    return out


# How to read one question column from a pivoted row: (column index, kind, question, sub, expression labels).
_Reading = tuple[int, str, Question, str | None, tuple[str, str]]


def _pivot(cols: list[Column]) -> tuple[list, list[_Reading]]:
    """The SQL expressions that turn a response's answer rows into its export columns, and for each
    question column how to read them."""
    exprs: list = []
    plan: list[_Reading] = []
    for i, c in enumerate(cols):
        q = c.question
        if q is None:
            continue
        in_q = Answer.question_key == q.key
        names = (f"c{i}", f"d{i}")
        if c.sub == "other_text":
            exprs.append(func.max(case((and_(in_q, Answer.option_key == OTHER), Answer.text_value))).label(names[0]))
            plan.append((i, "text", q, c.sub, names))
        elif q.type in SINGLE_TYPES:
            exprs.append(func.max(case((in_q, Answer.option_key))).label(names[0]))
            plan.append((i, "single", q, c.sub, names))
        elif q.type == QuestionType.MULTIPLE:
            # NULL: question not answered; 0: answered without this option; 1: chosen.
            exprs.append(func.max(case((in_q, case((Answer.option_key == c.sub, 1), else_=0)))).label(names[0]))
            plan.append((i, "multiple", q, c.sub, names))
        elif q.type in TEXT_TYPES or q.type == QuestionType.DATE:  # a date as ÅÅÅÅ-MM-DD text
            exprs.append(func.max(case((in_q, Answer.text_value))).label(names[0]))
            plan.append((i, "text", q, c.sub, names))
        else:  # scale, nps, number, matrix row: a number or "don't know"
            by_row = q.type in (QuestionType.MATRIX, QuestionType.RANKING)
            where = and_(in_q, Answer.row_key == c.sub) if by_row else in_q
            exprs.append(func.max(case((where, Answer.number_value))).label(names[0]))
            if q.dont_know:  # a flag column only where "don't know" can be answered
                exprs.append(func.max(case((and_(where, Answer.option_key == DONT_KNOW), 1))).label(names[1]))
            plan.append((i, "number", q, c.sub, names))
    return exprs, plan


def export_stmt(survey: Survey, options: ExportOptions, pivot: list):
    """One row per exported response, in id order, its answers pivoted into columns by the database."""
    identity = options.include_identity and not survey.anonymous
    stmt = (
        select(
            Response.id,
            Response.status,
            # When it was sent in, or last saved if it was not: one time to convert per row.
            type_coerce(func.coalesce(Response.completed_at, Response.updated_at), Response.completed_at.type).label(
                "at"
            ),
            cast(Response.attributes, Text).label("attributes"),  # parsed once per distinct set (``rows``)
            *((Participant.email, Participant.name) if identity else ()),
            *pivot,
        )
        .select_from(Response)
        .outerjoin(Answer, Answer.response_id == Response.id)
        .where(Response.survey_id == survey.id)
        .group_by(Response.id)
        .order_by(Response.id)
    )
    if identity:
        stmt = stmt.outerjoin(Participant, Participant.id == Response.participant_id).group_by(Participant.id)
    if not options.include_partial:
        stmt = stmt.where(Response.status == ResponseStatus.COMPLETE)
    return stmt


def effective(survey: Survey, options: ExportOptions) -> ExportOptions:
    """The options as an export of this survey honours them: an anonymous survey's export has
    neither identities nor responses in progress."""
    if survey.anonymous:
        return replace(options, include_partial=False, include_identity=False)
    return options


def rows(
    session: Session,
    survey: Survey,
    options: ExportOptions,
    anonymised: Anonymised | None = None,
    progress: Progress | None = None,
    numbering: dict[str, dict[str, int]] | None = None,
) -> Iterator[list]:
    """The header row, then one row per response, values already neutralised. An anonymous
    survey's rows show periods and merged attributes (``anonymise``, done here unless given).
    With ``numeric`` options, ``numbering`` (if given) ends up holding each `single` question's
    numbers, including any for stored options the definition no longer has.

    The rows come from a server-side cursor (``yield_per``), so only a batch is in memory at a time.
    """
    options = effective(survey, options)
    if survey.anonymous and anonymised is None:
        anonymised = anonymise(session, survey)
    cols = columns(survey, options)
    yield [neutralise(c.header) for c in cols]
    index = {c.name: i for i, c in enumerate(cols)}
    labels = options.labels
    other_label, dont_know_label, not_chosen = str(_("Annat")), str(_("Vet inte")), str(_("Inte valt"))
    dont_know = dont_know_label if labels else DONT_KNOW_CODE if options.numeric else DONT_KNOW
    id_slot, date_slot = index["id"], index["datum"]
    attribute_slots = [index[f"attr:{a}"] for a in survey.report_attributes or []]
    exprs, plan = _pivot(cols)
    # Looked up by (question, sub) as well: a `multiple` column's sub is its option's key.
    option_labels: dict[tuple[str, str | None], str] = {
        (q.key, o.key): o.label for _i, _k, q, _s, _n in plan for o in q.options
    }
    numbers = numbering if numbering is not None else {}
    for _i, kind, q, _s, _n in plan:
        if kind == "single":
            numbers.setdefault(q.key, option_numbers(q))
    stmt = export_stmt(survey, options, exprs)
    position = {name: p for p, name in enumerate(stmt.selected_columns.keys())}
    # Per question column: where its value (and "don't know" flag) sit in a result row, and the
    # translation of a stored value into what the file shows (None: shown as it is).
    readings: list[tuple[int, str, int, int, dict | None, str | None]] = []
    for i, kind, q, sub, (value_name, dk_name) in plan:
        shown: dict | None = None
        chosen: str | None = None
        if kind == "single" and labels:
            shown = {key: option_labels.get((q.key, key), key) for key in option_numbers(q)} | {OTHER: other_label}
        elif kind == "single" and options.numeric:
            shown = numbers[q.key]
        elif kind == "multiple" and labels:
            chosen = other_label if sub == OTHER else option_labels.get((q.key, sub), sub)
        readings.append((i, kind, position[value_name], position.get(dk_name, -1), shown, chosen))
    status_slot, email_slot = index.get("status"), index.get("email")
    width = len(cols)
    attribute_sets: dict[str | None, tuple[str | None, ...]] = {}
    dates: dict[datetime | None, str | None] = {}
    result = session.connection().execute(stmt.execution_options(yield_per=BATCH))
    for done, r in enumerate(result, start=1):
        if progress is not None and done % BATCH == 0:
            progress(done)
        row: list = [None] * width
        row[id_slot] = r.id
        when = r.at
        # Responses share a few sets of attributes (and in an anonymous survey a few days): each
        # is worked out once.
        values = attribute_sets.get(r.attributes)
        if values is None:
            values = attribute_sets[r.attributes] = _attribute_values(survey, json.loads(r.attributes or "{}"))
        shown_date = dates.get(when)
        if shown_date is None:
            if anonymised is not None:
                span = period_of(anonymised.periods, to_local(when).date())
                shown_date = span.label if span else None
            else:
                shown_date = local_time(when, "day") if when else None  # the Swedish day
            dates[when] = shown_date
        if anonymised is not None:
            published = anonymised.shown[(shown_date, *values)]
            row[date_slot], values = published[0], published[1:]
        else:
            row[date_slot] = shown_date
        if status_slot is not None:
            row[status_slot] = str(r.status.label) if labels else r.status.value
        for slot, shown_value in zip(attribute_slots, values, strict=True):
            row[slot] = shown_value
        if email_slot is not None:
            row[email_slot], row[email_slot + 1] = r.email, r.name
        for i, kind, at, dk_at, shown, chosen in readings:
            value = r[at]
            if kind == "number":
                if dk_at >= 0 and r[dk_at]:
                    value = dont_know
                elif value is not None and value.is_integer():
                    value = int(value)
            elif value is None:
                pass
            elif shown is not None:
                found = shown.get(value)
                if found is None and options.numeric:
                    # A stored option the definition no longer has: the next number, labelled with its key
                    # in the SPSS and R files (``numbering``), so no answer is lost and R still reads numbers.
                    found = shown[value] = max(shown.values(), default=0) + 1
                value = value if found is None else found
            elif chosen is not None:
                # Answered without this option: "not chosen"; not answered at all stays empty (None above).
                value = chosen if value else not_chosen
            row[i] = value
        # neutralise(), inline: this runs for every value of every response
        yield ["'" + v if v.__class__ is str and v.startswith(FORMULA_STARTS) else v for v in row]


def csv_chunks(
    session: Session, survey: Survey, options: ExportOptions, progress: Progress | None = None
) -> Iterator[bytes]:
    """The CSV file in chunks: BOM first (so Excel reads UTF-8), CRLF line ends."""
    yield "\ufeff".encode("utf-8")
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=options.separator, lineterminator="\r\n")
    for i, row in enumerate(rows(session, survey, options, progress=progress), start=1):
        writer.writerow(["" if v is None else v for v in row])
        if i % 500 == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def anonymity_notes(survey: Survey, anonymised: Anonymised | None) -> list[str]:
    """What the codebook says about an anonymous survey's dates and merged values."""
    if anonymised is None:
        return []
    k = anonymised.threshold
    notes = [
        rule_text(survey),
        str(
            _(
                "datum: perioden (vecka eller längre) då svaret skickades in; varje period har minst %(k)s svar.",
                k=k,
            )
        ),
    ]
    if anonymised.merged:
        notes.append(
            str(
                _(
                    "%(mark)s: sammanslaget värde. Där en kombination av period och bakgrundsuppgifter delades av "
                    "färre än %(k)s svar har värden ersatts med %(mark)s (i %(n)s svar), så att varje kombination "
                    "i filen delas av minst %(k)s svar.",
                    mark=MERGED,
                    n=anonymised.merged,
                    k=k,
                )
            )
        )
    return notes


def described(c: Column) -> str:
    """A column's question text (with its matrix row or option), or the attribute's name."""
    q = c.question
    if q is None:
        return c.name.removeprefix("attr:")
    if c.sub == "other_text":
        return f"{q.text} – {_('Annat')} ({_('text')})"
    if c.sub == OTHER:
        return f"{q.text} – {_('Annat')}"
    if c.sub:
        return f"{q.text} – {q.row_label(c.sub) if q.type == QuestionType.MATRIX else q.option_label(c.sub)}"
    return q.text


def write_xlsx(
    session: Session, survey: Survey, options: ExportOptions, out: IO[bytes], progress: Progress | None = None
) -> None:
    """The XLSX workbook: sheet "Svar" with the rows, sheet "Kodbok" with questions, codes and labels."""
    anonymised = anonymise(session, survey) if survey.anonymous else None
    write_workbook(
        out,
        [
            (str(_("Svar")), rows(session, survey, options, anonymised, progress)),
            (str(_("Kodbok")), codebook_rows(survey, options, anonymised)),
        ],
    )


def codebook_rows(survey: Survey, options: ExportOptions, anonymised: Anonymised | None) -> Iterator[list]:
    """The codebook: each variable with its question, then its codes and labels; then how an
    anonymous survey's file was made anonymous."""
    yield [str(_("Variabel")), str(_("Fråga")), str(_("Kod")), str(_("Etikett"))]
    for c in columns(
        survey, ExportOptions(include_partial=options.include_partial, include_identity=options.include_identity)
    ):
        yield [neutralise(v) for v in (c.name.removeprefix("attr:"), described(c), None, None)]
        for code, label in c.codes:
            yield [None, None, neutralise(code), neutralise(label)]
    notes = anonymity_notes(survey, anonymised)
    if notes:
        yield []
        yield [str(_("Anonymitet"))]
        for note in notes:
            yield [None, neutralise(note)]


def xlsx_file(session: Session, survey: Survey, options: ExportOptions) -> IO[bytes]:
    """The workbook in a temporary file (spilled to disk when large), rewound for reading."""
    with contextlib.ExitStack() as on_error:
        spool = on_error.enter_context(tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024))
        write_xlsx(session, survey, options, spool)
        spool.seek(0)
        on_error.pop_all()  # written: the caller reads and closes it
    return spool


def filename(survey: Survey, options: ExportOptions) -> str:
    return f"enkat-{survey.id}-svar.{options.format}"
