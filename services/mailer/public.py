"""What readers see first: the start page is the subscribe page (or a choice of lists)."""

from flask import Blueprint

from services.mailer.subscriptions.public import index as subscriptions_index

bp = Blueprint("public", __name__)


@bp.route("/", methods=["GET", "POST"])
def index():
    return subscriptions_index()
