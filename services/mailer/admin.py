"""What editors see first: an overview of the lists and of mail waiting to go."""

from flask import Blueprint, render_template

from services.mailer.outbox.domain import waiting_counts
from services.mailer.subscriptions.people import counts_per_list
from shared.web import db_session
from shared.web.auth import login_required

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/")
@login_required
def index():
    s = db_session()
    return render_template("mailer/admin/index.html", lists=counts_per_list(s), outbox=waiting_counts(s))
