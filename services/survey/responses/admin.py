"""The evaluator's preview: the respondent's pages, answers checked but never stored."""

from __future__ import annotations

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _

from services.survey.responses.forms import check_questions, pick
from services.survey.responses.public import page_context
from services.survey.surveys.questions import definition_of
from shared.models import Survey
from shared.web import get_or_404
from shared.web.auth import login_required
from shared.web.security import CSP

# The preview may be shown in a frame of our own (the phone-width preview); nowhere else.
FRAMED_BY_US = CSP.replace("frame-ancestors 'none'", "frame-ancestors 'self'")

bp = Blueprint("responses_admin", __name__, url_prefix="/admin/surveys/<int:survey_id>")


@bp.route("/preview", methods=["GET", "POST"])
@login_required
def preview(survey_id: int):
    """The respondent's view; answers are checked but never stored."""
    survey = get_or_404(Survey, survey_id)
    pages = definition_of(survey).pages
    values, errors = {}, {}
    page = request.args.get("page", 0, type=int)
    if request.method == "POST":
        page = request.form.get("page", 0, type=int)
        page = min(max(page, 0), len(pages) - 1)
        values = pick(pages[page].questions, request.form)
        action = request.form.get("action", "next")
        if action in ("next", "submit"):
            errors = check_questions(pages[page].questions, values, require=True)
        if not errors:
            if action == "submit":
                flash(_("Förhandsvisningen är slut. Så här långt kommer den som svarar; svaren sparades inte."))
                return redirect(url_for("surveys_admin.survey", survey_id=survey_id))
            step = -1 if action == "back" else 1
            page = min(max(page + step, 0), len(pages) - 1)
            values = {}
    page = min(max(page, 0), len(pages) - 1)
    context = page_context(survey, page, values, errors, preview=True)
    response = make_response(
        render_template(
            "survey/responses/page.html",
            token="",
            form_action=url_for("responses_admin.preview", survey_id=survey_id),
            **context,
        ),
        422 if errors else 200,
    )
    response.headers["Content-Security-Policy"] = FRAMED_BY_US
    return response


@bp.get("/preview/phone")
@login_required
def phone_preview(survey_id: int):
    """The respondent's view in a frame as wide as a phone (the preview itself, so it can be answered)."""
    return render_template("survey/responses/phone_preview.html", survey=get_or_404(Survey, survey_id))
