"""Every figure of the results pages, computed by the database.

The statements are named (``*_stmt``) and kept together, as listmonk keeps its ``queries.sql``:
each one is a ``GROUP BY`` over the survey's answers or participants. Python only turns the few
aggregated rows into what the templates show (labels, percentages of counts the database returned,
the small-group rule), never rows of individual responses.

Runs on PostgreSQL and SQLite with the same statements: the JSON attribute lookups go through
SQLAlchemy's JSON type, and the median is a cumulative window over the value distribution (equal to
``percentile_cont(0.5)``, which a test checks on PostgreSQL).
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask_babel import lazy_gettext as _
from sqlalchemy import Float, Integer, String, Text, and_, case, cast, func, literal, null, or_, select, text, union, union_all
from sqlalchemy.orm import Session, aliased

from services.survey.results.definition import (
    DONT_KNOW,
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
# The lowest threshold the CLI accepts for an anonymous survey.
ANONYMOUS_MIN_GROUP_SIZE = 3
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


def distribution_cte(survey_id: int, flt: Filter):
    """How often each option / value / text was given, per question and matrix row: one pass over the answers."""
    return (
        _answers(
            Answer.question_key.label("q"),
            Answer.row_key.label("r"),
            Answer.option_key.label("o"),
            Answer.number_value.label("v"),
            func.count().label("c"),
        )
        .where(*_scope(survey_id, flt))
        .group_by(Answer.question_key, Answer.row_key, Answer.option_key, Answer.number_value)
        .cte("dist")
    )


def _none(type_=Float):
    return cast(null(), type_)


def question_figures_stmt(survey_id: int, flt: Filter):
    """Every figure of the results page in one statement, built on the answer distribution.

    Rows of three kinds: ``count`` (question, row, option/value, n); ``stats`` (n, mean, min, max,
    NPS promoters/detractors/score per numeric question and matrix row, "don't know" apart);
    ``median``. The median comes from the distribution: a cumulative sum over the distinct values
    finds the value(s) at the middle position(s) — exactly ``percentile_cont(0.5)``, the same SQL on
    PostgreSQL and SQLite, and it sorts a few distinct values instead of every answer again.
    """
    dist = distribution_cte(survey_id, flt)
    counts = select(
        literal("count").label("kind"), dist.c.q, dist.c.r, dist.c.o, dist.c.v, dist.c.c.label("n"),
        _none().label("mean"), _none().label("median"), _none().label("min"), _none().label("max"),
        _none().label("promoters"), _none().label("detractors"), _none().label("nps"),
    )
    n = func.sum(dist.c.c)
    promoters = func.sum(case((dist.c.v >= 9, dist.c.c), else_=0))
    detractors = func.sum(case((dist.c.v <= 6, dist.c.c), else_=0))
    stats = (
        select(
            literal("stats"), dist.c.q, dist.c.r, _none(String), _none(), n,
            func.sum(dist.c.v * dist.c.c) * 1.0 / n, _none(), func.min(dist.c.v), func.max(dist.c.v),
            promoters, detractors, (promoters - detractors) * 100.0 / n,
        )
        .where(dist.c.v.is_not(None))
        .group_by(dist.c.q, dist.c.r)
    )
    row = func.coalesce(dist.c.r, "")
    cum = (
        select(
            dist.c.q, dist.c.r, dist.c.v, dist.c.c,
            func.sum(dist.c.c).over(partition_by=(dist.c.q, row), order_by=dist.c.v).label("cum"),
            func.sum(dist.c.c).over(partition_by=(dist.c.q, row)).label("total"),
        )
        .where(dist.c.v.is_not(None))
        .subquery("cum")
    )
    total = cast(cum.c.total, Integer)  # SUM is NUMERIC on PostgreSQL; the positions are whole numbers
    low, high = (total + 1) // 2, total // 2 + 1
    at = lambda pos: and_(cum.c.cum - cum.c.c < pos, cum.c.cum >= pos)  # noqa: E731
    medians = (
        select(
            literal("median"), cum.c.q, cum.c.r, _none(String), _none(), _none(Integer), _none(),
            func.avg(cum.c.v), _none(), _none(), _none(), _none(), _none(),
        )
        .where(or_(at(low), at(high)))
        .group_by(cum.c.q, cum.c.r)
    )
    return union_all(counts, stats, medians)


def respondents_stmt(survey_id: int, flt: Filter, keys: list[str]):
    """How many responses answered each `multiple` question (it has one row per chosen option)."""
    parts = []
    for key in keys:
        answered = select(Answer.id).where(Answer.response_id == Response.id, Answer.question_key == key).exists()
        parts.append(select(literal(key).label("q"), func.count().label("n")).select_from(Response)
                     .where(*_scope(survey_id, flt), answered))
    return union_all(*parts)


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
    # Only JSON objects have keys (json_object_keys raises on anything else).
    if postgres:
        return text(
            "SELECT DISTINCT json_object_keys(attributes) AS key FROM participants "
            "WHERE survey_id = :survey_id AND json_typeof(attributes) = 'object' ORDER BY 1"
        )
    return text(
        "SELECT DISTINCT j.key AS key FROM participants, json_each(participants.attributes) AS j "
        "WHERE participants.survey_id = :survey_id AND json_type(participants.attributes) = 'object' ORDER BY 1"
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
        end = max(marked)
        if today is not None and end < today <= end + timedelta(days=31):
            end = today  # a survey still collecting: show the quiet days up to today
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


def filter_allowed(session: Session, survey: Survey, flt: Filter, groups: dict[str, dict[str, int]] | None = None) -> bool:
    """A filter may not single out a small group — nor leave one out, which the totals would reveal."""
    if not flt.active:
        return True
    groups = groups if groups is not None else response_groups(session, survey)
    values = groups.get(flt.attribute, {})
    total = session.scalar(response_count_stmt(survey.id, Filter()))
    picked = values.get(flt.value, 0)
    rest = total - picked
    return picked >= survey.min_group_size and (rest == 0 or rest >= survey.min_group_size)


def question_results(session: Session, survey: Survey, flt: Filter = Filter(), texts_shown: int = 5,
                     groups: dict[str, dict[str, int]] | None = None) -> Results:
    """Counts, percentages, distributions, means, medians and NPS for every question.

    ``groups`` (from ``response_groups``) saves a query when the caller has them already.
    """
    qs = questions(survey.definition)
    if not filter_allowed(session, survey, flt, groups):
        return Results(total=0, questions=[], hidden=True)
    total = session.scalar(response_count_stmt(survey.id, flt))

    counts: dict[tuple[str, str | None], dict[str, int]] = {}
    stats: dict[tuple[str, str | None], NumberStats] = {}
    for r in session.execute(question_figures_stmt(survey.id, flt)):
        key = (r.q, r.r)
        if r.kind == "count":
            counts.setdefault(key, {})[_value_key(r.o, r.v)] = int(r.n)
        elif r.kind == "stats":
            figures = stats.setdefault(key, NumberStats())
            figures.n, figures.mean, figures.min, figures.max = int(r.n), float(r.mean), r.min, r.max
            figures.promoters, figures.detractors, figures.nps = int(r.promoters), int(r.detractors), float(r.nps)
        else:
            stats.setdefault(key, NumberStats()).median = float(r.median)
    multiple = [q.key for q in qs if q.type == "multiple"]
    respondents = {r.q: int(r.n) for r in session.execute(respondents_stmt(survey.id, flt, multiple))} if multiple else {}

    out = []
    for q in qs:
        own = counts.get((q.key, None), {})
        # One answer row per response, except `multiple` (counted apart) and matrix (counted per row).
        n = respondents.get(q.key, 0) if q.type == "multiple" else sum(own.values())
        result = QuestionResult(question=q, respondents=n)
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
            result.respondents = max((r.respondents for r in result.rows), default=0)
        if q.type in TEXT_TYPES or q.other:
            result.other_count = own.get(OTHER, 0)
            result.text_count = sum(own.values()) if q.type in TEXT_TYPES else result.other_count
            if texts_shown and result.text_count:
                result.texts = first_texts(session, survey, q.key, flt, texts_shown)
        out.append(result)
    return Results(total=total, questions=out)


def first_texts(session: Session, survey: Survey, question_key: str, flt: Filter, limit: int) -> list[str]:
    """The first few free texts of a question (the results page shows a handful, then links on)."""
    stmt = text_answers_stmt(survey.id, flt, question_key, None)
    return list(session.scalars(stmt.order_by(Answer.response_id, Answer.id).limit(limit)))


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
    # Ordered by the (random) response id: stable for paging, and not the order people answered in.
    items = list(session.scalars(stmt.order_by(Answer.response_id, Answer.id).limit(per_page).offset((page - 1) * per_page)))
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


def breakdown_stmt(survey_id: int, flt: Filter, q: Question, row: Choice | None, by_attribute: str | None,
                   by_question: tuple[Question, Choice | None] | None):
    """The whole cross-table in one statement: rows ``cell`` (group, value, n), ``size`` (group, number
    of responses), ``total`` (value, n) and ``total_size``.

    Groups are the values of a report attribute (every response in exactly one group, missing
    included, so totals are the sums of the groups) or the answers to another closed question
    (a `multiple` one puts a response in several groups, so totals are counted on their own).
    """
    if by_attribute is not None:
        group = (attribute_of(Response.attributes, by_attribute).label("g"), _none().label("gn"))
        other, joined = None, ()
    else:
        other = aliased(Answer)
        q2, row2 = by_question
        group = (other.option_key.label("g"), other.number_value.label("gn"))
        joined = ((other, and_(other.response_id == Answer.response_id, *_item_conditions(other, q2, row2))),)
    item = _item_conditions(Answer, q, row)
    stmt = _answers(*group, Answer.option_key.label("o"), Answer.number_value.label("v"), func.count().label("n"))
    for target in joined:
        stmt = stmt.join(*target)
    cells = stmt.where(*_scope(survey_id, flt), *item).group_by(*group, Answer.option_key, Answer.number_value).cte("cells")

    def answered(answer_alias, conditions):
        inner = aliased(Answer)
        return select(inner.id).where(inner.response_id == answer_alias, *_item_conditions(inner, *conditions)).exists()

    kind = lambda name: literal(name).label("kind")  # noqa: E731
    if q.type != "multiple":
        # One answer row per response: a group's size is the sum of its cells.
        sizes = select(cells.c.g, cells.c.gn, func.sum(cells.c.n).label("n")).group_by(cells.c.g, cells.c.gn)
    elif by_attribute is not None:
        g = attribute_of(Response.attributes, by_attribute)
        sizes = (select(g.label("g"), _none().label("gn"), func.count().label("n"))
                 .where(*_scope(survey_id, flt), answered(Response.id, (q, row))).group_by(g))
    else:
        # A `multiple` question has several rows per response: count each group's responses on their own.
        grouped = aliased(Answer)
        sizes = (select(grouped.option_key.label("g"), grouped.number_value.label("gn"), func.count().label("n"))
                 .select_from(grouped).join(Response, Response.id == grouped.response_id)
                 .where(*_scope(survey_id, flt), *_item_conditions(grouped, *by_question),
                        answered(grouped.response_id, (q, row)))
                 .group_by(grouped.option_key, grouped.number_value))
    sizes = sizes.cte("sizes")
    parts = [
        select(kind("cell"), cells.c.g, cells.c.gn, cells.c.o, cells.c.v, cells.c.n),
        select(kind("size"), sizes.c.g, sizes.c.gn, _none(String), _none(), sizes.c.n),
    ]
    if by_attribute is not None or by_question[0].type != "multiple":
        # Every response is in exactly one group (a missing value is a group too): totals are sums.
        parts.append(select(kind("total"), _none(String), _none(), cells.c.o, cells.c.v, func.sum(cells.c.n))
                     .group_by(cells.c.o, cells.c.v))
        parts.append(select(kind("total_size"), _none(String), _none(), _none(String), _none(), func.sum(sizes.c.n)))
    else:
        # Groups overlap: count the responses that answered both questions, each once.
        parts.append(_answers(kind("total"), _none(String), _none(), Answer.option_key, Answer.number_value, func.count())
                     .where(*_scope(survey_id, flt), *item, answered(Answer.response_id, by_question))
                     .group_by(Answer.option_key, Answer.number_value))
        parts.append(select(kind("total_size"), _none(String), _none(), _none(String), _none(), func.count())
                     .select_from(Response)
                     .where(*_scope(survey_id, flt), answered(Response.id, (q, row)), answered(Response.id, by_question)))
    return union_all(*parts)


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
        stmt = breakdown_stmt(survey.id, flt, q, row, name, None)
        by_label, labels, group_order = name, {}, None
    elif kind == "q":
        q2, row2 = _find_item(qs, name)
        if (q2.key, row2) == (q.key, row):
            raise BreakdownError(by)
        stmt = breakdown_stmt(survey.id, flt, q, row, None, (q2, row2))
        by_label = q2.text + (f" – {row2.label}" if row2 else "")
        q2_columns = _columns(q2)
        labels = {c.key: c.label for c in q2_columns}
        group_order = [c.key for c in q2_columns]
    else:
        raise BreakdownError(by)

    def group_key(r) -> str:
        if kind == "attr":
            return MISSING if r.g is None else str(r.g)
        return _value_key(r.g, r.gn)

    cells: dict[str, dict[str, int]] = {}
    sizes: dict[str, int] = {}
    total_cells: dict[str, int] = {}
    total_size = 0
    for r in session.execute(stmt):
        if r.kind == "cell":
            cells.setdefault(group_key(r), {})[_value_key(r.o, r.v)] = int(r.n)
        elif r.kind == "size":
            sizes[group_key(r)] = int(r.n)
        elif r.kind == "total":
            total_cells[_value_key(r.o, r.v)] = int(r.n)
        else:
            total_size = int(r.n or 0)  # SUM over no groups is NULL

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
        make_row(k, _("Uppgift saknas") if k == MISSING else labels.get(k, k), sizes[k], cells.get(k, {}), k in hidden)
        for k in keys
    ]
    total = make_row("", _("Totalt"), total_size, total_cells, total_size < threshold)
    return Breakdown(question=q, row=row, by_label=by_label, columns=columns, groups=groups, total=total,
                     threshold=threshold)


def response_groups_stmt(survey_id: int):
    """Complete responses per distinct set of report attributes (a few dozen rows: the JSON text is
    grouped as it is, so no response's JSON is parsed)."""
    as_text = cast(Response.attributes, Text)
    return select(as_text.label("attributes"), func.count().label("n")).where(*_scope(survey_id, Filter())).group_by(as_text)


def response_groups(session: Session, survey: Survey) -> dict[str, dict[str, int]]:
    """``{attribute: {value: responses}}`` for the survey's report attributes."""
    found: dict[str, dict[str, int]] = {name: {} for name in survey.report_attributes or []}
    for r in session.execute(response_groups_stmt(survey.id)):
        for name, value in (json.loads(r.attributes or "{}") or {}).items():
            if name in found and value is not None:
                found[name][str(value)] = found[name].get(str(value), 0) + int(r.n)
    return found


def report_attribute_values(session: Session, survey: Survey) -> dict[str, list[str]]:
    """The values each report attribute takes among complete responses (for the filter choices)."""
    return {name: sorted(values) for name, values in response_groups(session, survey).items()}
