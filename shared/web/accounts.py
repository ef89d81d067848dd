"""Account pages in both services: admins list, invite, change role, disable and remove accounts;
everyone changes their own password; an invitation's link sets the first password."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, Field, PasswordField, SelectField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from shared import accounts
from shared.accounts import AccountError, LinkProblem
from shared.models import AdminUser, Role
from shared.web import db_session, get_or_404, page_language, services
from shared.web.auth import admin_required, current_admin, login_required, start_session

bp = Blueprint("accounts", __name__)


def _role_choices() -> list[tuple[str, str]]:
    return [(role.value, str(role.label)) for role in Role]


# Flask-WTF ships no type information (see [tool.mypy] in pyproject.toml), so FlaskForm is Any to mypy.
class InviteForm(FlaskForm):  # type: ignore[misc]
    email = EmailField(
        _l("E-postadress"),
        validators=[
            DataRequired(_l("Fyll i e-postadressen.")),
            Length(max=320, message=_l("Adressen är för lång.")),
            Email(_l("Skriv e-postadressen i formatet namn@exempel.se."), check_deliverability=False),
        ],
    )
    role = SelectField(_l("Roll"), choices=_role_choices, default=Role.EDITOR.value)


class RoleForm(FlaskForm):  # type: ignore[misc]
    role = SelectField(_l("Roll"), choices=_role_choices)


def _new_password() -> PasswordField:
    return PasswordField(_l("Nytt lösenord"), validators=[DataRequired(_l("Fyll i ett nytt lösenord."))])


def _repeated() -> PasswordField:
    return PasswordField(
        _l("Samma lösenord igen"),
        validators=[DataRequired(_l("Fyll i lösenordet en gång till.")), EqualTo("new", _l("Lösenorden är olika."))],
    )


class NewPasswordForm(FlaskForm):  # type: ignore[misc]
    new = _new_password()
    repeat = _repeated()


class ChangePasswordForm(FlaskForm):  # type: ignore[misc]
    current = PasswordField(_l("Nuvarande lösenord"), validators=[DataRequired(_l("Fyll i ditt nuvarande lösenord."))])
    new = _new_password()
    repeat = _repeated()


def _signed_in() -> AdminUser:
    admin = current_admin()
    if admin is None:  # the views below are behind login_required
        abort(403)
    return admin


def _field_error(form: FlaskForm, exc: AccountError, default: str) -> None:
    field: Field = getattr(form, exc.field or default)
    field.errors = [*field.errors, str(exc)]


# -- the list and one account (admins) ----------------------------------------------------------


def _list_page(form: InviteForm, status: int = 200) -> ResponseReturnValue:
    return render_template(
        "accounts/index.html", accounts=accounts.list_accounts(db_session()), form=form, me=_signed_in()
    ), status


@bp.get("/admin/accounts/")
@admin_required
def index() -> ResponseReturnValue:
    return _list_page(InviteForm(formdata=None))


@bp.post("/admin/accounts/")
@admin_required
def invite() -> ResponseReturnValue:
    form = InviteForm()
    if form.validate():
        s, svc = db_session(), services()
        try:
            user = accounts.invite(s, svc.config, svc.tokens, form.email.data or "", form.role.data, page_language())
        except AccountError as exc:
            s.rollback()
            _field_error(form, exc, "email")
        else:
            s.commit()
            flash(_("Inbjudan till %(email)s ligger i utkorgen och skickas strax.", email=user.email))
            return redirect(url_for("accounts.index"), code=303)
    return _list_page(form, 422)


def _account_page(
    user: AdminUser, form: RoleForm | None = None, error: str = "", status: int = 200
) -> ResponseReturnValue:
    form = form or RoleForm(formdata=None, role=user.role.value)
    return render_template("accounts/show.html", account=user, form=form, error=error, me=_signed_in()), status


@bp.get("/admin/accounts/<int:account_id>")
@admin_required
def show(account_id: int) -> ResponseReturnValue:
    return _account_page(get_or_404(AdminUser, account_id))


@bp.post("/admin/accounts/<int:account_id>/<any(role, disable, enable, link):action>")
@admin_required
def change(account_id: int, action: str) -> ResponseReturnValue:
    """One change from the account's page: its role, switching it off or on, a new password link."""
    s, svc = db_session(), services()
    user = get_or_404(AdminUser, account_id)
    form = RoleForm()
    try:
        if action == "role":
            if not form.validate():
                return _account_page(user, form, status=422)
            accounts.set_role(s, _signed_in(), user, form.role.data)
            message = _("Rollen är ändrad till %(role)s.", role=user.role.label)
        elif action == "disable":
            accounts.disable(s, _signed_in(), user)
            message = _("Kontot är avstängt och dess inloggningar är avslutade.")
        elif action == "enable":
            accounts.enable(s, _signed_in(), user)
            message = _("Kontot är aktiverat igen.")
        else:
            accounts.send_password_link(s, svc.config, svc.tokens, user, page_language())
            message = _("En länk för att välja lösenord ligger i utkorgen och skickas strax.")
    except AccountError as exc:
        s.rollback()
        return _account_page(user, error=str(exc), status=422)
    s.commit()
    flash(message)
    return redirect(url_for("accounts.show", account_id=account_id), code=303)


