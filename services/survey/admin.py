"""What evaluators see first: their surveys (with the form for a new one)."""

from flask import Blueprint

from services.survey.surveys.admin import index as surveys_index
from shared.web.auth import login_required

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/")
@login_required
def index():
    return surveys_index()
