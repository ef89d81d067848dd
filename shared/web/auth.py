"""Staff sign-in for both services. Every admin page is wrapped in ``login_required``.

The session cookie is signed, so it cannot be forged, but a copy of it would work for as long as
it is valid. So it carries the account's session version and two times, and each request checks
them against the account: signing out, a new password or disabling the account moves the version
on and ends every session of the account in both services; a session also ends after
``SESSION_IDLE_HOURS`` without a request and ``SESSION_MAX_DAYS`` after signing in.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask.sessions import SessionMixin
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired

from shared import accounts
from shared.accounts import SignInOutcome
from shared.clock import utcnow
from shared.models import AccountStatus, AdminUser, Role
from shared.web import db_session, services
from shared.web.errors import render_error

bp = Blueprint("auth", __name__)
P = ParamSpec("P")
SESSION_KEYS = ("admin_id", "admin_version", "signed_in_at", "seen_at")
SEEN_EVERY = 60  # seconds: how often a request renews the idle time (and so rewrites the cookie)


# Flask-WTF ships no type information (see [tool.mypy] in pyproject.toml), so FlaskForm is Any to mypy.
class LoginForm(FlaskForm):  # type: ignore[misc]
    email = EmailField(_l("E-postadress"), validators=[DataRequired(_l("Fyll i din e-postadress."))])
    password = PasswordField(_l("Lösenord"), validators=[DataRequired(_l("Fyll i ditt lösenord."))])


def start_session(cookie: SessionMixin, user_id: int, session_version: int) -> None:
    """Sign in: a fresh session (nothing from before it survives) naming the account and its version."""
    now = int(utcnow().timestamp())
    cookie.clear()
    cookie.update(admin_id=user_id, admin_version=session_version, signed_in_at=now, seen_at=now)


def _session_admin() -> AdminUser | None:
    user_id = session.get("admin_id")
    if not isinstance(user_id, int):
        return None
    user = db_session().get(AdminUser, user_id)
    config = services().config
    now = int(utcnow().timestamp())
    signed_in_at, seen_at = session.get("signed_in_at", 0), session.get("seen_at", 0)
    valid = (
        user is not None
        and user.status == AccountStatus.ACTIVE
        and session.get("admin_version") == user.session_version
        and isinstance(signed_in_at, int)
        and isinstance(seen_at, int)
        and now - signed_in_at < config.session_max_days * 86400
        and now - seen_at < config.session_idle_hours * 3600
        and user.may_use(current_app.config["SERVICE"])
    )
    if not valid or user is None:
        for key in SESSION_KEYS:
            session.pop(key, None)
        return None
    if now - seen_at >= SEEN_EVERY:
        session["seen_at"] = now
    return user


def current_admin() -> AdminUser | None:
    """The signed-in account, if the session is still valid for this service."""
    if "admin" not in g:
        g.admin = _session_admin()
    admin: AdminUser | None = g.admin
    return admin


def login_required(view: Callable[P, ResponseReturnValue]) -> Callable[P, ResponseReturnValue]:
    @wraps(view)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> ResponseReturnValue:
        if current_admin() is None:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapped


def admin_required(view: Callable[P, ResponseReturnValue]) -> Callable[P, ResponseReturnValue]:
    """Only for the role admin (account management); others signed in get 403."""

    @wraps(view)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> ResponseReturnValue:
        admin = current_admin()
        if admin is None:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        if admin.role != Role.ADMIN:
            abort(403)
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


def _wait_text(seconds: int) -> str:
    minutes = max(1, -(-seconds // 60))
    return str(ngettext("om %(num)s minut", "om %(num)s minuter", minutes))


@bp.route("/admin/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        svc = services()
        # DataRequired has made sure of both; wtforms types a field's data as optional.
        attempt = accounts.sign_in(
            svc.db,
            svc.passwords,
            svc.config,
            current_app.config["SERVICE"],
            form.email.data or "",
            form.password.data or "",
            request.remote_addr,
        )
        if attempt.outcome == SignInOutcome.LIMITED:
            page, status = render_error(
                429,
                message=_(
                    "Det har gjorts för många misslyckade inloggningsförsök för kontot eller från din "
                    "adress. Försök igen %(when)s.",
                    when=_wait_text(attempt.retry_after),
                ),
            )
            return page, status, {"Retry-After": str(attempt.retry_after)}
        if attempt.outcome == SignInOutcome.OK and attempt.user_id is not None:
            start_session(session, attempt.user_id, attempt.session_version)
            return redirect(_safe_next(request.args.get("next")))
        if attempt.outcome == SignInOutcome.DISABLED:
            error = _("Kontot är avstängt. Kontakta en administratör om du behöver det igen.")
        else:
            error = _("Fel e-postadress eller lösenord, eller så saknar kontot behörighet till den här tjänsten.")
    return render_template("auth/login.html", form=form, error=error)


@bp.post("/admin/logout")
def logout() -> ResponseReturnValue:
    """Signing out ends every session of the account, in both services and on every device."""
    admin = current_admin()
    if admin is not None:
        accounts.end_sessions(admin)
        db_session().commit()
    session.clear()
    flash(_("Du är utloggad."))
    return redirect(url_for("auth.login"))
