"""The read-only page of a shared report: anyone with the link reads it until the link is revoked."""

from __future__ import annotations

from flask import Blueprint, abort, render_template

from services.survey.results.charts import percent_text
from services.survey.results.report import build_report, report_by_token
from shared.models import Survey
from shared.web import db_session

bp = Blueprint("results_public", __name__)


@bp.get("/reports/<token>")
def report(token: str):
    s = db_session()
    found = report_by_token(s, token)
    survey = s.get(Survey, found.survey_id) if found is not None else None
    if found is None or survey is None:
        abort(404)
    view = build_report(s, survey, found)
    html = render_template("survey/results/report/shared.html", view=view, pct=percent_text)
    # The link is the key: not to be cached by others, indexed, or passed on to sites it links to.
    headers = {"Cache-Control": "private, no-store", "X-Robots-Tag": "noindex", "Referrer-Policy": "no-referrer"}
    return html, 200, headers
