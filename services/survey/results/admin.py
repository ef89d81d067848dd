"""Results pages for evaluators: dashboard, per-question results, free texts, breakdown, export."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from services.survey.results import charts, exports
from services.survey.results.anonymity import still_needed, threshold
from services.survey.results.breakdown import BreakdownError
from services.survey.results.breakdown import breakdown as breakdown_table
from services.survey.results.charts import breakdown_chart, percent_text, question_chart, results_number
from services.survey.results.dashboard import dashboard as response_rates
from services.survey.results.figures import question_results
from services.survey.results.forms import ExportForm
from services.survey.results.jobs import start_export, start_report_pdf
from services.survey.results.pdf import UNAVAILABLE, pdf_available
from services.survey.results.report import (
    build_report,
    builder,
    create_report,
    get_report,
    participant_attributes,
    read_form,
    reports_of,
    revoke,
    save_report,
    share,
)
from services.survey.results.scope import (
    Filter,
    complete_count,
    filter_allowed,
    report_attribute_values,
    response_groups,
)
from services.survey.results.texts import text_answers
from services.survey.surveys.questions import TEXT_TYPES, definition_of
from shared.clock import utcnow
from shared.i18n import to_local
from shared.models import Report, Survey
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


bp.add_app_template_filter(results_number, "results_number")


@bp.app_template_global("small_group_threshold")
def small_group_threshold(survey: Survey) -> int:
    """k of the small-group rule, for the pages' explanations."""
    return threshold(survey)


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
        pct=percent_text,
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
        pct=percent_text,
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
            (url_for("results_admin.reports", survey_id=survey_id), _("Rapporter")),
        ]

    return {"results_links": results_links}


# The evaluation report -----------------------------------------------------------------------------


def _report_or_404(survey: Survey, report_id: int) -> Report:
    found = get_report(db_session(), survey.id, report_id)
    if found is None:
        abort(404)
    return found


@bp.get("/results/reports")
@login_required
def reports(survey_id: int):
    survey = get_or_404(Survey, survey_id)
    return render_template(
        "survey/results/report/index.html", survey=survey, reports=reports_of(db_session(), survey.id)
    )


@bp.post("/results/reports")
@login_required
def report_create(survey_id: int):
    survey = get_or_404(Survey, survey_id)
    admin = current_admin()
    created = create_report(db_session(), survey, admin.id if admin else None)
    db_session().commit()
    return redirect(url_for("results_admin.report_edit", survey_id=survey.id, report_id=created.id))


@bp.route("/results/reports/<int:report_id>/edit", methods=["GET", "POST"])
@login_required
def report_edit(survey_id: int, report_id: int):
    survey = get_or_404(Survey, survey_id)
    report = _report_or_404(survey, report_id)
    s = db_session()
    errors: list = []
    posted = None
    if request.method == "POST":
        posted, errors = read_form(s, survey, request.form)
        if not errors:
            save_report(report, posted)
            s.commit()
            flash(_("Rapporten är sparad."))
            return redirect(url_for("results_admin.report_show", survey_id=survey.id, report_id=report.id))
    values = posted or {
        "title": report.title,
        "introduction": report.introduction,
        "response_rate_by": report.response_rate_by,
    }
    return render_template(
        "survey/results/report/edit.html",
        survey=survey,
        report=report,
        values=values,
        errors=errors,
        error_fields={field_id for field_id, _label, _message in errors},
        questions=builder(s, survey, report, posted),
        attributes=participant_attributes(s, survey.id),
    ), 400 if errors else 200


@bp.get("/results/reports/<int:report_id>")
@login_required
def report_show(survey_id: int, report_id: int):
    survey = get_or_404(Survey, survey_id)
    report = _report_or_404(survey, report_id)
    view = build_report(db_session(), survey, report)
    return render_template(
        "survey/results/report/show.html",
        survey=survey,
        view=view,
        pct=percent_text,
        pdf_available=pdf_available(),
        pdf_unavailable=UNAVAILABLE,
        share_url=url_for("results_public.report", token=report.share_token, _external=True)
        if report.share_token
        else None,
    )


@bp.post("/results/reports/<int:report_id>/pdf")
@login_required
def report_pdf(survey_id: int, report_id: int):
    survey = get_or_404(Survey, survey_id)
    report = _report_or_404(survey, report_id)
    if not pdf_available():
        flash(UNAVAILABLE)
        return redirect(url_for("results_admin.report_show", survey_id=survey.id, report_id=report.id))
    admin = current_admin()
    job = start_report_pdf(
        db_session(),
        survey,
        report,
        created_by=admin.id if admin else None,
        return_path=url_for("results_admin.report_show", survey_id=survey.id, report_id=report.id),
    )
    db_session().commit()
    return redirect(url_for("jobs.show", job_id=job.id))


@bp.post("/results/reports/<int:report_id>/share")
@login_required
def report_share(survey_id: int, report_id: int):
    survey = get_or_404(Survey, survey_id)
    report = _report_or_404(survey, report_id)
    if request.form.get("action") == "revoke":
        revoke(report)
        flash(_("Länken är borttagen: den som har den kan inte längre läsa rapporten."))
    else:
        share(report)
        flash(_("Rapporten kan nu läsas av alla som har länken."))
    db_session().commit()
    return redirect(url_for("results_admin.report_show", survey_id=survey.id, report_id=report.id) + "#share")


@bp.post("/results/reports/<int:report_id>/delete")
@login_required
def report_delete(survey_id: int, report_id: int):
    survey = get_or_404(Survey, survey_id)
    report = _report_or_404(survey, report_id)
    db_session().delete(report)
    db_session().commit()
    flash(_("Rapporten är borttagen."))
    return redirect(url_for("results_admin.reports", survey_id=survey.id))
