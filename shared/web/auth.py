"""Admin sign-in for both services. Every admin page is wrapped in ``login_required``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import ParamSpec
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired

from shared import ratelimit
from shared.accounts import authenticate
from shared.clock import utcnow
from shared.models import AdminUser
from shared.web import db_session

bp = Blueprint("auth", __name__)
P = ParamSpec("P")


# Flask-WTF ships no type information (see [tool.mypy] in pyproject.toml), so FlaskForm is Any to mypy.
class LoginForm(FlaskForm):  # type: ignore[misc]
    email = EmailField(_l("E-postadress"), validators=[DataRequired(_l("Fyll i din e-postadress."))])
    password = PasswordField(_l("Lösenord"), validators=[DataRequired(_l("Fyll i ditt lösenord."))])


def current_admin() -> AdminUser | None:
    if "admin" not in g:
        user_id = session.get("admin_id")
        user = db_session().get(AdminUser, user_id) if user_id else None
        g.admin = user if user and user.may_use(current_app.config["SERVICE"]) else None
    admin: AdminUser | None = g.admin
    return admin


def login_required(view: Callable[P, ResponseReturnValue]) -> Callable[P, ResponseReturnValue]:
    @wraps(view)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> ResponseReturnValue:
        if current_admin() is None:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapped


def _safe_next(target: str | None) -> str:
    """Only local paths: an open redirect after login would help phishing."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("admin.index")


@bp.app_context_processor
def _admin_in_templates() -> dict[str, Callable[[], AdminUser | None]]:
    return {"current_admin": current_admin}


@bp.route("/admin/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        s = db_session()
        if not ratelimit.allow(s, f"login:{request.remote_addr}", 10, timedelta(minutes=15), utcnow()):
            s.commit()
            abort(429)
        # DataRequired has made sure of both; wtforms types a field's data as optional.
        user = authenticate(s, form.email.data or "", form.password.data or "")
        if user is not None and user.may_use(current_app.config["SERVICE"]):
            s.commit()
            session.clear()
            session["admin_id"] = user.id
            return redirect(_safe_next(request.args.get("next")))
        s.commit()
        error = _("Fel e-postadress eller lösenord, eller så saknar kontot behörighet till den här tjänsten.")
    return render_template("auth/login.html", form=form, error=error)


@bp.post("/admin/logout")
def logout() -> ResponseReturnValue:
    session.clear()
    flash(_("Du är utloggad."))
    return redirect(url_for("auth.login"))