@bp.route("/admin/accounts/<int:account_id>/remove", methods=["GET", "POST"])
@admin_required
def remove(account_id: int) -> ResponseReturnValue:
    """Removing cannot be undone, so it has a page of its own to confirm it."""
    s = db_session()
    user = get_or_404(AdminUser, account_id)
    error = ""
    if FlaskForm().validate_on_submit():
        email = user.email
        try:
            accounts.remove(s, _signed_in(), user)
        except AccountError as exc:
            s.rollback()
            error = str(exc)
        else:
            s.commit()
            flash(_("Kontot %(email)s är borttaget.", email=email))
            return redirect(url_for("accounts.index"), code=303)
    return render_template("accounts/remove.html", account=user, error=error), 422 if error else 200


# -- one's own password -------------------------------------------------------------------------


@bp.route("/admin/account/password", methods=["GET", "POST"])
@login_required
def password() -> ResponseReturnValue:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        s, svc, me = db_session(), services(), _signed_in()
        try:
            accounts.change_password(s, svc.passwords, me, form.current.data or "", form.new.data or "")
        except AccountError as exc:
            s.rollback()
            _field_error(form, exc, "new")
        else:
            s.commit()
            start_session(session, me.id, me.session_version)  # this one goes on; the others have ended
            flash(_("Lösenordet är bytt. Du är utloggad överallt utom här."))
            return redirect(url_for("admin.index"), code=303)
    return render_template("accounts/password.html", form=form), 422 if form.errors else 200


# -- the link in an invitation ------------------------------------------------------------------


@bp.route("/admin/set-password/<token>", methods=["GET", "POST"])
def set_password(token: str) -> ResponseReturnValue:
    """Opening the link changes nothing (mail scanners open links); choosing the password does."""
    s, svc = db_session(), services()
    found = accounts.check_password_link(s, svc.config, svc.tokens, token)
    if isinstance(found, LinkProblem):
        return render_template("accounts/link_problem.html", problem=found, LinkProblem=LinkProblem), 410
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            user = accounts.set_password_from_link(s, svc.passwords, svc.config, svc.tokens, token, form.new.data or "")
        except AccountError as exc:
            s.rollback()
            _field_error(form, exc, "new")
        else:
            s.commit()
            if isinstance(user, AdminUser) and user.may_use(current_app.config["SERVICE"]):
                start_session(session, user.id, user.session_version)
                flash(_("Lösenordet är sparat och du är inloggad."))
                return redirect(url_for("admin.index"), code=303)
            flash(_("Lösenordet är sparat. Logga in i den tjänst ditt konto gäller."))
            return redirect(url_for("auth.login"), code=303)
    return render_template("accounts/set_password.html", form=form, account=found), 422 if form.errors else 200
