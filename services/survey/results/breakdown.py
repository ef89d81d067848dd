"""Breakdowns: a closed question (or one matrix statement) cross-tabulated by a report attribute or
by another question, in one statement, with the small-group rule."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _
from sqlalchemy import String, and_, func, literal, select, union_all
from sqlalchemy.orm import Session, aliased

from services.survey.results.figures import bars_of, percent, value_key
from services.survey.results.scope import NO_FILTER, Filter, attribute_of, from_answers, null_of, scope
from services.survey.surveys.questions import CLOSED_TYPES, DONT_KNOW, Choice, Question, QuestionType, definition_of
from shared.models import Answer, Response, Survey

MISSING = "\x00missing"  # group key of responses without a value for the attribute


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


def _find_item(qs: tuple[Question, ...], item: str) -> tuple[Question, Choice | None]:
    key, _dot, row_key = item.partition(".")
    for q in qs:
        if q.key == key and q.type in CLOSED_TYPES:
            if q.type == QuestionType.MATRIX:
                row = next((r for r in q.rows if r.key == row_key), None)
                if row is None:
                    break
                return q, row
            if not row_key:
                return q, None
    raise BreakdownError(item)


def _columns(q: Question) -> list[Choice]:
    columns = [Choice(b.key, b.label) for b in bars_of(q, {}, 0)]
    if q.dont_know:
        columns.append(Choice(DONT_KNOW, _("Vet inte")))
    return columns


def _item_conditions(answer, q: Question, row: Choice | None) -> list:
    conditions = [answer.question_key == q.key]
    if row is not None:
        conditions.append(answer.row_key == row.key)
    return conditions


def breakdown_stmt(
    survey_id: int,
    flt: Filter,
    q: Question,
    row: Choice | None,
    by: str | tuple[Question, Choice | None],
):
    """The whole cross-table in one statement: rows ``cell`` (group, value, n), ``size`` (group, number
    of responses), ``total`` (value, n) and ``total_size``.

    Groups (``by``) are the values of a report attribute, given by name (every response in exactly one
    group, missing included, so totals are the sums of the groups), or the answers to another closed
    question, given with its matrix row (a `multiple` one puts a response in several groups, so totals
    are counted on their own).
    """
    counted = (Answer.option_key.label("o"), Answer.number_value.label("v"), func.count().label("n"))
    if isinstance(by, str):
        group = (attribute_of(Response.attributes, by).label("g"), null_of().label("gn"))
        stmt = from_answers(*group, *counted)
    else:
        other = aliased(Answer)
        group = (other.option_key.label("g"), other.number_value.label("gn"))
        stmt = from_answers(*group, *counted).join(
            other, and_(other.response_id == Answer.response_id, *_item_conditions(other, *by))
        )
    item = _item_conditions(Answer, q, row)
    cells = (
        stmt.where(*scope(survey_id, flt), *item).group_by(*group, Answer.option_key, Answer.number_value).cte("cells")
    )

    def answered(answer_alias, conditions):
        inner = aliased(Answer)
        return select(inner.id).where(inner.response_id == answer_alias, *_item_conditions(inner, *conditions)).exists()

    kind = lambda name: literal(name).label("kind")  # noqa: E731
    if q.type != QuestionType.MULTIPLE:
        # One answer row per response: a group's size is the sum of its cells.
        size_query = select(cells.c.g, cells.c.gn, func.sum(cells.c.n).label("n")).group_by(cells.c.g, cells.c.gn)
    elif isinstance(by, str):
        g = attribute_of(Response.attributes, by)
        size_query = (
            select(g.label("g"), null_of().label("gn"), func.count().label("n"))
            .where(*scope(survey_id, flt), answered(Response.id, (q, row)))
            .group_by(g)
        )
    else:
        # A `multiple` question has several rows per response: count each group's responses on their own.
        grouped = aliased(Answer)
        size_query = (
            select(grouped.option_key.label("g"), grouped.number_value.label("gn"), func.count().label("n"))
            .select_from(grouped)
            .join(Response, Response.id == grouped.response_id)
            .where(
                *scope(survey_id, flt),
                *_item_conditions(grouped, *by),
                answered(grouped.response_id, (q, row)),
            )
            .group_by(grouped.option_key, grouped.number_value)
        )
    sizes = size_query.cte("sizes")
    parts = [
        select(kind("cell"), cells.c.g, cells.c.gn, cells.c.o, cells.c.v, cells.c.n),
        select(kind("size"), sizes.c.g, sizes.c.gn, null_of(String), null_of(), sizes.c.n),
    ]
    if isinstance(by, str) or by[0].type != QuestionType.MULTIPLE:
        # Every response is in exactly one group (a missing value is a group too): totals are sums.
        parts.append(
            select(kind("total"), null_of(String), null_of(), cells.c.o, cells.c.v, func.sum(cells.c.n)).group_by(
                cells.c.o, cells.c.v
            )
        )
        parts.append(
            select(kind("total_size"), null_of(String), null_of(), null_of(String), null_of(), func.sum(sizes.c.n))
        )
    else:
        # Groups overlap: count the responses that answered both questions, each once.
        parts.append(
            from_answers(
                kind("total"), null_of(String), null_of(), Answer.option_key, Answer.number_value, func.count()
            )
            .where(*scope(survey_id, flt), *item, answered(Answer.response_id, by))
            .group_by(Answer.option_key, Answer.number_value)
        )
        parts.append(
            select(kind("total_size"), null_of(String), null_of(), null_of(String), null_of(), func.count())
            .select_from(Response)
            .where(*scope(survey_id, flt), answered(Response.id, (q, row)), answered(Response.id, by))
        )
    return union_all(*parts)


def breakdown(session: Session, survey: Survey, item: str, by: str, flt: Filter = NO_FILTER) -> Breakdown:
    """Cross-table of a closed question (``item``) by ``attr:NAME`` or ``q:ITEM``, with the small-group rule.

    Groups with fewer responses than the survey's ``min_group_size`` are hidden; when exactly one
    group would be hidden, the next smallest is hidden too, or total minus the shown groups would
    give the hidden one away. Raises ``BreakdownError`` for an unknown item or grouping.
    """
    qs = definition_of(survey).answered_questions
    q, row = _find_item(qs, item)
    kind, _colon, name = by.partition(":")
    threshold = max(1, survey.min_group_size)
    columns = _columns(q)

    if kind == "attr" and name in (survey.report_attributes or []):
        stmt = breakdown_stmt(survey.id, flt, q, row, name)
        by_label, labels, group_order = name, {}, None
    elif kind == "q":
        q2, row2 = _find_item(qs, name)
        if (q2.key, row2) == (q.key, row):
            raise BreakdownError(by)
        stmt = breakdown_stmt(survey.id, flt, q, row, (q2, row2))
        by_label = q2.text + (f" – {row2.label}" if row2 else "")
        q2_columns = _columns(q2)
        labels = {c.key: c.label for c in q2_columns}
        group_order = [c.key for c in q2_columns]
    else:
        raise BreakdownError(by)

    def group_key(r) -> str:
        if kind == "attr":
            return MISSING if r.g is None else str(r.g)
        return value_key(r.g, r.gn)

    cells: dict[str, dict[str, int]] = {}
    sizes: dict[str, int] = {}
    total_cells: dict[str, int] = {}
    total_size = 0
    for r in session.execute(stmt):
        if r.kind == "cell":
            cells.setdefault(group_key(r), {})[value_key(r.o, r.v)] = int(r.n)
        elif r.kind == "size":
            sizes[group_key(r)] = int(r.n)
        elif r.kind == "total":
            total_cells[value_key(r.o, r.v)] = int(r.n)
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
        return GroupRow(
            key, label, size, [Cell(counts.get(c.key, 0), percent(counts.get(c.key, 0), size)) for c in columns]
        )

    groups = [
        make_row(k, _("Uppgift saknas") if k == MISSING else labels.get(k, k), sizes[k], cells.get(k, {}), k in hidden)
        for k in keys
    ]
    total = make_row("", _("Totalt"), total_size, total_cells, total_size < threshold)
    return Breakdown(
        question=q, row=row, by_label=by_label, columns=columns, groups=groups, total=total, threshold=threshold
    )
