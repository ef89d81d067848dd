"""Friendly error pages in the site's style; the cause goes to the log, never to the screen."""

import logging

from flask import Flask, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException

from shared.logs import loggable_exception

log = logging.getLogger(__name__)


def _messages() -> dict[int, tuple[str, str]]:
    return {
        400: (
            _("Något i förfrågan var fel"),
            _("Sidan kunde inte visas eftersom förfrågan var ofullständig. Gå tillbaka och försök igen."),
        ),
        403: (_("Du har inte behörighet"), _("Du har inte behörighet att se den här sidan.")),
        404: (
            _("Sidan finns inte"),
            _("Vi hittar inte sidan du söker. Kontrollera adressen eller gå till startsidan."),
        ),
        405: (_("Det gick inte att göra så"), _("Sidan kan inte användas på det sättet. Gå tillbaka och försök igen.")),
        413: (
            _("Det du skickade är för stort"),
            _(
                "Sidan tar inte emot så mycket på en gång. "
                "Gå tillbaka och försök med en mindre fil eller en kortare text."
            ),
        ),
        429: (_("För många försök"), _("Du har gjort för många försök på kort tid. Vänta en stund och försök igen.")),
        503: (
            _("Tjänsten är inte tillgänglig just nu"),
            _("Vi kommer inte åt våra uppgifter för tillfället. Försök igen om en stund."),
        ),
        500: (_("Något gick fel hos oss"), _("Ett oväntat fel inträffade. Felet är loggat. Försök igen om en stund.")),
    }


def render_error(code: int, title: str | None = None, message: str | None = None) -> tuple[str, int]:
    default_title, default_message = _messages().get(code, _messages()[500])
    return (
        render_template(
            "errors/error.html", code=code, title=title or default_title, message=message or default_message
        ),
        code,
    )


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError) -> ResponseReturnValue:
        return render_error(
            400,
            _("Formuläret hade gått ut"),
            _("Av säkerhetsskäl behöver sidan laddas om. Gå tillbaka, ladda om sidan och skicka igen."),
        )

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> ResponseReturnValue:
        if exc.code in (301, 302, 303, 307, 308):
            return exc
        if request.path.startswith("/api/"):  # programs get problem+json, not a page
            from shared.api.problems import problem

            return problem(exc.code or 500, exc.description or "")
        return render_error(exc.code or 500)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> ResponseReturnValue:
        if isinstance(exc, HTTPException):
            return _http(exc)
        if isinstance(exc, OperationalError | InterfaceError):
            # The database is away (restarting, unreachable) or busy: not the visitor's fault, and
            # it passes. Retry-After tells well-behaved clients when to come back.
            log.error("database unavailable: %s", loggable_exception(exc))
            body, code = render_error(503)
            return body, code, {"Retry-After": "30"}
        log.error("unhandled error: %s", loggable_exception(exc))
        if request.path.startswith("/api/"):
            from shared.api.problems import problem

            return problem(500, "An unexpected error; it is logged.")
        return render_error(500)
