"""The editors' suppression list: search it, lift an address off it."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from services.mailer.bounces import domain
from shared.models.base import MAX_ROW_ID
from shared.web import db_session
from shared.web.auth import login_required

bp = Blueprint("suppressions_admin", __name__, url_prefix="/admin/suppressions")

PAGE_SIZE = 100


@bp.get("/")
@login_required
def index():
    query = request.args.get("q", "")[:200]
    try:
        page = min(max(1, int(request.args.get("page", "1"))), MAX_ROW_ID)  # an OFFSET the database takes
    except ValueError:
        page = 1
    rows, total = domain.list_suppressions(db_session(), query, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    return render_template(
        "mailer/bounces/suppressions.html",
        rows=rows,
        total=total,
        query=query,
        page=page,
        pages=max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE),
    )


@bp.post("/<int:suppression_id>/lift")
@login_required
def lift(suppression_id: int):
    s = db_session()
    address = domain.lift_suppression(s, suppression_id)
    s.commit()
    if address:
        flash(_("%(address)s får e-post igen.", address=address))
    return redirect(url_for("suppressions_admin.index"))
