"""The evaluation report: which questions, their breakdowns, the evaluator's commentary and chosen
free-text quotes, an introduction, the response rate per group and a method section written from
the survey itself. Put together in the browser (``save_report``), shown as a page and as a PDF
(``build_report`` gives both the same content), shared through a link that can be revoked.

The small-group rule holds here as on the results pages: nothing before k complete responses in
an anonymous survey, breakdown groups under k hidden, quotes only from questions with at least k
texts, response-rate groups with fewer than k invited merged.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.survey.responses.public import markdown
from services.survey.results.anonymity import rule_text, still_needed, threshold
from services.survey.results.breakdown import Breakdown, BreakdownError, breakdown
from services.survey.results.charts import breakdown_chart, question_chart
from services.survey.results.dashboard import Counts, dashboard
from services.survey.results.figures import QuestionResult, question_results
from services.survey.results.scope import NO_FILTER, complete_count
from services.survey.results.texts import text_answers_stmt
from services.survey.surveys.questions import CLOSED_TYPES, TEXT_TYPES, Question, QuestionType, definition_of
from shared.clock import utcnow
from shared.models import Answer, Participant, Report, Survey

TITLE_MAX, TEXT_MAX = 300, 20_000
QUOTES_OFFERED = 200  # free texts listed per question in the builder to choose quotes from


def quote_key(text: str) -> str:
    """How the builder's checkboxes name a free text (no answer id reaches the page)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def groupings(survey: Survey, q: Question) -> list[tuple[str, str]]:
    """What a question's result can be broken down by: report attributes, other closed questions."""
    if q.type not in CLOSED_TYPES:
        return []
    found = [(f"attr:{a}", _("Bakgrund: %(a)s", a=a)) for a in survey.report_attributes or []]
    found += [(f"q:{key}", _("Fråga: %(q)s", q=label)) for key, label in definition_of(survey).closed_items()]
    own = f"q:{q.key}"
    return [(key, label) for key, label in found if key != own and not key.startswith(own + ".")]


def default_sections(survey: Survey) -> list[dict[str, Any]]:
    """Every question, in the survey's order, without breakdowns, commentary or quotes."""
    return [
        {"question": q.key, "breakdowns": [], "commentary": "", "quotes": []}
        for q in definition_of(survey).answered_questions
    ]


def default_report(survey: Survey) -> Report:
    """The report of every question (not stored): the CLI's report when none has been put together."""
    return Report(
        survey_id=survey.id,
        title=_("Rapport: %(title)s", title=survey.title),
        introduction="",
        sections=default_sections(survey),
        response_rate_by="",
    )


def create_report(session: Session, survey: Survey, created_by: int | None) -> Report:
    report = default_report(survey)
    report.created_by = created_by
    session.add(report)
    session.flush()
    return report


def reports_of(session: Session, survey_id: int) -> list[Report]:
    return list(session.scalars(select(Report).where(Report.survey_id == survey_id).order_by(Report.id)))


def get_report(session: Session, survey_id: int, report_id: int) -> Report | None:
    return session.scalar(select(Report).where(Report.survey_id == survey_id, Report.id == report_id))


def report_by_token(session: Session, token: str) -> Report | None:
    """The report shared through this link, if it still is."""
    if not token or len(token) > 64:
        return None
    return session.scalar(select(Report).where(Report.share_token == token))


def share(report: Report) -> str:
    """Give the report a read-only link (a new one if it had none)."""
    if report.share_token is None:
        report.share_token = secrets.token_urlsafe(24)
    return report.share_token


def revoke(report: Report) -> None:
    """The link stops working at once; sharing again makes a new one."""
    report.share_token = None


def participant_attributes(session: Session, survey_id: int) -> list[str]:
    """The participant attributes a response-rate table can be grouped by."""
    return sorted(dashboard(session, survey_id).by_attribute)


# The builder -------------------------------------------------------------------------------------


@dataclass
class QuestionChoices:
    """One question in the builder: what can be chosen, and what is."""

    question: Question
    included: bool
    groupings: list[tuple[str, str]]
    breakdowns: list[str]
    commentary: str
    texts: list[tuple[str, str]]  # (quote key, text) offered as quotes
    texts_withheld: bool  # an anonymous survey's question with fewer than k texts
    quotes: list[str]  # quote keys chosen


