"""Per-question results: counts and shares per option, distributions, means, medians and NPS.

One statement computes every figure of the page (``question_figures_stmt``): a distribution of the
answers per question, matrix row and value, with the statistics and the median taken from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _
from sqlalchemy import Integer, String, and_, case, cast, func, literal, or_, select, union_all
from sqlalchemy.orm import Session

from services.survey.results.anonymity import still_needed, threshold
from services.survey.results.scope import (
    NO_FILTER,
    Filter,
    filter_allowed,
    from_answers,
    null_of,
    response_count_stmt,
    scope,
)
from services.survey.results.texts import first_texts
from services.survey.surveys.questions import (
    CHOICE_TYPES,
    DONT_KNOW,
    OTHER,
    POINT_TYPES,
    TEXT_TYPES,
    Choice,
    Question,
    QuestionType,
    definition_of,
)
from shared.models import Answer, Response, Survey


def distribution_cte(survey_id: int, flt: Filter):
    """How often each option / value / text was given, per question and matrix row: one pass over the answers."""
    return (
        from_answers(
            Answer.question_key.label("q"),
            Answer.row_key.label("r"),
            Answer.option_key.label("o"),
            Answer.number_value.label("v"),
            func.count().label("c"),
        )
        .where(*scope(survey_id, flt))
        .group_by(Answer.question_key, Answer.row_key, Answer.option_key, Answer.number_value)
        .cte("dist")
    )


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
        literal("count").label("kind"),
        dist.c.q,
        dist.c.r,
        dist.c.o,
        dist.c.v,
        dist.c.c.label("n"),
        null_of().label("mean"),
        null_of().label("median"),
        null_of().label("min"),
        null_of().label("max"),
        null_of().label("promoters"),
        null_of().label("detractors"),
        null_of().label("nps"),
    )
    n = func.sum(dist.c.c)
    promoters = func.sum(case((dist.c.v >= 9, dist.c.c), else_=0))
    detractors = func.sum(case((dist.c.v <= 6, dist.c.c), else_=0))
    stats = (
        select(
            literal("stats"),
            dist.c.q,
            dist.c.r,
            null_of(String),
            null_of(),
            n,
            func.sum(dist.c.v * dist.c.c) * 1.0 / n,
            null_of(),
            func.min(dist.c.v),
            func.max(dist.c.v),
            promoters,
            detractors,
            (promoters - detractors) * 100.0 / n,
        )
        .where(dist.c.v.is_not(None))
        .group_by(dist.c.q, dist.c.r)
    )
    row = func.coalesce(dist.c.r, "")
    cum = (
        select(
            dist.c.q,
            dist.c.r,
            dist.c.v,
            dist.c.c,
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
            literal("median"),
            cum.c.q,
            cum.c.r,
            null_of(String),
            null_of(),
            null_of(Integer),
            null_of(),
            func.avg(cum.c.v),
            null_of(),
            null_of(),
            null_of(),
            null_of(),
            null_of(),
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
        parts.append(
            select(literal(key).label("q"), func.count().label("n"))
            .select_from(Response)
            .where(*scope(survey_id, flt), answered)
        )
    return union_all(*parts)


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
    texts_withheld: bool = False  # an anonymous survey's texts come in sets of at least k, or not at all


@dataclass
class Results:
    total: int
    questions: list[QuestionResult]
    hidden: bool = False  # the filter picks out (or leaves out) too few responses to show
    needed: int = 0  # an anonymous survey shows nothing until it has this many more complete responses


def percent(part: int, whole: int) -> float | None:
    return 100.0 * part / whole if whole else None


def value_key(option_key: str | None, number) -> str:
    if option_key is not None:
        return option_key
    if number is None:
        return ""
    return str(int(number)) if float(number).is_integer() else repr(float(number))


def bars_of(q: Question, counts: dict[str, int], respondents: int) -> list[Bar]:
    """One bar per defined option or scale point (zeros included), then anything else found."""
    if q.scale is not None:
        defined = [Choice(str(v), str(v)) for v in q.scale.points]
        if q.scale.min_label:
            defined[0] = Choice(defined[0].key, f"{defined[0].label} {q.scale.min_label}")
        if q.scale.max_label:
            defined[-1] = Choice(defined[-1].key, f"{defined[-1].label} {q.scale.max_label}")
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
            percent(counts.get(c.key, 0), respondents),
            percent(counts.get(c.key, 0), answers) if q.type == QuestionType.MULTIPLE else None,
        )
        for c in defined + extra
    ]


def months_stmt(survey_id: int, flt: Filter, keys: list[str]):
    """How many answered each month, per date question (a date is stored as ÅÅÅÅ-MM-DD text)."""
    month = func.substr(Answer.text_value, 1, 7)
    return (
        from_answers(Answer.question_key.label("q"), month.label("m"), func.count().label("n"))
        .where(*scope(survey_id, flt), Answer.question_key.in_(keys))
        .group_by(Answer.question_key, month)
        .order_by(month)
    )


def question_results(
    session: Session,
    survey: Survey,
    flt: Filter = NO_FILTER,
    texts_shown: int = 5,
    groups: dict[str, dict[str, int]] | None = None,
) -> Results:
    """Counts, percentages, distributions, means, medians and NPS for every question.

    ``groups`` (from ``response_groups``) saves a query when the caller has them already.
    """
    qs = definition_of(survey).answered_questions
    complete = session.scalar(response_count_stmt(survey.id, NO_FILTER)) or 0
    if needed := still_needed(survey, complete):
        return Results(total=complete, questions=[], needed=needed)
    if not filter_allowed(session, survey, flt, groups):
        return Results(total=0, questions=[], hidden=True)
    total = session.scalar(response_count_stmt(survey.id, flt)) if flt.active else complete
    k = threshold(survey)

    counts: dict[tuple[str, str | None], dict[str, int]] = {}
    stats: dict[tuple[str, str | None], NumberStats] = {}
    for r in session.execute(question_figures_stmt(survey.id, flt)):
        key = (r.q, r.r)
        if r.kind == "count":
            counts.setdefault(key, {})[value_key(r.o, r.v)] = int(r.n)
        elif r.kind == "stats":
            figures = stats.setdefault(key, NumberStats())
            figures.n, figures.mean, figures.min, figures.max = int(r.n), float(r.mean), r.min, r.max
            figures.promoters, figures.detractors, figures.nps = int(r.promoters), int(r.detractors), float(r.nps)
        else:
            stats.setdefault(key, NumberStats()).median = float(r.median)
    multiple = [q.key for q in qs if q.type == QuestionType.MULTIPLE]
    respondents = (
        {r.q: int(r.n) for r in session.execute(respondents_stmt(survey.id, flt, multiple))} if multiple else {}
    )

    dates = [q.key for q in qs if q.type == QuestionType.DATE]
    months: dict[str, dict[str, int]] = {}
    for r in session.execute(months_stmt(survey.id, flt, dates)) if dates else ():
        months.setdefault(r.q, {})[r.m] = int(r.n)

    out = []
    for q in qs:
        own = counts.get((q.key, None), {})
        # One answer row per response, except `multiple` (counted apart) and matrix (counted per row).
        n = respondents.get(q.key, 0) if q.type == QuestionType.MULTIPLE else sum(own.values())
        result = QuestionResult(question=q, respondents=n)
        if q.type in CHOICE_TYPES or q.type in POINT_TYPES:
            result.dont_know = own.get(DONT_KNOW, 0)
            result.bars = bars_of(q, own, n)
        if q.type == QuestionType.RANKING:  # per option: its places, mean place, how often first
            for o in q.options:
                places = counts.get((q.key, o.key), {})
                row_n = sum(places.values())
                bars = [
                    Bar(str(p), str(p), places.get(str(p), 0), percent(places.get(str(p), 0), row_n))
                    for p in range(1, len(q.options) + 1)
                ]
                result.rows.append(RowResult(o.key, o.label, bars, 0, row_n, stats.get((q.key, o.key), NumberStats())))
            result.respondents = max((r.respondents for r in result.rows), default=0)
            result.bars = [
                Bar(row.key, row.label, row.bars[0].count, percent(row.bars[0].count, result.respondents))
                for row in result.rows
            ]
        if q.type == QuestionType.DATE:  # answers by month, in order
            result.bars = [Bar(m, m, count, percent(count, n)) for m, count in sorted(months.get(q.key, {}).items())]
        if q.type in POINT_TYPES or q.type == QuestionType.NUMBER:
            result.stats = stats.get((q.key, None), NumberStats())
        if q.type == QuestionType.MATRIX:
            for row in q.rows:
                row_counts = counts.get((q.key, row.key), {})
                row_n = sum(row_counts.values())
                result.rows.append(
                    RowResult(
                        row.key,
                        row.label,
                        bars_of(q, row_counts, row_n),
                        row_counts.get(DONT_KNOW, 0),
                        row_n,
                        stats.get((q.key, row.key), NumberStats()),
                    )
                )
            result.respondents = max((r.respondents for r in result.rows), default=0)
        if q.type in TEXT_TYPES or q.other:
            result.other_count = own.get(OTHER, 0)
            result.text_count = sum(own.values()) if q.type in TEXT_TYPES else result.other_count
            result.texts_withheld = survey.anonymous and 0 < result.text_count < k
            if texts_shown and result.text_count and not result.texts_withheld:
                result.texts = first_texts(session, survey, q.key, flt, texts_shown)
        out.append(result)
    return Results(total=total, questions=out)
