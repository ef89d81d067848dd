"""Pages both services share about who runs them: the privacy notice, the accessibility statement,
the organisation settings (admin), uploaded images (logo and media, long-cached) and the favicon."""

from __future__ import annotations

import time
from dataclasses import replace

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    has_request_context,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from shared import organisation
from shared.models import MediaFile
from shared.web import db_session, page_language, services
from shared.web.auth import login_required

bp = Blueprint("organisation", __name__)

YEAR = 365 * 24 * 3600


CACHE_SECONDS = 60.0


def current() -> organisation.Organisation:
    """The organisation's settings (every page's footer shows them), read at most once a minute per
    process: a respondent's page should not cost a query for them. Saving clears this process's copy."""
    return replace(_read())


def _read() -> organisation.Organisation:
    """The settings as read last, shared by every request of the process: never change the object."""
    cached = current_app.extensions.get("organisation")
    now = time.monotonic()
    if cached is None or now - cached[0] > CACHE_SECONDS:
        try:
            cached = (now, organisation.load(db_session(), services().config))
        except SQLAlchemyError:
            # The database is away and this is most likely its 503 page: the footer must not fail
            # too. The last settings read, or the configured name, until the database is back.
            config = services().config
            return cached[1] if cached else organisation.Organisation(name=config.organisation_name)
        current_app.extensions["organisation"] = cached
    found: organisation.Organisation = cached[1]
    return found


def footer() -> Markup:
    """The footer every page ends with, rendered once per reading of the settings, language and
    address of the app: it is the same for every visitor, and rendering it per page cost a tenth of
    a respondent's page."""
    settings = _read()
    key = (page_language(), request.script_root if has_request_context() else "")
    kept: dict[tuple[str, str], tuple[organisation.Organisation, Markup]] = current_app.extensions.setdefault(
        "footers", {}
    )
    found = kept.get(key)
    if found is None or found[0] is not settings:
        found = (settings, Markup(render_template("_footer.html", org=settings)))  # noqa: S704  # the template escapes
        kept[key] = found
    return found[1]


def _service_name() -> str:
    mailer = current_app.config["SERVICE"] == "mailer"
    return str(_("nyhetsbrevstjänsten") if mailer else _("enkättjänsten"))


@bp.get("/privacy")
def privacy() -> ResponseReturnValue:
    text = organisation.privacy_notice(current(), organisation.consent_versions(db_session()))
    return render_template(
        "organisation/page.html", title=_("Så behandlar vi personuppgifter"), body=organisation.as_html(text)
    )


@bp.get("/accessibility")
def accessibility() -> ResponseReturnValue:
    text = organisation.accessibility_statement(current(), _service_name())
    return render_template(
        "organisation/page.html",
        title=_("Tillgänglighetsredogörelse för %(service)s", service=_service_name()),
        body=organisation.as_html(text),
    )


@bp.get("/bilder/<int:media_id>/<name>")
def media(media_id: int, name: str) -> ResponseReturnValue:
    """An uploaded image. Its address never changes content (a new upload gets a new id): cached a year."""
    found = db_session().get(MediaFile, media_id)
    if found is None:
        abort(404)
    response = Response(found.data, mimetype=found.content_type)
    response.headers["Cache-Control"] = f"public, max-age={YEAR}, immutable"
    response.headers["Content-Disposition"] = "inline"
    return response


@bp.get("/favicon.ico")
def favicon() -> ResponseReturnValue:
    return redirect(url_for("static", filename="favicon.svg"), code=301)


@bp.route("/admin/organisation", methods=["GET", "POST"])
@login_required
def settings() -> ResponseReturnValue:
    s = db_session()
    values = current()
    errors: list[tuple[str, str, str]] = []
    if request.method == "POST":
        submitted = {key: request.form.get(key, "") for key in organisation.KEYS}
        if submitted["logo_id"] and (
            not submitted["logo_id"].isdigit() or s.get(MediaFile, int(submitted["logo_id"])) is None
        ):
            submitted["logo_id"] = ""  # an image deleted meanwhile, or a tampered form: no logo
        email = submitted.get("contact_email", "").strip()
        if email and ("@" not in email or any(ch.isspace() for ch in email)):
            errors.append(("contact_email", _("E-post för kontakt"), _("Skriv adressen i formatet namn@exempel.se.")))
        website = submitted.get("website", "").strip()
        if website and not website.startswith(("https://", "http://")):
            errors.append(("website", _("Webbplats"), _("Skriv hela adressen, med https://.")))
        if not errors:
            organisation.save(s, submitted)
            s.commit()
            current_app.extensions.pop("organisation", None)
            flash(_("Organisationens uppgifter är sparade."))
            return redirect(url_for("organisation.settings"))
        for key, value in submitted.items():
            setattr(values, key, value)
    return render_template(
        "organisation/settings.html",
        values=values,
        errors=errors,
        privacy_default=organisation.privacy_notice(organisation.Organisation(name=values.name), []),
        accessibility_default=organisation.accessibility_statement(
            organisation.Organisation(name=values.name), _service_name()
        ),
        images=s.scalars(select(MediaFile).order_by(MediaFile.id.desc())).all(),
    ), (400 if errors else 200)
