"""Staff accounts: passwords (argon2, and the rules a new one meets), signing in with limits on
failures, invitations with a one-time link, roles, disabling and removing.

Both services and the ``utskick admin`` commands use these functions; each takes a session and
works in the caller's transaction (the caller commits), except ``sign_in``, which needs two.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache
from pathlib import Path

import argon2.profiles
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared import ratelimit
from shared.clock import utcnow
from shared.config import Config
from shared.db import Database
from shared.i18n import DEFAULT_LANGUAGE
from shared.mail.outbox import enqueue
from shared.models import AccountStatus, AdminUser, MailKind, Role
from shared.tokens import TokenExpired, TokenInvalid, Tokens

COMMON_PASSWORDS = Path(__file__).parent / "data" / "common-passwords.txt"
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256  # a passphrase fits; more only costs hashing time


class AccountError(ValueError):
    """A change that cannot be made; ``str(exc)`` is a message for the person, ``field`` the form field."""

    def __init__(self, message: str, field: str = ""):
        super().__init__(message)
        self.field = field


class Passwords:
    """Hashing and checking passwords with argon2.

    ``for_config`` gives the library's recommended parameters (a hash costs a good fraction of a
    second on purpose), or, for a test configuration only, argon2's cheapest profile, which its
    authors provide for test suites: the suite hashes hundreds of passwords.
    """

    def __init__(self, hasher: PasswordHasher):
        self._hasher = hasher
        self._dummy: str | None = None

    @staticmethod
    def for_config(config: Config) -> Passwords:
        return _TEST_PASSWORDS if config.testing else _PASSWORDS

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        """Whether the password matches; with no hash (no such account, or no password yet) the
        check still runs against a dummy, so that a wrong address takes as long as a wrong password."""
        if password_hash is None:
            if self._dummy is None:
                self._dummy = self._hasher.hash("not a real password")
            self.verify(self._dummy, password)
            return False
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)


_PASSWORDS = Passwords(PasswordHasher())
_TEST_PASSWORDS = Passwords(PasswordHasher.from_parameters(argon2.profiles.CHEAPEST))


def _normal(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold().strip()


@cache
def common_passwords() -> frozenset[str]:
    """The list shipped in ``shared/data/common-passwords.txt`` (one a line), compared without case."""
    return frozenset(_normal(line) for line in COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines() if line)


def password_problem(password: str, email: str = "") -> str | None:
    """Why this password may not be chosen (a message for the person choosing it), or None."""
    problem: str | None = None
    if len(password) < MIN_PASSWORD_LENGTH:
        problem = _("Lösenordet måste ha minst %(n)s tecken.", n=MIN_PASSWORD_LENGTH)
    elif len(password) > MAX_PASSWORD_LENGTH:
        problem = _("Lösenordet får ha högst %(n)s tecken.", n=MAX_PASSWORD_LENGTH)
    elif _normal(password) in common_passwords():
        problem = _("Lösenordet är ett av de vanligaste lösenorden och gissas lätt. Välj ett annat.")
    elif email and _normal(password) in {_normal(email), _normal(email.partition("@")[0])}:
        problem = _("Lösenordet får inte vara din e-postadress.")
    return problem


def _checked_password(password: str, email: str, field: str = "password") -> str:
    problem = password_problem(password, email)
    if problem:
        raise AccountError(problem, field)
    return password


def _role(role: Role | str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise AccountError(f"role must be one of {', '.join(Role)}", "role") from None


def normal_email(email: str) -> str:
    return email.strip().lower()


def find_account(session: Session, email: str) -> AdminUser | None:
    return session.scalar(select(AdminUser).where(func.lower(AdminUser.email) == normal_email(email)))


def list_accounts(session: Session) -> list[AdminUser]:
    return list(session.scalars(select(AdminUser).order_by(AdminUser.email)))


def create_admin(
    session: Session, passwords: Passwords, email: str, password: str, role: Role | str = Role.ADMIN
) -> AdminUser:
    """A new active account, or a new password and role for the one with this address."""
    email, role = normal_email(email), _role(role)
    _checked_password(password, email)
    user = find_account(session, email)
    if user is None:
        user = AdminUser(email=email, role=role, status=AccountStatus.ACTIVE, session_version=0, created_at=utcnow())
        session.add(user)
    else:
        _last_admin_stays(session, user, role=role)
        user.role = role
        user.status = AccountStatus.ACTIVE
        end_sessions(user)
    user.password_hash = passwords.hash(password)
    session.flush()
    return user


# -- signing in and out -----------------------------------------------------------------------


class SignInOutcome(StrEnum):
    OK = "ok"
    REFUSED = "refused"  # wrong address or password, no password yet, or not for this service
    DISABLED = "disabled"  # the right password for an account that is switched off
    LIMITED = "limited"  # too many failures for the account or from the address


@dataclass(frozen=True)
class SignIn:
    outcome: SignInOutcome
    user_id: int | None = None
    session_version: int = 0
    retry_after: int = 0  # seconds, when LIMITED


def _failure_keys(config: Config, email: str, ip: str | None) -> list[tuple[str, int]]:
    keys = [(f"login-account:{normal_email(email)}", config.login_failures_per_account)]
    if ip:
        keys.append((f"login-address:{ip}", config.login_failures_per_address))
    return keys


def sign_in(
    db: Database,
    passwords: Passwords,
    config: Config,
    service: str,
    email: str,
    password: str,
    ip: str | None,
    now: datetime | None = None,
) -> SignIn:
    """Check a sign-in, counting it as a failure against the account and the address unless it succeeds.

    The attempt is counted first, in a transaction of its own that is committed at once (so that
    parallel attempts see it and the limits' locks are not held while argon2 works); a success
    gives its count back. Over a limit, nothing is checked at all.
    """
    now = now or utcnow()
    window = timedelta(minutes=config.login_failure_window_minutes)
    with db.transaction() as session:
        taken: list[ratelimit.Verdict] = []
        for key, limit in _failure_keys(config, email, ip):
            verdict = ratelimit.take(session, key, limit, window, now)
            if not verdict.allowed:
                for earlier in taken:
                    ratelimit.give_back(session, earlier)
                return SignIn(SignInOutcome.LIMITED, retry_after=verdict.retry_after)
            taken.append(verdict)
    with db.transaction() as session:
        user = find_account(session, email)
        if not passwords.verify(user.password_hash if user else None, password) or user is None:
            return SignIn(SignInOutcome.REFUSED)
        if user.status == AccountStatus.DISABLED:
            return SignIn(SignInOutcome.DISABLED)
        if not user.may_use(service):
            return SignIn(SignInOutcome.REFUSED)
        for verdict in taken:
            ratelimit.give_back(session, verdict)
        if passwords.needs_rehash(user.password_hash or ""):
            user.password_hash = passwords.hash(password)
        user.last_login_at = now
        return SignIn(SignInOutcome.OK, user.id, user.session_version)


def end_sessions(user: AdminUser) -> None:
    """Every session of this account, in both services, ends at its next request."""
    user.session_version += 1


# -- invitations and password links -----------------------------------------------------------


class LinkProblem(StrEnum):
    EXPIRED = "expired"
    USED = "used"  # used already, replaced by a newer link, or the account changed since
    INVALID = "invalid"


def password_link(tokens: Tokens, base_url: str, user: AdminUser) -> str:
    """The one-time link to choose a password: it names the account's session version, which
    choosing the password moves on, so the link works once."""
    token = tokens.dumps("account", [user.id, user.session_version])
    return f"{base_url}/admin/set-password/{token}"


def check_password_link(session: Session, config: Config, tokens: Tokens, token: str) -> AdminUser | LinkProblem:
    """The account a password link is for, or why it cannot be used (changes nothing)."""
    try:
        payload = tokens.loads("account", token, max_age=config.invitation_link_days * 24 * 3600)
    except TokenExpired:
        return LinkProblem.EXPIRED
    except TokenInvalid:
        return LinkProblem.INVALID
    if not (isinstance(payload, list) and len(payload) == 2 and all(type(v) is int for v in payload)):
        return LinkProblem.INVALID
    user = session.get(AdminUser, payload[0])
    if user is None or user.status == AccountStatus.DISABLED or user.session_version != payload[1]:
        return LinkProblem.USED
    return user


def set_password_from_link(
    session: Session, passwords: Passwords, config: Config, tokens: Tokens, token: str, password: str
) -> AdminUser | LinkProblem:
    """Choose a password through a link: the account becomes active, the link and every session end."""
    found = check_password_link(session, config, tokens, token)
    if isinstance(found, LinkProblem):
        return found
    found.password_hash = passwords.hash(_checked_password(password, found.email, "new"))
    found.status = AccountStatus.ACTIVE
    end_sessions(found)
    return found


def service_url(config: Config, role: Role) -> str:
    """Where an account of this role works: evaluators in the survey service, the others in the mailer."""
    return config.survey_url if role == Role.EVALUATOR else config.mailer_url


def send_password_link(
    session: Session, config: Config, tokens: Tokens, user: AdminUser, language: str = DEFAULT_LANGUAGE
) -> None:
    """Mail the account a link to choose its password (an invitation while it has none yet)."""
    invited = user.status == AccountStatus.INVITED
    kind = MailKind.ACCOUNT_INVITATION if invited else MailKind.PASSWORD_LINK
    context = {
        "invited": invited,
        "link": password_link(tokens, service_url(config, user.role), user),
        "days": config.invitation_link_days,
        "role": user.role,
        "organisation_name": config.organisation_name,
        "sign_in_url": f"{service_url(config, user.role)}/admin/login",
    }
    with force_locale(language):
        subject = (
            _("Du är inbjuden till %(organisation)s", organisation=config.organisation_name)
            if invited
            else _("Välj ett nytt lösenord")
        )
        text = render_template("mail/password_link.txt", **context)
        # Rendered by an autoescaping template: already safe HTML.
        body = Markup(render_template("mail/password_link.html", **context))  # noqa: S704
        html = render_template(
            "mail/layout.html",
            subject=subject,
            body=body,
            footer=_(
                "Du får det här mejlet eftersom en administratör hos %(organisation)s skickade det.",
                organisation=config.organisation_name,
            ),
            organisation_name=config.organisation_name,
            language=language,
        )
    enqueue(session, config, kind=kind, to_email=user.email, subject=subject, text=text, html=html, language=language)


def invite(
    session: Session, config: Config, tokens: Tokens, email: str, role: Role | str, language: str = DEFAULT_LANGUAGE
) -> AdminUser:
    """A new account without a password, and a mail with the link to choose one."""
    email, role = normal_email(email), _role(role)
    existing = find_account(session, email)
    if existing is not None and existing.status != AccountStatus.INVITED:
        raise AccountError(_("Det finns redan ett konto med adressen."), "email")
    user = existing or AdminUser(
        email=email, role=role, status=AccountStatus.INVITED, session_version=0, created_at=utcnow()
    )
    user.role = role
    session.add(user)
    session.flush()
    send_password_link(session, config, tokens, user, language)
    return user


# -- what an admin changes --------------------------------------------------------------------


def _active_admins(session: Session) -> int:
    return (
        session.scalar(
            select(func.count()).where(AdminUser.role == Role.ADMIN, AdminUser.status == AccountStatus.ACTIVE)
        )
        or 0
    )


def _last_admin_stays(session: Session, user: AdminUser, *, role: Role | None = None, leaving: bool = False) -> None:
    """Someone must be able to manage the accounts: the last active admin keeps the role and the account."""
    stays_admin = not leaving and (role is None or role == Role.ADMIN)
    last_admin = user.role == Role.ADMIN and user.status == AccountStatus.ACTIVE and _active_admins(session) <= 1
    if last_admin and not stays_admin:
        raise AccountError(_("Det måste finnas minst en aktiv administratör."))


def _not_yourself(actor: AdminUser | None, user: AdminUser) -> None:
    if actor is not None and actor.id == user.id:
        raise AccountError(
            _("Du kan inte ändra roll på, stänga av eller ta bort ditt eget konto. Be en annan administratör.")
        )


def set_role(session: Session, actor: AdminUser | None, user: AdminUser, role: Role | str) -> None:
    role = _role(role)
    _not_yourself(actor, user)
    _last_admin_stays(session, user, role=role)
    user.role = role


def disable(session: Session, actor: AdminUser | None, user: AdminUser) -> None:
    """The account can no longer sign in, and its sessions end; it can be enabled again."""
    _not_yourself(actor, user)
    _last_admin_stays(session, user, leaving=True)
    user.status = AccountStatus.DISABLED
    end_sessions(user)


def enable(session: Session, actor: AdminUser | None, user: AdminUser) -> None:
    _not_yourself(actor, user)
    user.status = AccountStatus.ACTIVE if user.password_hash else AccountStatus.INVITED
    end_sessions(user)  # a password link sent before it was disabled stays dead


def remove(session: Session, actor: AdminUser | None, user: AdminUser) -> None:
    """Delete the account (the issues and jobs it created stay, without a link to it)."""
    _not_yourself(actor, user)
    _last_admin_stays(session, user, leaving=True)
    session.delete(user)


def change_password(session: Session, passwords: Passwords, user: AdminUser, current: str, new: str) -> None:
    """A person's own new password; their other sessions end (the caller renews the current one)."""
    if not passwords.verify(user.password_hash, current):
        raise AccountError(_("Det nuvarande lösenordet stämmer inte."), "current")
    if current == new:
        raise AccountError(_("Välj ett annat lösenord än det nuvarande."), "new")
    user.password_hash = passwords.hash(_checked_password(new, user.email, "new"))
    end_sessions(user)


def set_password(session: Session, passwords: Passwords, user: AdminUser, password: str) -> None:
    """A new password set by an operator (``utskick admin password``): every session ends."""
    user.password_hash = passwords.hash(_checked_password(password, user.email))
    if user.status == AccountStatus.INVITED:
        user.status = AccountStatus.ACTIVE
    end_sessions(user)
