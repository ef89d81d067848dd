"""What evaluators see: their surveys."""
from flask import Blueprint, render_template

from shared.web.auth import login_required

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/")
@login_required
def index():
    return render_template("survey/admin/index.html")
