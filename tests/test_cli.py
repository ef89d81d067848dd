"""``utskick admin …``: list, create, invite, disable, enable, remove and password, with clear
messages instead of tracebacks, and the same rules as the account pages; ``utskick webhooks …`` as the
Webhooks pages."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from services.cli import main
from shared import accounts
from shared.models import AccountStatus, AdminUser, MailKind, OutboxMail

PASSWORD = "ett långt lösenord"


@pytest.fixture
def utskick(cli_env):
    """Run ``utskick …`` in-process with the test configuration in the environment."""

    def run(*args, input=None):
        return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)

    return run


def account(db, email) -> AdminUser | None:
    with db.sessions() as session:
        return session.scalar(select(AdminUser).where(AdminUser.email == email))


def test_create_list_disable_enable_password_remove(utskick, db, passwords, config):
    assert utskick("admin", "create", "admin@vastkom.example", input=PASSWORD + "\n").exit_code == 0
    weak = utskick("admin", "create", "red@vastkom.example", "--role", "editor", input="lösenord1234\n")
    assert weak.exit_code == 1 and "de vanligaste lösenorden" in weak.output and "Traceback" not in weak.output
    assert utskick("admin", "create", "red@vastkom.example", "--role", "editor", input=PASSWORD + "\n").exit_code == 0
    listed = utskick("admin", "list").output.splitlines()
    assert listed == ["admin@vastkom.example\tadmin\tactive\tnever", "red@vastkom.example\teditor\tactive\tnever"]

    version = account(db, "red@vastkom.example").session_version
    assert utskick("admin", "disable", "red@vastkom.example").exit_code == 0
    red = account(db, "red@vastkom.example")
    assert red.status == AccountStatus.DISABLED and red.session_version > version
    assert utskick("admin", "enable", "red@vastkom.example").exit_code == 0
    assert utskick("admin", "password", "red@vastkom.example", input="kaffe vid åsen i maj\n").exit_code == 0
    attempt = accounts.sign_in(db, passwords, config, "mailer", "red@vastkom.example", "kaffe vid åsen i maj", None)
    assert attempt.outcome == "ok"

    last = utskick("admin", "remove", "admin@vastkom.example", "--yes")
    assert last.exit_code == 1 and "minst en aktiv administratör" in last.output
    assert utskick("admin", "remove", "red@vastkom.example", input="n\n").exit_code == 1  # asked, said no
    assert utskick("admin", "remove", "red@vastkom.example", input="y\n").exit_code == 0
    assert account(db, "red@vastkom.example") is None
    unknown = utskick("admin", "disable", "ingen@vastkom.example")
    assert unknown.exit_code == 1 and "no account with the address ingen@vastkom.example" in unknown.output


def test_invite_mails_a_link_through_the_outbox(utskick, db):
    result = utskick("admin", "invite", "eva@vastkom.example", "--role", "evaluator")
    assert result.exit_code == 0 and "outbox" in result.output
    assert account(db, "eva@vastkom.example").status == AccountStatus.INVITED
    with db.sessions() as session:
        mail = session.scalar(select(OutboxMail))
    assert mail.kind == MailKind.ACCOUNT_INVITATION and b"http://survey.test/admin/set-password/" in mail.message


def test_webhooks_add_list_disable_enable_remove(utskick, db, passwords):
    with db.transaction() as session:
        accounts.create_admin(session, passwords, "it@vastkom.example", PASSWORD, "admin")
    inside = utskick(
        "webhooks",
        "add",
        "it@vastkom.example",
        "--service",
        "mailer",
        "--url",
        "https://10.0.0.5/x",
        "--event",
        "bounce",
    )
    assert inside.exit_code == 1 and "intern adress" in inside.output and "Traceback" not in inside.output
    added = utskick(
        "webhooks",
        "add",
        "it@vastkom.example",
        "--service",
        "survey",
        "--url",
        "https://192.0.43.10/hook",
        "--event",
        "survey.responses_reached",
        "--count",
        "50",
    )
    assert added.exit_code == 0, added.output
    secret = added.stdout.splitlines()[0]
    assert secret.startswith("whsec_")
    listed = utskick("webhooks", "list").output
    assert "1\tit@vastkom.example\tsurvey\thttps://192.0.43.10/hook\tsurvey.responses_reached\tactive" in listed
    assert secret not in listed
    assert utskick("webhooks", "disable", "1").exit_code == 0
    assert listed.replace("active", "disabled") == utskick("webhooks", "list", "it@vastkom.example").output
    assert utskick("webhooks", "enable", "1").exit_code == 0
    assert utskick("webhooks", "remove", "1").exit_code == 0
    assert utskick("webhooks", "list").output == ""
    assert utskick("webhooks", "remove", "1").exit_code == 1
