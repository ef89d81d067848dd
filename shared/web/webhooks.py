"""The "Webhooks" pages in both services, beside "API-nycklar": everyone signed in adds, disables and
removes their own webhooks for the service (admins see everyone's); the secret is shown once, on the
page that made it; each webhook's latest deliveries show whether the receiver takes them."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from shared.api import webhooks
from shared.api.destinations import Rules
from shared.models import AdminUser, Role, Webhook, WebhookDeliveryStatus, WebhookEvent
from shared.web import db_session, services
from shared.web.auth import current_admin, login_required

bp = Blueprint("webhooks", __name__)


def _events() -> list[WebhookEvent]:
    return [event for event in WebhookEvent if event.service == current_app.config["SERVICE"]]


# Flask-WTF ships no type information (see [tool.mypy] in pyproject.toml), so FlaskForm is Any to mypy.
class WebhookForm(FlaskForm):  # type: ignore[misc]
    url = StringField(
        _l("Adress (URL)"),
        validators=[
            DataRequired(_l("Skriv adressen som händelserna ska skickas till.")),
            Length(max=2000, message=_l("Adressen är för lång.")),
        ],
    )
    events = SelectMultipleField(
        _l("Händelser"),
        choices=lambda: [(event.value, str(event.label)) for event in _events()],
        validators=[DataRequired(_l("Välj minst en händelse."))],
    )
    response_count = IntegerField(
        _l("Vid antal svar (för ”Enkäten har nått ett antal svar”)"),
        validators=[Optional(), NumberRange(1, 1_000_000, _l("Ange ett tal mellan 1 och 1 000 000."))],
    )


def _me() -> AdminUser:
    admin = current_admin()
    if admin is None:  # behind login_required
        abort(403)
    return admin


def _hook(webhook_id: int) -> Webhook:
    me, hook = _me(), db_session().get(Webhook, webhook_id)
    if (
        hook is None
        or hook.service != current_app.config["SERVICE"]
        or (hook.account_id != me.id and me.role != Role.ADMIN)
    ):
        abort(404)
    return hook


def _page(form: WebhookForm, status: int = 200) -> ResponseReturnValue:
    me = _me()
    shown = webhooks.webhooks_of(db_session(), None if me.role == Role.ADMIN else me.id, current_app.config["SERVICE"])
    return render_template("webhooks/index.html", hooks=shown, form=form, events=_events(), me=me), status


@bp.get("/admin/webhooks/")
@login_required
def index() -> ResponseReturnValue:
    return _page(WebhookForm(formdata=None))


@bp.post("/admin/webhooks/")
@login_required
def create() -> ResponseReturnValue:
    form = WebhookForm()
    if form.validate():
        s = db_session()
        try:
            hook = webhooks.create_webhook(
                s,
                _me(),
                current_app.config["SERVICE"],
                form.url.data or "",
                form.events.data or [],
                form.response_count.data,
                rules=Rules.for_config(services().config),
            )
        except webhooks.WebhookError as exc:
            s.rollback()
            field = getattr(form, exc.field or "url")
            field.errors = [*field.errors, str(exc)]
        else:
            s.commit()
            page = render_template("webhooks/created.html", hook=hook, events=_events())
            # The secret is on this page only: no cache may keep it.
            return page, 201, {"Cache-Control": "no-store"}
    return _page(form, 422)


@bp.get("/admin/webhooks/<int:webhook_id>")
@login_required
def show(webhook_id: int) -> ResponseReturnValue:
    hook = _hook(webhook_id)
    deliveries = webhooks.recent_deliveries(db_session(), hook.id)
    return render_template(
        "webhooks/show.html", hook=hook, deliveries=deliveries, events=_events(), Status=WebhookDeliveryStatus
    )


@bp.post("/admin/webhooks/<int:webhook_id>/disable")
@login_required
def disable(webhook_id: int) -> ResponseReturnValue:
    hook = _hook(webhook_id)
    webhooks.set_disabled(hook, True)
    db_session().commit()
    flash(_("Webhooken till %(url)s är avstängd: den får inga nya händelser.", url=hook.url))
    return redirect(url_for("webhooks.index"), code=303)


@bp.post("/admin/webhooks/<int:webhook_id>/enable")
@login_required
def enable(webhook_id: int) -> ResponseReturnValue:
    hook = _hook(webhook_id)
    webhooks.set_disabled(hook, False)
    db_session().commit()
    flash(_("Webhooken till %(url)s är påslagen igen.", url=hook.url))
    return redirect(url_for("webhooks.index"), code=303)


@bp.post("/admin/webhooks/<int:webhook_id>/remove")
@login_required
def remove(webhook_id: int) -> ResponseReturnValue:
    hook = _hook(webhook_id)
    url = hook.url
    db_session().delete(hook)
    db_session().commit()
    flash(_("Webhooken till %(url)s är borttagen.", url=url))
    return redirect(url_for("webhooks.index"), code=303)
