"""Results pages for evaluators: dashboard, per-question results, free texts, breakdown, export."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _
from markupsafe import Markup

from services.survey.results import charts, exports
from services.survey.results.anonymity import still_needed, threshold
from services.survey.results.breakdown import BreakdownError
from services.survey.results.breakdown import breakdown as breakdown_table
from services.survey.results.dashboard import dashboard as response_rates
from services.survey.results.figures import question_results
from services.survey.results.forms import ExportForm
from services.survey.results.jobs import start_export
from services.survey.results.scope import (
    Filter,
    complete_count,
    filter_allowed,
    report_attribute_values,
    response_groups,
)
from services.survey.results.texts import text_answers
from services.survey.surveys.questions import TEXT_TYPES, QuestionType, definition_of
from shared.clock import utcnow
from shared.i18n import to_local
from shared.models import Survey
from shared.web import db_session, get_or_404
from shared.web.auth import current_admin, login_required

bp = Blueprint("results_admin", __name__, url_prefix="/admin/surveys/<int:survey_id>")


def _filter(survey: Survey) -> Filter:
    return Filter.parse(request.args.get("filter"), list(survey.report_attributes or []))


def _filter_values(session, survey: Survey, groups: dict[str, dict[str, int]], needed: int) -> dict[str, list[str]]:
    """The "Visa svar från" menu: only values held by at least k responses, and none while results wait."""
    if needed:
        return {}
    return report_attribute_values(groups, complete_count(session, survey), threshold(survey))


@bp.app_template_filter("results_number")
def results_number(value, decimals: int = 1) -> str:
    """A figure the Swedish way (1 234,5); a dash when there is none."""
    if value is None:
        return "–"
    return format_decimal(value, format="#,##0" + ("." + "0" * decimals if decimals else ""))


@bp.app_template_global("small_group_threshold")
def small_group_threshold(survey: Survey) -> int:
    """k of the small-group rule, for the pages' explanations."""
    return threshold(survey)


def _pct_text(value) -> str:
    return "–" if value is None else results_number(value) + " %"


def question_chart(result) -> Markup | None:
    """The chart of one question's result (the template shows the same figures in a table)."""
    q = result.question
    chart_id = f"chart-{q.key}"
    if q.type == QuestionType.MATRIX:
        legend = [str(v) for v in q.scale.points] + ([_("Vet inte")] if q.dont_know else [])
        rows = []
        for row in result.rows:
            segments = [charts.Segment(b.label, b.count) for b in row.bars[: len(q.scale.points)]]
            if q.dont_know:
                segments.append(charts.Segment(_("Vet inte"), row.dont_know))
            rows.append((row.label, segments))
        return charts.stacked_chart(
            chart_id,
            _("Andel (%%) per svarsalternativ och påstående: %(q)s", q=q.text),
            rows,
            legend,
            dont_know=q.dont_know,
        )
    if result.bars and result.respondents:
        bars = [(b.label, b.count, f"{b.count} ({_pct_text(b.percent)})") for b in result.bars]
        if result.dont_know:
            bars.append((_("Vet inte"), result.dont_know, str(result.dont_know)))
        return charts.bar_chart(chart_id, _("Antal svar per alternativ: %(q)s", q=q.text), bars)
    return None


def breakdown_chart(table) -> Markup | None:
    """Stacked 100 % bars of the shown groups (only when each response gives one answer: the shares
    of a `multiple` question do not add up to a whole)."""
    shown = [g for g in table.groups if not g.hidden]
    if table.question.type == QuestionType.MULTIPLE or not shown:
        return None
    rows = [
        (g.label, [charts.Segment(c.label, cell.count) for c, cell in zip(table.columns, g.cells, strict=True)])
        for g in shown
    ]
    legend = [c.label for c in table.columns]
    return charts.stacked_chart(
        "chart-breakdown",
        _("Andel (%%) per svarsalternativ och grupp: %(q)s", q=table.question.text),
        rows,
        legend,
        dont_know=bool(table.columns) and table.columns[-1].key == "dont_know",
    )


@bp.get("/results/dashboard")
@login_required
def dashboard(survey_id: int):
    survey = get_or_404(Survey, survey_id)
    k = threshold(survey) if survey.anonymous else None
    board = response_rates(db_session(), survey.id, today=to_local(utcnow()).date(), k=k)
    chart = None
    if board.days:
        chart = charts.day_chart(
            "chart-days",
            _("Antal besvarade enkäter per period") if k else _("Antal besvarade enkäter per dag"),
            [(d.axis_label, d.completed, d.invitation, d.reminder) for d in board.days],
            reminder_text=_("P"),
            invitation_text=_("I"),
        )
    return render_template("survey/results/dashboard.html", survey=survey, board=board, chart=chart, k=k)