def _texts(session: Session, survey: Survey, q: Question, only: list[str] | None = None) -> tuple[list[str], bool]:
    """The free texts a question's quotes can come from (the first ones, or those of ``only`` that
    still exist), and whether the small-group rule withholds them."""
    if not (q.type in TEXT_TYPES or q.other):
        return [], False
    stmt = text_answers_stmt(survey.id, NO_FILTER, q.key, None)
    count = session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    if survey.anonymous and count < threshold(survey):
        return [], count > 0
    if only is not None:
        return list(dict.fromkeys(session.scalars(stmt.where(Answer.text_value.in_(only))))), False
    texts = session.scalars(stmt.order_by(Answer.response_id, Answer.id).limit(QUOTES_OFFERED))
    return list(dict.fromkeys(texts)), False


def builder(session: Session, survey: Survey, report: Report, posted: dict | None = None) -> list[QuestionChoices]:
    """The builder's questions with the report's choices (or, after a refused save, the posted ones)."""
    chosen = {s["question"]: s for s in (posted or {}).get("sections", report.sections)}
    out = []
    for q in definition_of(survey).answered_questions:
        section = chosen.get(q.key)
        texts, withheld = _texts(session, survey, q)
        quote_keys = {quote_key(t) for t in (section or {}).get("quotes", [])}
        out.append(
            QuestionChoices(
                question=q,
                included=section is not None,
                groupings=groupings(survey, q),
                breakdowns=list((section or {}).get("breakdowns", [])),
                commentary=(section or {}).get("commentary", ""),
                texts=[(quote_key(t), t) for t in texts],
                texts_withheld=withheld,
                quotes=[k for k in (quote_key(t) for t in texts) if k in quote_keys],
            )
        )
    return out


def read_form(session: Session, survey: Survey, form) -> tuple[dict[str, Any], list[tuple[str, str, str]]]:
    """The builder's posted fields as report values, and the errors as (field id, label, message).

    ``form`` is the request's form (a MultiDict): ``title``, ``introduction``, ``response_rate_by``,
    ``questions`` (checked keys), per question ``breakdowns-KEY``, ``commentary-KEY``, ``quotes-KEY``.
    """
    errors: list[tuple[str, str, str]] = []
    title = (form.get("title") or "").strip()
    if not title:
        errors.append(("title", _("Rubrik"), _("Skriv en rubrik.")))
    elif len(title) > TITLE_MAX:
        errors.append(("title", _("Rubrik"), _("Högst %(n)s tecken.", n=TITLE_MAX)))
    introduction = form.get("introduction") or ""
    if len(introduction) > TEXT_MAX:
        errors.append(("introduction", _("Inledning"), _("Högst %(n)s tecken.", n=TEXT_MAX)))
    rate_by = form.get("response_rate_by") or ""
    if rate_by and rate_by not in participant_attributes(session, survey.id):
        rate_by = ""
    included = set(form.getlist("questions"))
    sections = []
    for q in definition_of(survey).answered_questions:
        commentary = form.get(f"commentary-{q.key}") or ""
        if len(commentary) > TEXT_MAX:
            errors.append((f"commentary-{q.key}", q.text, _("Högst %(n)s tecken.", n=TEXT_MAX)))
        if q.key not in included:
            continue
        allowed = {key for key, _label in groupings(survey, q)}
        texts, _withheld = _texts(session, survey, q)
        by_key = {quote_key(t): t for t in texts}
        sections.append(
            {
                "question": q.key,
                "breakdowns": [b for b in dict.fromkeys(form.getlist(f"breakdowns-{q.key}")) if b in allowed],
                "commentary": commentary,
                "quotes": [by_key[k] for k in dict.fromkeys(form.getlist(f"quotes-{q.key}")) if k in by_key],
            }
        )
    values = {
        "title": title,
        "introduction": introduction,
        "response_rate_by": rate_by,
        "sections": sections,
    }
    return values, errors


def save_report(report: Report, values: dict[str, Any]) -> None:
    report.title = values["title"]
    report.introduction = values["introduction"]
    report.response_rate_by = values["response_rate_by"]
    report.sections = values["sections"]
    report.updated_at = utcnow()


# The report as shown -----------------------------------------------------------------------------


@dataclass
class Method:
    period_start: datetime | None
    period_end: datetime | None
    invited: int
    completed: int
    response_rate: float | None
    reminder_rounds: int  # the most reminders anyone got
    reminders_sent: int
    rule: str


@dataclass
class RateRow:
    label: str
    counts: Counts | None  # None: merged groups shown as one row
    merged: int = 0  # how many groups the row stands for


