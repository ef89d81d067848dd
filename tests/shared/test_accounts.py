"""Staff accounts without HTTP: password rules, signing in with failure limits, invitations' one-time
links, and the rules that keep someone able to manage the accounts."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from shared import accounts
from shared.accounts import AccountError, LinkProblem, SignInOutcome, create_admin, password_problem
from shared.clock import utcnow
from shared.models import AccountStatus, AdminUser, MailKind, OutboxMail, Role
from shared.tokens import Tokens

PASSWORD = "ett långt lösenord"


@pytest.fixture
def app_ctx(config):
    """A request context (mail templates, translations), as in a request or ``utskick admin``."""
    from services.mailer import create_app

    with create_app(config).test_request_context():
        yield


def test_an_account_gets_a_known_role(db, passwords, config):
    with db.transaction() as session:
        create_admin(session, passwords, "Redaktor@Vastkom.example", PASSWORD, "editor")
    attempt = accounts.sign_in(db, passwords, config, "mailer", "redaktor@vastkom.example", PASSWORD, "192.0.2.1")
    assert attempt.outcome == SignInOutcome.OK
    with db.sessions() as session:
        user = session.get(AdminUser, attempt.user_id)
        assert user.role is Role.EDITOR and user.last_login_at is not None
        assert user.may_use("mailer") and not user.may_use("survey")


@pytest.mark.parametrize(
    "password, problem",
    [
        ("kort", "minst 12 tecken"),
        ("elva tecken", "minst 12 tecken"),
        ("password1234", "de vanligaste lösenorden"),
        ("Lösenord1234", "de vanligaste lösenorden"),  # Swedish, and compared without case
        ("Sommar2024!!", "de vanligaste lösenorden"),
        ("qwertyuiop123", "de vanligaste lösenorden"),
        ("karin.ek.vastkom", "din e-postadress"),
        ("x" * 257, "högst 256 tecken"),
    ],
)
def test_weak_passwords_are_refused_with_the_reason(password, problem):
    assert problem in password_problem(password, "karin.ek.vastkom@kommun.example")


def test_a_long_uncommon_password_is_fine():
    assert password_problem("kaffe vid åsen i maj", "karin@kommun.example") is None


@pytest.mark.parametrize("role, password", [("superuser", PASSWORD), (Role.ADMIN, "kort")])
def test_an_unknown_role_or_a_weak_password_creates_nothing(db, passwords, role, password):
    with db.transaction() as session:
        with pytest.raises(AccountError):
            create_admin(session, passwords, "ny@vastkom.example", password, role)
        assert session.scalars(select(AdminUser)).all() == []


def sign_in(db, passwords, config, email="eva@vastkom.example", password=PASSWORD, ip="192.0.2.1", now=None):
    return accounts.sign_in(db, passwords, config, "survey", email, password, ip, now)


def test_failures_are_limited_per_account_and_successes_never_count(db, passwords, config):
    config = config.with_(login_failures_per_account=3, login_failures_per_address=100)
    with db.transaction() as session:
        create_admin(session, passwords, "eva@vastkom.example", PASSWORD, "evaluator")
    now = utcnow()
    for _ in range(5):  # successes, however many, are not failures
        assert sign_in(db, passwords, config, now=now).outcome == SignInOutcome.OK
    outcomes = [sign_in(db, passwords, config, password="fel", ip=f"192.0.2.{i}", now=now).outcome for i in range(4)]
    assert outcomes == [SignInOutcome.REFUSED] * 3 + [SignInOutcome.LIMITED]
    # Even the right password waits now: the account is under attack from many addresses.
    limited = sign_in(db, passwords, config, now=now + timedelta(minutes=10))
    assert limited.outcome == SignInOutcome.LIMITED and 290 <= limited.retry_after <= 300
    assert sign_in(db, passwords, config, now=now + timedelta(minutes=15, seconds=1)).outcome == SignInOutcome.OK


def test_failures_are_limited_per_address(db, passwords, config):
    config = config.with_(login_failures_per_account=100, login_failures_per_address=2)
    now = utcnow()
    guesses = [sign_in(db, passwords, config, email=f"p{i}@x.example", password="fel", now=now) for i in range(3)]
    assert [g.outcome for g in guesses] == [SignInOutcome.REFUSED] * 2 + [SignInOutcome.LIMITED]
    other_address = sign_in(db, passwords, config, email="p9@x.example", password="fel", ip="198.51.100.7", now=now)
    assert other_address.outcome == SignInOutcome.REFUSED


def test_a_disabled_account_cannot_sign_in(db, passwords, config):
    with db.transaction() as session:
        user = create_admin(session, passwords, "eva@vastkom.example", PASSWORD, "evaluator")
        accounts.disable(session, None, user)
    assert sign_in(db, passwords, config).outcome == SignInOutcome.DISABLED
    assert sign_in(db, passwords, config, password="fel").outcome == SignInOutcome.REFUSED  # says nothing more


def test_an_invitation_link_sets_the_password_once(app_ctx, db, passwords, config):
    tokens = Tokens(config.secret_keys)
    with db.transaction() as session:
        user = accounts.invite(session, config, tokens, "Ny.Person@Vastkom.example", "evaluator")
        mail = session.scalar(select(OutboxMail))
        assert (mail.kind, mail.recipient) == (MailKind.ACCOUNT_INVITATION, "ny.person@vastkom.example")
        assert user.status == AccountStatus.INVITED and user.password_hash is None
    # The link as the mail carries it (a link signed again a second later would differ in its time).
    found = re.search(rb"/admin/set-password/([\w.-]+)", mail.message.replace(b"=\r\n", b""))
    assert found, "the invitation carries the set-password link"
    token = found.group(1).decode()
    assert sign_in(db, passwords, config, email="ny.person@vastkom.example", password="").outcome == "refused"
    with db.transaction() as session, pytest.raises(AccountError):
        accounts.set_password_from_link(session, passwords, config, tokens, token, "password1234")
    with db.transaction() as session:
        user = accounts.set_password_from_link(session, passwords, config, tokens, token, PASSWORD)
        assert user.status == AccountStatus.ACTIVE
    with db.transaction() as session:
        assert accounts.check_password_link(session, config, tokens, token) == LinkProblem.USED
    assert sign_in(db, passwords, config, email="ny.person@vastkom.example").outcome == SignInOutcome.OK


def test_an_invitation_is_for_a_new_address_only(app_ctx, db, passwords, config):
    with db.transaction() as session:
        create_admin(session, passwords, "eva@vastkom.example", PASSWORD, "evaluator")
    with db.transaction() as session, pytest.raises(AccountError, match="finns redan"):
        accounts.invite(session, config, Tokens(config.secret_keys), "eva@vastkom.example", "editor")


def test_the_last_active_admin_stays_and_nobody_changes_their_own_account(db, passwords):
    with db.transaction() as session:
        admin = create_admin(session, passwords, "admin@vastkom.example", PASSWORD, "admin")
        editor = create_admin(session, passwords, "red@vastkom.example", PASSWORD, "editor")
        for change in (
            lambda: accounts.disable(session, None, admin),
            lambda: accounts.remove(session, None, admin),
            lambda: accounts.set_role(session, None, admin, "editor"),
        ):
            with pytest.raises(AccountError, match="minst en aktiv administratör"):
                change()
        accounts.set_role(session, admin, editor, "admin")
        with pytest.raises(AccountError, match="ditt eget konto"):
            accounts.disable(session, admin, admin)
        accounts.disable(session, editor, admin)  # another admin may
        assert admin.status == AccountStatus.DISABLED


def test_changing_the_password_needs_the_current_one_and_ends_sessions(db, passwords):
    with db.transaction() as session:
        user = create_admin(session, passwords, "eva@vastkom.example", PASSWORD, "evaluator")
        version = user.session_version
        with pytest.raises(AccountError) as wrong:
            accounts.change_password(session, passwords, user, "fel lösenord", "ett annat långt lösenord")
        assert wrong.value.field == "current"
        with pytest.raises(AccountError) as weak:
            accounts.change_password(session, passwords, user, PASSWORD, "lösenord1234")
        assert weak.value.field == "new"
        accounts.change_password(session, passwords, user, PASSWORD, "ett annat långt lösenord")
        assert user.session_version == version + 1
        assert passwords.verify(user.password_hash, "ett annat långt lösenord")
