"""The decline page behind the link in every mail: a button that stops further reminders, and the
mail client's own one-click "unsubscribe" (RFC 8058)."""

from flask import Blueprint, current_app, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import validate_csrf
from wtforms import ValidationError

from services.survey.mailings import domain
from services.survey.responses.public import message, personal_link
from shared.web import csrf, db_session
from shared.web.errors import render_error

bp = Blueprint("mailings", __name__)


@bp.route("/s/<token>/decline", methods=["GET", "POST"])
@csrf.exempt  # checked below, except for the mail client's one-click POST (RFC 8058)
@personal_link
def decline(participant, token: str):
    """GET only shows the button (mail scanners open links); POST declines."""
    if request.method == "POST":
        one_click = request.form.get("List-Unsubscribe") == "One-Click"
        if not one_click and current_app.config.get("WTF_CSRF_ENABLED", True):
            try:
                validate_csrf(request.form.get("csrf_token"))
            except ValidationError:
                return render_error(
                    400,
                    _("Formuläret hade gått ut"),
                    _("Av säkerhetsskäl behöver sidan laddas om. Gå tillbaka, ladda om sidan och skicka igen."),
                )
        domain.decline(db_session(), participant)
        db_session().commit()
        if one_click:
            return "", 204
        return message("declined", participant)
    return render_template(
        "survey/mailings/decline.html", participant=participant, survey=participant.survey, token=token
    )