@dataclass
class BreakdownView:
    table: Breakdown
    chart: Markup | None


@dataclass
class SectionView:
    result: QuestionResult
    chart: Markup | None
    commentary: Markup
    breakdowns: list[BreakdownView] = field(default_factory=list)
    quotes: list[str] = field(default_factory=list)


@dataclass
class ReportView:
    report: Report
    survey: Survey
    introduction: Markup
    method: Method
    rate_by: str
    rates: list[RateRow]
    needed: int
    total: int
    sections: list[SectionView]
    k: int


def reminders_stmt(survey_id: int):
    return select(
        func.coalesce(func.sum(Participant.reminders_sent), 0), func.coalesce(func.max(Participant.reminders_sent), 0)
    ).where(Participant.survey_id == survey_id)


def _method(session: Session, survey: Survey, totals: Counts, complete: int) -> Method:
    first_invited = session.scalar(select(func.min(Participant.invited_at)).where(Participant.survey_id == survey.id))
    sent, rounds = session.execute(reminders_stmt(survey.id)).one()
    if survey.anonymous:
        rule = rule_text(survey)
    else:
        rule = _("Grupper med färre än %(k)s svar redovisas inte i nedbrytningarna.", k=threshold(survey))
    return Method(
        period_start=survey.opens_at or first_invited,
        period_end=survey.closes_at,
        invited=totals.invited,
        completed=complete,
        response_rate=100.0 * complete / totals.invited if totals.invited else None,
        reminder_rounds=int(rounds),
        reminders_sent=int(sent),
        rule=rule,
    )


def rate_rows(groups: list[Counts], k: int) -> list[RateRow]:
    """Response rate per group; groups with fewer than k invited are shown together as one row (and
    if that row has fewer than k, the smallest other group joins it)."""
    small = [g for g in groups if g.invited < k]
    shown = [g for g in groups if g.invited >= k]
    while small and sum(g.invited for g in small) < k and shown:
        smallest = min(shown, key=lambda g: (g.invited, str(g.value)))
        shown.remove(smallest)
        small.append(smallest)
    rows = [RateRow(_("Uppgift saknas") if g.value is None else str(g.value), g) for g in shown]
    if small:
        merged = Counts(
            participants=sum(g.participants for g in small),
            invited=sum(g.invited for g in small),
            completed=sum(g.completed for g in small),
        )
        rows.append(RateRow(_("Övriga grupper (färre än %(k)s inbjudna var)", k=k), merged, merged=len(small)))
    return rows


def _items(q: Question) -> list[str]:
    """The breakdown items of a question: itself, or each statement of a matrix."""
    return [f"{q.key}.{row.key}" for row in q.rows] if q.type == QuestionType.MATRIX else [q.key]


def build_report(session: Session, survey: Survey, report: Report) -> ReportView:
    """Everything the report shows, with the small-group rule applied."""
    k = threshold(survey)
    complete = complete_count(session, survey)
    needed = still_needed(survey, complete)
    board = dashboard(session, survey.id)
    rate_by = report.response_rate_by if report.response_rate_by in board.by_attribute else ""
    view = ReportView(
        report=report,
        survey=survey,
        introduction=markdown(report.introduction),
        method=_method(session, survey, board.totals, complete),
        rate_by=rate_by,
        rates=rate_rows(board.by_attribute[rate_by], k) if rate_by else [],
        needed=needed,
        total=complete,
        sections=[],
        k=k,
    )
    if needed:
        return view
    results = {r.question.key: r for r in question_results(session, survey, texts_shown=0).questions}
    for n, section in enumerate(report.sections):
        result = results.get(section.get("question", ""))
        if result is None:
            continue  # the question is no longer in the survey
        q = result.question
        shown = SectionView(
            result=result,
            chart=question_chart(result, f"chart-{n}"),
            commentary=markdown(section.get("commentary", "")),
        )
        for by in section.get("breakdowns", []):
            for item in _items(q):
                try:
                    table = breakdown(session, survey, item, by)
                except BreakdownError:
                    continue  # the grouping's question or attribute is gone
                chart = breakdown_chart(table, f"chart-{n}-{len(shown.breakdowns)}")
                shown.breakdowns.append(BreakdownView(table, chart))
        quotes = section.get("quotes", [])
        if quotes:
            present = set(_texts(session, survey, q, only=quotes)[0])
            shown.quotes = [t for t in quotes if t in present]
        view.sections.append(shown)
    return view
