"""Every figure of the results pages, computed by the database.

The statements are named (``*_stmt``) and kept together, as listmonk keeps its ``queries.sql``:
each one is a ``GROUP BY`` over the survey's answers or participants. Python only turns the few
aggregated rows into what the templates show (labels, percentages of counts the database returned,
the small-group rule), never rows of individual responses.

Runs on PostgreSQL and SQLite: the JSON attribute lookups go through SQLAlchemy's JSON type, the
median is ``percentile_cont`` on PostgreSQL and a window over the value distribution on SQLite.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask_babel import lazy_gettext as _
from sqlalchemy import Integer, and_, case, distinct, func, or_, select, text, union
from sqlalchemy.orm import Session, aliased

from services.survey.results.definition import (
    DONT_KNOW,
    NUMERIC_TYPES,
    OTHER,
    TEXT_TYPES,
    Choice,
    Question,
    questions,
)
from shared.db import is_postgres
from shared.models import Answer, OutboxMail, Participant, Response, Suppression, Survey

# The outbox kind of the survey service's reminder mails (``services.survey.invitations``).
REMINDER_KINDS = ("survey_reminder",)
MISSING = "\x00missing"  # group key of responses without a value for the attribute
TEXTS_PER_PAGE = 25


# --- Scope -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filter:
    """Restrict results to responses whose report attribute has one value (empty: all responses)."""

    attribute: str | None = None
    value: str | None = None

    @property
    def active(self) -> bool:
        return bool(self.attribute) and self.value is not None

    def as_args(self) -> dict:
        return {"filter": f"{self.attribute}:{self.value}"} if self.active else {}

    @classmethod
    def parse(cls, raw: str | None, allowed: list[str]) -> "Filter":
        """``attribute:value`` from a query string; anything unknown means no filter."""
        if not raw or ":" not in raw:
            return cls()
        attribute, value = raw.split(":", 1)
        return cls(attribute, value) if attribute in allowed else cls()


def attribute_of(column, name: str):
    """The text value of one key of a JSON attributes column (``->>`` / ``json_extract``)."""
    return column[name].as_string()


def _scope(survey_id: int, flt: Filter, include_partial: bool = False) -> list:
    """Conditions on ``responses`` for the responses a figure is about."""
    conditions = [Response.survey_id == survey_id]
    if not include_partial:
        conditions.append(Response.status == "complete")
    if flt.active:
        conditions.append(attribute_of(Response.attributes, flt.attribute) == flt.value)
    return conditions


def _answers(*columns):
    """``SELECT columns FROM answers JOIN responses``: the start of every answer statement."""
    return select(*columns).select_from(Answer).join(Response, Response.id == Answer.response_id)


# --- Named statements ----------------------------------------------------------------------------


def response_count_stmt(survey_id: int, flt: Filter):
    return select(func.count()).select_from(Response).where(*_scope(survey_id, flt))


def attribute_values_stmt(survey_id: int, attribute: str):
    value = attribute_of(Response.attributes, attribute)
    return (
        select(value.label("value"), func.count().label("n"))
        .where(*_scope(survey_id, Filter()))
        .group_by(value)
        .order_by(value)
    )


def answer_counts_stmt(survey_id: int, flt: Filter, keys: list[str]):
    """How often each option / value was chosen, per question and matrix row."""
    return (
        _answers(Answer.question_key, Answer.row_key, Answer.option_key, Answer.number_value, func.count().label("n"))
        .where(*_scope(survey_id, flt), Answer.question_key.in_(keys))
        .group_by(Answer.question_key, Answer.row_key, Answer.option_key, Answer.number_value)
    )


def respondents_per_question_stmt(survey_id: int, flt: Filter):
    """How many responses answered each question (a `multiple` answer has several rows)."""
    return (
        _answers(Answer.question_key, func.count(distinct(Answer.response_id)).label("n"))
        .where(*_scope(survey_id, flt))
        .group_by(Answer.question_key)
    )


def number_stats_stmt(survey_id: int, flt: Filter, keys: list[str]):
    """n, mean, min, max and the NPS score per numeric question (and matrix row), "don't know" apart."""
    value = Answer.number_value
    promoters = func.sum(case((value >= 9, 1), else_=0))
    detractors = func.sum(case((value <= 6, 1), else_=0))
    return (
        _answers(
            Answer.question_key,
            Answer.row_key,
            func.count(value).label("n"),
            func.avg(value).label("mean"),
            func.min(value).label("min"),
            func.max(value).label("max"),
            promoters.label("promoters"),
            detractors.label("detractors"),
            ((promoters - detractors) * 100.0 / func.count(value)).label("nps"),
        )
        .where(*_scope(survey_id, flt), Answer.question_key.in_(keys), value.is_not(None))
        .group_by(Answer.question_key, Answer.row_key)
    )


def medians_stmt(survey_id: int, flt: Filter, keys: list[str], postgres: bool):
    """The median per numeric question (and matrix row)."""
    where = (*_scope(survey_id, flt), Answer.question_key.in_(keys), Answer.number_value.is_not(None))
    if postgres:
        return (
            _answers(
                Answer.question_key,
                Answer.row_key,
                func.percentile_cont(0.5).within_group(Answer.number_value).label("median"),
            )
            .where(*where)
            .group_by(Answer.question_key, Answer.row_key)
        )
    # SQLite has no percentile_cont: count each distinct value, run a cumulative sum over them and
    # take the value(s) at the middle position(s) — exact, and it sorts values, not answers.
    row = func.coalesce(Answer.row_key, "")
    dist = (
        _answers(Answer.question_key.label("q"), row.label("r"), Answer.number_value.label("v"), func.count().label("c"))
        .where(*where)
        .group_by(Answer.question_key, row, Answer.number_value)
        .subquery("dist")
    )
    part = (dist.c.q, dist.c.r)
    cum = select(
        dist.c.q,
        dist.c.r,
        dist.c.v,
        dist.c.c,
        func.sum(dist.c.c).over(partition_by=part, order_by=dist.c.v).label("cum"),
        func.sum(dist.c.c).over(partition_by=part).label("n"),
    ).subquery("cum")
    low = func.cast((cum.c.n + 1) // 2, Integer)
    high = func.cast((cum.c.n + 2) // 2, Integer)
    at = lambda pos: and_(cum.c.cum - cum.c.c < pos, cum.c.cum >= pos)  # noqa: E731
    return (
        select(cum.c.q, func.nullif(cum.c.r, "").label("r"), func.avg(cum.c.v).label("median"))
        .where(or_(at(low), at(high)))
        .group_by(cum.c.q, cum.c.r)
    )


def text_answers_stmt(survey_id: int, flt: Filter, question_key: str, search: str | None):
    """Free texts of one question (text answers, or the "other" texts of a choice question)."""
    stmt = _answers(Answer.text_value).where(
        *_scope(survey_id, flt),
        Answer.question_key == question_key,
        Answer.text_value.is_not(None),
        Answer.text_value != "",
    )
    if search:
        stmt = stmt.where(func.lower(Answer.text_value).contains(search.lower(), autoescape=True))
    return stmt


def participant_counts_stmt(survey_id: int, group=None):
    """Invited, started, completed, declined and bounced participants (per group when given)."""
    counted = lambda cond: func.coalesce(func.sum(case((cond, 1), else_=0)), 0)  # noqa: E731
    columns = [
        func.count().label("participants"),
        counted(Participant.invited_at.is_not(None)).label("invited"),
        counted(or_(Participant.started_at.is_not(None), Participant.completed_at.is_not(None))).label("started"),
        counted(Participant.completed_at.is_not(None)).label("completed"),
        counted(Participant.declined_at.is_not(None)).label("declined"),
        counted(Suppression.id.is_not(None)).label("bounced"),
    ]
    stmt = (
        select(*([group.label("value")] if group is not None else []), *columns)
        .select_from(Participant)
        .outerjoin(Suppression, Suppression.email == func.lower(Participant.email))
        .where(Participant.survey_id == survey_id)
    )
    return stmt.group_by(group).order_by(group) if group is not None else stmt


def participant_attribute_keys_stmt(postgres: bool):
    if postgres:
        return text("SELECT DISTINCT json_object_keys(attributes) AS key FROM participants WHERE survey_id = :survey_id ORDER BY 1")
    return text(
        "SELECT DISTINCT j.key AS key FROM participants, json_each(participants.attributes) AS j "
        "WHERE participants.survey_id = :survey_id ORDER BY 1"
    )


def _day(column, postgres: bool):
    return func.date(func.timezone("UTC", column)) if postgres else func.date(column)


def completions_per_day_stmt(survey_id: int, postgres: bool):
    day = _day(Participant.completed_at, postgres)
    return (
        select(day.label("day"), func.count().label("n"))
        .where(Participant.survey_id == survey_id, Participant.completed_at.is_not(None))
        .group_by(day)
        .order_by(day)
    )


def invitation_days_stmt(survey_id: int, postgres: bool):
    day = _day(Participant.invited_at, postgres)
    return select(day.label("day")).where(Participant.survey_id == survey_id, Participant.invited_at.is_not(None)).group_by(day)


def reminder_days_stmt(survey_id: int, postgres: bool):
    """Days reminders went out: from the outbox (every round) and the participants' last reminder.

    The outbox does not record the survey, so its reminders are matched by the participants'
    addresses and counted only from this survey's first invitation on.
    """
    first_invitation = (
        select(func.min(Participant.invited_at)).where(Participant.survey_id == survey_id).scalar_subquery()
    )
    from_outbox = select(_day(OutboxMail.created_at, postgres).label("day")).where(
        OutboxMail.kind.in_(REMINDER_KINDS),
        OutboxMail.created_at >= first_invitation,
        func.lower(OutboxMail.recipient).in_(
            select(func.lower(Participant.email)).where(Participant.survey_id == survey_id)
        ),
    )
    from_participants = select(_day(Participant.last_reminded_at, postgres).label("day")).where(
        Participant.survey_id == survey_id, Participant.last_reminded_at.is_not(None)
    )
    return union(from_outbox, from_participants)


# --- Dashboard ----------------------------------------------------------------------------------


@dataclass
class Counts:
    participants: int = 0
    invited: int = 0
    started: int = 0
    completed: int = 0
    declined: int = 0
    bounced: int = 0
    value: str | None = None

    @property
    def response_rate(self) -> float | None:
        """Completed as a percentage of those invited."""
        return 100.0 * self.completed / self.invited if self.invited else None


@dataclass
class Day:
    day: date
    completed: int
    invitation: bool
    reminder: bool


@dataclass
class Dashboard:
    totals: Counts
    by_attribute: dict[str, list[Counts]]
    days: list[Day]


def _as_date(value) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _counts(row) -> Counts:
    data = row._asdict()
    return Counts(**{k: (int(v) if k != "value" and v is not None else v) for k, v in data.items()})


def dashboard(session: Session, survey_id: int, today: date | None = None) -> Dashboard:
    """Who has answered: totals, the same per participant attribute, and completions per day."""
    postgres = is_postgres(session)
    totals = _counts(session.execute(participant_counts_stmt(survey_id)).one())
    by_attribute = {}
    for key in session.scalars(participant_attribute_keys_stmt(postgres), {"survey_id": survey_id}):
        group = attribute_of(Participant.attributes, key)
        by_attribute[key] = [_counts(r) for r in session.execute(participant_counts_stmt(survey_id, group))]

    completed = {_as_date(r.day): int(r.n) for r in session.execute(completions_per_day_stmt(survey_id, postgres))}
    invitations = {_as_date(d) for d in session.scalars(invitation_days_stmt(survey_id, postgres))}
    reminders = {_as_date(d) for d in session.scalars(reminder_days_stmt(survey_id, postgres))}
    marked = completed.keys() | invitations | reminders
    days = []
    if marked:
        # One bar per calendar day, including quiet days, so the chart's time axis is honest.
        start = min(invitations) if invitations else min(marked)
        end = max(marked | ({today} if today and completed else set()))
        end = min(end, start + timedelta(days=366))
        current = start
        while current <= end:
            days.append(Day(current, completed.get(current, 0), current in invitations, current in reminders))
            current += timedelta(days=1)
    return Dashboard(totals=totals, by_attribute=by_attribute, days=days)


# --- Per-question results -----------------------------------------------------------------------


@dataclass
class Bar:
    key: str
    label: str
    count: int
    percent: float | None  # of respondents to the question (or matrix row)
    percent_of_answers: float | None = None  # `multiple` only


@dataclass
class NumberStats:
    n: int = 0
    mean: float | None = None
    median: float | None = None
    min: float | None = None
    max: float | None = None
    nps: float | None = None
    promoters: int = 0
    detractors: int = 0


@dataclass
class RowResult:
    key: str
    label: str
    bars: list[Bar]
    dont_know: int
    respondents: int
    stats: NumberStats


@dataclass
class QuestionResult:
    question: Question
    respondents: int
    bars: list[Bar] = field(default_factory=list)
    dont_know: int = 0
    stats: NumberStats | None = None
    rows: list[RowResult] = field(default_factory=list)
    other_count: int = 0
    texts: list[str] = field(default_factory=list)  # the first few free texts / "other" texts
    text_count: int = 0


@dataclass
class Results:
    total: int
    questions: list[QuestionResult]
    hidden: bool = False  # the filter picks out (or leaves out) too few responses to show


def _pct(part: int, whole: int) -> float | None:
    return 100.0 * part / whole if whole else None


def _value_key(option_key: str | None, number) -> str:
    if option_key is not None:
        return option_key
    if number is None:
        return ""
    return str(int(number)) if float(number).is_integer() else repr(float(number))


def _bars(q: Question, counts: dict[str, int], respondents: int) -> list[Bar]:
    """One bar per defined option or scale point (zeros included), then anything else found."""
    if q.type in ("scale", "nps", "matrix"):
        defined = [Choice(str(v), str(v)) for v in q.scale_values]
        if defined:
            defined[0] = Choice(defined[0].key, f"{defined[0].label} {q.min_label}".strip() if q.min_label else defined[0].label)
            defined[-1] = Choice(defined[-1].key, f"{defined[-1].label} {q.max_label}".strip() if q.max_label else defined[-1].label)
    else:
        defined = list(q.options) + ([Choice(OTHER, _("Annat"))] if q.other else [])
    known = {c.key for c in defined}
    extra = [Choice(k, k) for k in sorted(counts) if k not in known and k != DONT_KNOW]
    answers = sum(n for k, n in counts.items() if k != DONT_KNOW)
    return [
        Bar(
            c.key,
            c.label,
            counts.get(c.key, 0),
            _pct(counts.get(c.key, 0), respondents),
            _pct(counts.get(c.key, 0), answers) if q.type == "multiple" else None,
        )
        for c in defined + extra
    ]


def filter_allowed(session: Session, survey: Survey, flt: Filter) -> bool:
    """A filter may not single out a small group — nor leave one out, which the totals would reveal."""
    if not flt.active:
        return True
    total = session.scalar(response_count_stmt(survey.id, Filter()))
    picked = session.scalar(response_count_stmt(survey.id, flt))
    rest = total - picked
    return picked >= survey.min_group_size and (rest == 0 or rest >= survey.min_group_size)


def question_results(session: Session, survey: Survey, flt: Filter = Filter(), texts_shown: int = 5) -> Results:
    """Counts, percentages, distributions, means, medians and NPS for every question."""
    qs = questions(survey.definition)
    total = session.scalar(response_count_stmt(survey.id, flt))
    if not filter_allowed(session, survey, flt):
        return Results(total=0, questions=[], hidden=True)
    postgres = is_postgres(session)
    counted_keys = [q.key for q in qs if q.type not in TEXT_TYPES and q.type != "number"]
    numeric_keys = [q.key for q in qs if q.type in NUMERIC_TYPES]

    respondents = {r.question_key: r.n for r in session.execute(respondents_per_question_stmt(survey.id, flt))}
    counts: dict[tuple[str, str | None], dict[str, int]] = {}
    for r in session.execute(answer_counts_stmt(survey.id, flt, counted_keys)):
        counts.setdefault((r.question_key, r.row_key), {})[_value_key(r.option_key, r.number_value)] = int(r.n)
    stats: dict[tuple[str, str | None], NumberStats] = {}
    for r in session.execute(number_stats_stmt(survey.id, flt, numeric_keys)):
        stats[(r.question_key, r.row_key)] = NumberStats(
            n=int(r.n),
            mean=float(r.mean) if r.mean is not None else None,
            min=r.min,
            max=r.max,
            nps=float(r.nps) if r.nps is not None else None,
            promoters=int(r.promoters or 0),
            detractors=int(r.detractors or 0),
        )
    for r in session.execute(medians_stmt(survey.id, flt, numeric_keys, postgres)):
        stats.setdefault((r[0], r[1]), NumberStats()).median = float(r[2]) if r[2] is not None else None

    out = []
    for q in qs:
        n = int(respondents.get(q.key, 0))
        result = QuestionResult(question=q, respondents=n)
        own = counts.get((q.key, None), {})
        if q.type in ("single", "multiple", "scale", "nps"):
            result.dont_know = own.get(DONT_KNOW, 0)
            result.bars = _bars(q, own, n)
        if q.type in ("scale", "nps", "number"):
            result.stats = stats.get((q.key, None), NumberStats())
        if q.type == "matrix":
            for row in q.rows:
                row_counts = counts.get((q.key, row.key), {})
                row_n = sum(row_counts.values())
                result.rows.append(
                    RowResult(row.key, row.label, _bars(q, row_counts, row_n), row_counts.get(DONT_KNOW, 0), row_n,
                              stats.get((q.key, row.key), NumberStats()))
                )
        if q.type in TEXT_TYPES or q.other:
            result.other_count = own.get(OTHER, 0)
            if texts_shown:
                page = text_answers(session, survey, q.key, flt, None, 1, per_page=texts_shown)
                result.texts, result.text_count = page.items, page.total
        out.append(result)
    return Results(total=total, questions=out)


@dataclass
class TextPage:
    items: list[str]
    total: int
    page: int
    pages: int
    search: str | None = None


def text_answers(session: Session, survey: Survey, question_key: str, flt: Filter, search: str | None,
                 page: int, per_page: int = TEXTS_PER_PAGE) -> TextPage:
    """One page of the free texts of a question, optionally only those containing ``search``."""
    stmt = text_answers_stmt(survey.id, flt, question_key, search)
    total = session.scalar(select(func.count()).select_from(stmt.subquery()))
    pages = max(1, math.ceil(total / per_page))
    page = min(max(1, page), pages)
    items = list(session.scalars(stmt.order_by(Answer.id).limit(per_page).offset((page - 1) * per_page)))
    return TextPage(items=items, total=total, page=page, pages=pages, search=search)


# --- Breakdown ----------------------------------------------------------------------------------


class BreakdownError(ValueError):
    """The question or the grouping asked for cannot be used in a breakdown."""


@dataclass
class Cell:
    count: int
    percent: float | None


@dataclass
class GroupRow:
    key: str
    label: str
    size: int | None  # None when hidden
    cells: list[Cell]
    hidden: bool = False
    protects: bool = False  # hidden only so that the totals do not reveal another hidden group


@dataclass
class Breakdown:
    question: Question
    row: Choice | None
    by_label: str
    columns: list[Choice]
    groups: list[GroupRow]
    total: GroupRow | None
    threshold: int


def _find_item(qs: list[Question], item: str) -> tuple[Question, Choice | None]:
    key, _dot, row_key = item.partition(".")
    for q in qs:
        if q.key == key and q.type in ("single", "multiple", "scale", "nps", "matrix"):
            if q.type == "matrix":
                row = next((r for r in q.rows if r.key == row_key), None)
                if row is None:
                    break
                return q, row
            if not row_key:
                return q, None
    raise BreakdownError(item)


def _columns(q: Question) -> list[Choice]:
    bars = _bars(q, {}, 0)
    columns = [Choice(b.key, b.label) for b in bars]
    if q.dont_know:
        columns.append(Choice(DONT_KNOW, _("Vet inte")))
    return columns


def _item_conditions(answer, q: Question, row: Choice | None) -> list:
    conditions = [answer.question_key == q.key]
    if row is not None:
        conditions.append(answer.row_key == row.key)
    return conditions


def breakdown_cells_stmt(survey_id: int, flt: Filter, q: Question, row: Choice | None, group_columns, join_other=None):
    """Counts per group and answer value, and per group the number of responses (for row %)."""
    stmt = _answers(*group_columns, Answer.option_key, Answer.number_value, func.count().label("n"))
    if join_other is not None:
        stmt = stmt.join(*join_other)
    return stmt.where(*_scope(survey_id, flt), *_item_conditions(Answer, q, row)).group_by(
        *group_columns, Answer.option_key, Answer.number_value
    )


def breakdown_sizes_stmt(survey_id: int, flt: Filter, q: Question, row: Choice | None, group_columns, join_other=None):
    stmt = _answers(*group_columns, func.count(distinct(Answer.response_id)).label("n"))
    if join_other is not None:
        stmt = stmt.join(*join_other)
    return stmt.where(*_scope(survey_id, flt), *_item_conditions(Answer, q, row)).group_by(*group_columns)


def breakdown(session: Session, survey: Survey, item: str, by: str, flt: Filter = Filter()) -> Breakdown:
    """Cross-table of a closed question (``item``) by ``attr:NAME`` or ``q:ITEM``, with the small-group rule.

    Groups with fewer responses than the survey's ``min_group_size`` are hidden; when exactly one
    group would be hidden, the next smallest is hidden too, or total minus the shown groups would
    give the hidden one away. Raises ``BreakdownError`` for an unknown item or grouping.
    """
    qs = questions(survey.definition)
    q, row = _find_item(qs, item)
    kind, _colon, name = by.partition(":")
    threshold = max(1, survey.min_group_size)
    columns = _columns(q)

    if kind == "attr" and name in (survey.report_attributes or []):
        group_columns = (attribute_of(Response.attributes, name).label("g"),)
        join_other = None
        by_label = name
        group_label = lambda key: key  # noqa: E731
        group_order = None
        total_condition = []
    elif kind == "q":
        q2, row2 = _find_item(qs, name)
        if (q2.key, row2) == (q.key, row):
            raise BreakdownError(by)
        other = aliased(Answer)
        group_columns = (other.option_key.label("g"), other.number_value.label("gn"))
        join_other = (other, and_(other.response_id == Answer.response_id, *_item_conditions(other, q2, row2)))
        by_label = q2.text + (f" – {row2.label}" if row2 else "")
        q2_columns = _columns(q2)
        labels = {c.key: c.label for c in q2_columns}
        group_label = lambda key: labels.get(key, key)  # noqa: E731
        group_order = [c.key for c in q2_columns]
        answered_both = select(other.response_id).where(*_item_conditions(other, q2, row2))
        total_condition = [Answer.response_id.in_(answered_both)]
    else:
        raise BreakdownError(by)

    def group_key(r) -> str:
        if kind == "attr":
            return MISSING if r.g is None else str(r.g)
        return _value_key(r.g, r.gn)

    cells: dict[str, dict[str, int]] = {}
    for r in session.execute(breakdown_cells_stmt(survey.id, flt, q, row, group_columns, join_other)):
        cells.setdefault(group_key(r), {})[_value_key(r.option_key, r.number_value)] = int(r.n)
    sizes = {group_key(r): int(r.n) for r in session.execute(breakdown_sizes_stmt(survey.id, flt, q, row, group_columns, join_other))}

    total_cells = {
        _value_key(r.option_key, r.number_value): int(r.n)
        for r in session.execute(
            _answers(Answer.option_key, Answer.number_value, func.count().label("n"))
            .where(*_scope(survey.id, flt), *_item_conditions(Answer, q, row), *total_condition)
            .group_by(Answer.option_key, Answer.number_value)
        )
    }
    total_size = session.scalar(
        _answers(func.count(distinct(Answer.response_id))).where(
            *_scope(survey.id, flt), *_item_conditions(Answer, q, row), *total_condition
        )
    ) or 0

    if group_order:
        keys = [k for k in group_order if k in sizes] + sorted(k for k in sizes if k not in group_order)
    else:
        keys = sorted(sizes, key=lambda k: (k == MISSING, k))
    hidden = {k for k in keys if sizes[k] < threshold}
    protecting = set()
    if len(hidden) == 1 and len(keys) > 1:
        protecting = {min((k for k in keys if k not in hidden), key=lambda k: (sizes[k], k))}
    hidden |= protecting

    def make_row(key: str, label: str, size: int, counts: dict[str, int], hide: bool) -> GroupRow:
        if hide:
            return GroupRow(key, label, None, [], hidden=True, protects=key in protecting)
        return GroupRow(key, label, size, [Cell(counts.get(c.key, 0), _pct(counts.get(c.key, 0), size)) for c in columns])

    groups = [
        make_row(k, _("Uppgift saknas") if k == MISSING else group_label(k), sizes[k], cells.get(k, {}), k in hidden)
        for k in keys
    ]
    total = make_row("", _("Totalt"), total_size, total_cells, total_size < threshold)
    return Breakdown(question=q, row=row, by_label=by_label, columns=columns, groups=groups, total=total,
                     threshold=threshold)


def report_attribute_values(session: Session, survey: Survey) -> dict[str, list[str]]:
    """The values each report attribute takes among complete responses (for the filter choices)."""
    return {
        name: [r.value for r in session.execute(attribute_values_stmt(survey.id, name)) if r.value is not None]
        for name in (survey.report_attributes or [])
    }
