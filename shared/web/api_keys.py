"""The "API-nycklar" pages in both services: everyone signed in creates and revokes their own keys
(admins see and revoke everyone's); a new key is shown once, on the page that created it."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, Optional

from shared.api import keys
from shared.models import AdminUser, ApiKey, ApiScope, Role
from shared.web import db_session
from shared.web.auth import current_admin, login_required

bp = Blueprint("api_keys", __name__)


def _scope_choices() -> list[tuple[str, str]]:
    return [(scope.value, str(scope.label)) for scope in ApiScope]


# Flask-WTF ships no type information (see [tool.mypy] in pyproject.toml), so FlaskForm is Any to mypy.
class KeyForm(FlaskForm):  # type: ignore[misc]
    name = StringField(
        _l("Namn"),
        validators=[
            DataRequired(_l("Ge nyckeln ett namn, till exempel systemet som ska använda den.")),
            Length(max=keys.MAX_NAME_LENGTH, message=_l("Namnet är för långt.")),
        ],
    )
    scopes = SelectMultipleField(
        _l("Behörigheter"),
        choices=_scope_choices,
        validators=[DataRequired(_l("Välj minst en behörighet."))],
    )
    expires = DateField(_l("Sista giltighetsdag (frivilligt)"), validators=[Optional()])


def _me() -> AdminUser:
    admin = current_admin()
    if admin is None:  # behind login_required
        abort(403)
    return admin


def _page(form: KeyForm, status: int = 200) -> ResponseReturnValue:
    me = _me()
    shown = keys.keys_of(db_session(), None if me.role == Role.ADMIN else me.id)
    scopes = [scope for scope in ApiScope if me.may_use(scope.service)]
    return render_template("api_keys/index.html", keys=shown, form=form, scopes=scopes, me=me), status


@bp.get("/admin/api-keys/")
@login_required
def index() -> ResponseReturnValue:
    return _page(KeyForm(formdata=None))


@bp.post("/admin/api-keys/")
@login_required
def create() -> ResponseReturnValue:
    form = KeyForm()
    if form.validate():
        s = db_session()
        try:
            new = keys.create_key(
                s,
                _me(),
                form.name.data or "",
                form.scopes.data or [],
                keys.expiry_after_day(form.expires.data) if form.expires.data else None,
            )
        except keys.ApiKeyError as exc:
            s.rollback()
            field = getattr(form, exc.field or "name")
            field.errors = [*field.errors, str(exc)]
        else:
            s.commit()
            page = render_template("api_keys/created.html", key=new.key, secret=new.secret)
            # The key is on this page only: no cache may keep it.
            return page, 201, {"Cache-Control": "no-store"}
    return _page(form, 422)


@bp.post("/admin/api-keys/<int:key_id>/revoke")
@login_required
def revoke(key_id: int) -> ResponseReturnValue:
    s, me = db_session(), _me()
    key = s.get(ApiKey, key_id)
    if key is None or (key.account_id != me.id and me.role != Role.ADMIN):
        abort(404)
    keys.revoke(key)
    s.commit()
    flash(_("Nyckeln %(name)s är återkallad och fungerar inte längre.", name=key.name))
    return redirect(url_for("api_keys.index"), code=303)
