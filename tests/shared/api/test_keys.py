"""API keys: the rules (scopes within what the account may do, a name, a future last day), stored
only as a hash, shown once; ``utskick api-keys``; the "API-nycklar" pages in both services."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from services.cli import main
from services.mailer import create_app as mailer_app
from services.survey import create_app as survey_app
from shared.accounts import create_admin
from shared.api import keys
from shared.clock import utcnow
from shared.models import AdminUser, ApiKey
from shared.web.auth import start_session
from tests.api_keys import PASSWORD, bearer


@pytest.fixture
def accounts(db, passwords):
    with db.transaction() as s:
        create_admin(s, passwords, "admin@vastkom.example", PASSWORD, "admin")
        create_admin(s, passwords, "red@vastkom.example", PASSWORD, "editor")


def _account(session, email) -> AdminUser:
    return session.scalar(select(AdminUser).where(AdminUser.email == email))


def test_the_rules_of_a_new_key(db, accounts, config):
    app = mailer_app(config)
    with app.test_request_context(), db.transaction() as s:
        editor = _account(s, "red@vastkom.example")
        with pytest.raises(keys.ApiKeyError, match="survey:read"):
            keys.create_key(s, editor, "HR", ["survey:read"])
        with pytest.raises(keys.ApiKeyError) as unknown:
            keys.create_key(s, editor, "HR", ["mailer:everything"])
        assert unknown.value.field == "scopes"
        with pytest.raises(keys.ApiKeyError) as nameless:
            keys.create_key(s, editor, "  ", ["mailer:read"])
        assert nameless.value.field == "name"
        with pytest.raises(keys.ApiKeyError):
            keys.create_key(s, editor, "HR", ["mailer:read"], expires_at=utcnow() - timedelta(days=1))
        new = keys.create_key(s, editor, "Intranätet", ["mailer:write", "mailer:write"])
        assert new.secret.startswith("utk_") and len(new.secret) > 40
        assert new.key.scopes == ["mailer:write"]
        assert new.key.key_hash == keys.key_hash(new.secret) and new.secret not in repr(new.key.__dict__)
        assert keys.usable_key(s, new.secret, "mailer") is not None
        assert keys.usable_key(s, new.secret, "survey") is None  # an editor's account
        keys.revoke(new.key)
        assert keys.usable_key(s, new.secret, "mailer") is None


def test_a_last_day_is_the_whole_day_in_swedish_time():
    assert keys.expiry_after_day(date(2027, 6, 30)).isoformat() == "2027-06-30T22:00:00+00:00"


@pytest.fixture
def utskick(cli_env, accounts):
    def run(*args):
        return CliRunner().invoke(main, list(args), catch_exceptions=False)

    return run


def test_command_line_create_list_revoke(utskick, config, db):
    created = utskick(
        "api-keys",
        "create",
        "admin@vastkom.example",
        "--name",
        "BI",
        "--scope",
        "survey:read",
        "--expires",
        "2099-01-31",
    )
    assert created.exit_code == 0, created.output
    secret = created.stdout.splitlines()[0]
    assert secret.startswith("utk_")
    listed = utskick("api-keys", "list").output
    assert "admin@vastkom.example\tBI\t" + secret[:12] + "…\tsurvey:read\texpires 2099-01-31T23:00Z" in listed
    assert secret not in listed
    app = survey_app(config)
    assert app.test_client().get("/api/v1/surveys", headers=bearer(secret)).status_code == 200
    assert "last used 20" in utskick("api-keys", "list", "admin@vastkom.example").output
    refused = utskick("api-keys", "create", "red@vastkom.example", "--name", "X", "--scope", "survey:read")
    assert refused.exit_code == 1 and "Traceback" not in refused.output
    assert utskick("api-keys", "revoke", "1").exit_code == 0
    assert app.test_client().get("/api/v1/surveys", headers=bearer(secret)).status_code == 401
    assert "revoked" in utskick("api-keys", "list").output
    assert utskick("api-keys", "revoke", "99").exit_code == 1


def _signed_in(app, db, email):
    with db.sessions() as s:
        user = _account(s, email)
        user_id, version = user.id, user.session_version
    client = app.test_client()
    with client.session_transaction() as cookie:
        start_session(cookie, user_id, version)
    return client


def test_the_pages_show_a_new_key_once_and_revoke(config, db, accounts):
    app = mailer_app(config)
    app.config["WTF_CSRF_ENABLED"] = False
    editor = _signed_in(app, db, "red@vastkom.example")
    page = editor.get("/admin/api-keys/").get_data(as_text=True)
    assert "mailer:write" in page and "survey:read" not in page  # only what the account may use
    refused = editor.post("/admin/api-keys/", data={"name": "", "scopes": []})
    assert refused.status_code == 422 and "Välj minst en behörighet" in refused.get_data(as_text=True)
    created = editor.post("/admin/api-keys/", data={"name": "Intranätet", "scopes": ["mailer:write"]})
    assert created.status_code == 201 and created.headers["Cache-Control"] == "no-store"
    with db.sessions() as s:
        key = s.scalar(select(ApiKey))
    assert key.prefix in created.get_data(as_text=True)
    listing = editor.get("/admin/api-keys/").get_data(as_text=True)
    secret = re.search(r'id="secret"[^>]*value="(utk_[^"]+)"', created.get_data(as_text=True)).group(1)
    assert keys.key_hash(secret) == key.key_hash
    assert "Intranätet" in listing and key.prefix + "…" in listing and secret not in listing

    admin = _signed_in(app, db, "admin@vastkom.example")
    assert "red@vastkom.example" in admin.get("/admin/api-keys/").get_data(as_text=True)
    with app.test_request_context(), db.transaction() as s:
        own = keys.create_key(s, _account(s, "admin@vastkom.example"), "Admins", ["mailer:read"]).key.id
    assert editor.post(f"/admin/api-keys/{own}/revoke").status_code == 404  # not the editor's key
    assert editor.post(f"/admin/api-keys/{key.id}/revoke").status_code == 303
    with db.sessions() as s:
        assert s.get(ApiKey, key.id).revoked_at is not None


def test_the_survey_service_has_the_page_too(config, db, accounts):
    app = survey_app(config)
    client = _signed_in(app, db, "admin@vastkom.example")
    page = client.get("/admin/api-keys/")
    assert page.status_code == 200 and "survey:responses" in page.get_data(as_text=True)
    assert client.get("/admin/api-keys/").status_code == 200
    assert app.test_client().get("/admin/api-keys/").status_code == 302  # signed out: to the login