@bp.get("/results")
@login_required
def results(survey_id: int):
    survey = get_or_404(Survey, survey_id)
    flt = _filter(survey)
    s = db_session()
    groups = response_groups(s, survey)
    found = question_results(s, survey, flt, groups=groups)
    return render_template(
        "survey/results/results.html",
        survey=survey,
        results=found,
        flt=flt,
        filter_values=_filter_values(s, survey, groups, found.needed),
        charts={r.question.key: question_chart(r) for r in found.questions},
        pct=_pct_text,
    )


@bp.get("/results/<question_key>/texts")
@login_required
def texts(survey_id: int, question_key: str):
    survey = get_or_404(Survey, survey_id)
    question = definition_of(survey).question(question_key)
    if question is None or not (question.type in TEXT_TYPES or question.other):
        abort(404)
    flt = _filter(survey)
    s = db_session()
    needed = still_needed(survey, complete_count(s, survey))
    if needed or not filter_allowed(s, survey, flt):
        page = None
    else:
        search = (request.args.get("q") or "").strip()[:200] or None
        k = threshold(survey) if survey.anonymous else 1
        page = text_answers(s, survey, question_key, flt, search, request.args.get("page", 1, type=int), k=k)
    return render_template(
        "survey/results/texts.html",
        survey=survey,
        question=question,
        needed=needed,
        page=page,
        flt=flt,
        search=request.args.get("q", ""),
    )


@bp.get("/results/breakdown")
@login_required
def breakdown(survey_id: int):
    survey = get_or_404(Survey, survey_id)
    flt = _filter(survey)
    items = definition_of(survey).closed_items()
    groupings = [(f"attr:{a}", _("Bakgrund: %(a)s", a=a)) for a in survey.report_attributes or []]
    groupings += [(f"q:{key}", _("Fråga: %(q)s", q=label)) for key, label in items]
    item, by = request.args.get("item"), request.args.get("by")
    table, error = None, None
    s = db_session()
    groups = response_groups(s, survey)
    needed = still_needed(survey, complete_count(s, survey))
    if (item or by) and not needed:
        if not filter_allowed(s, survey, flt, groups):
            error = _("Urvalet har för få svar för att visas.")
        else:
            try:
                table = breakdown_table(s, survey, item or "", by or "", flt)
            except BreakdownError:
                error = _("Välj en fråga med svarsalternativ och något annat att dela upp den efter.")
    return render_template(
        "survey/results/breakdown.html",
        chart=breakdown_chart(table) if table is not None else None,
        survey=survey,
        items=items,
        groupings=groupings,
        item=item,
        by=by,
        table=table,
        error=error,
        needed=needed,
        flt=flt,
        filter_values=_filter_values(s, survey, groups, needed),
        pct=_pct_text,
    )


@bp.route("/results/export", methods=["GET", "POST"])
@login_required
def export(survey_id: int):
    survey = get_or_404(Survey, survey_id)
    form = ExportForm()
    s = db_session()
    needed = still_needed(survey, complete_count(s, survey))
    if needed or not form.validate_on_submit():
        status = 400 if form.errors else 200
        return render_template("survey/results/export.html", survey=survey, form=form, needed=needed), status
    options = exports.ExportOptions(
        format=form.format.data,
        separator=";" if form.separator.data == "semicolon" else ",",
        labels=form.values.data == "labels",
        include_partial=form.include_partial.data,
        include_identity=form.include_identity.data,
    )
    admin = current_admin()
    job = start_export(
        s,
        survey,
        options,
        created_by=admin.id if admin else None,
        return_path=url_for("results_admin.export", survey_id=survey.id),
    )
    s.commit()
    return redirect(url_for("jobs.show", job_id=job.id))


@bp.app_context_processor
def _results_links():
    """``results_links(survey_id)`` for the survey pages: where this area's pages are."""

    def results_links(survey_id: int) -> list[tuple[str, str]]:
        return [
            (url_for("results_admin.dashboard", survey_id=survey_id), _("Svarsfrekvens")),
            (url_for("results_admin.results", survey_id=survey_id), _("Resultat")),
            (url_for("results_admin.breakdown", survey_id=survey_id), _("Nedbrytning")),
            (url_for("results_admin.export", survey_id=survey_id), _("Exportera svar")),
        ]

    return {"results_links": results_links}
