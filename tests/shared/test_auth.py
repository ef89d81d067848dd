"""Sessions in both services: signing out, a new password or disabling an account ends every session
of it (a copied cookie stops working), sessions expire when idle and after a maximum age, and failed
sign-ins are limited per account and per address, behind a proxy too."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from services.mailer import create_app as create_mailer
from services.survey import create_app as create_survey
from shared import accounts
from shared.accounts import create_admin
from shared.models import AdminUser, Subscription
from tests.shared.test_web import login

PASSWORD = "ett långt lösenord"


@pytest.fixture
def apps(config):
    return {"mailer": create_mailer(config), "survey": create_survey(config)}


@pytest.fixture
def admin(db, passwords):
    with db.transaction() as session:
        return create_admin(session, passwords, "admin@vastkom.example", PASSWORD, "admin").id


def signed_in(app, email="admin@vastkom.example", password=PASSWORD):
    client = app.test_client()
    assert login(client, email, password).status_code == 302
    assert client.get("/admin/").status_code == 200
    return client


def copy_of(app, client):
    """Another browser holding a copy of the client's session cookie (stolen, or an old tab)."""
    name = app.config["SESSION_COOKIE_NAME"]
    thief = app.test_client()
    thief.set_cookie(name, client.get_cookie(name).value)
    return thief


def is_signed_in(client) -> bool:
    return client.get("/admin/").status_code == 200


def test_signing_out_ends_every_session_of_the_account_in_both_services(apps, admin):
    mailer, survey = signed_in(apps["mailer"]), signed_in(apps["survey"])
    stolen = copy_of(apps["mailer"], mailer)
    assert is_signed_in(stolen)
    page = mailer.get("/admin/").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    assert mailer.post("/admin/logout", data={"csrf_token": token}).status_code == 302
    assert not is_signed_in(mailer)
    assert not is_signed_in(stolen)  # the copied cookie no longer works
    assert not is_signed_in(survey)  # nor the session in the other service


def test_a_new_password_ends_the_other_sessions_and_keeps_this_one(apps, admin, db, passwords):
    app = apps["mailer"]
    client = signed_in(app)
    other = copy_of(app, client)
    app.config["WTF_CSRF_ENABLED"] = False  # the form's own token is tested with the sign-out above
    weak = client.post(
        "/admin/account/password", data={"current": PASSWORD, "new": "lösenord1234", "repeat": "lösenord1234"}
    )
    assert weak.status_code == 422 and "de vanligaste lösenorden" in weak.get_data(as_text=True)
    wrong = client.post("/admin/account/password", data={"current": "fel", "new": "x" * 12, "repeat": "y" * 12})
    assert wrong.status_code == 422 and "Lösenorden är olika" in wrong.get_data(as_text=True)
    new = "kaffe vid åsen i maj"
    changed = client.post("/admin/account/password", data={"current": PASSWORD, "new": new, "repeat": new})
    assert changed.status_code == 303
    assert is_signed_in(client) and not is_signed_in(other)
    fresh = app.test_client().post("/admin/login", data={"email": "admin@vastkom.example", "password": new})
    assert fresh.status_code == 302


def test_disabling_an_account_ends_its_sessions(apps, admin, db, passwords):
    with db.transaction() as session:
        create_admin(session, passwords, "red@vastkom.example", PASSWORD, "editor")
    editor = signed_in(apps["mailer"], "red@vastkom.example")
    with db.transaction() as session:
        accounts.disable(
            session, None, session.scalar(select(AdminUser).where(AdminUser.email == "red@vastkom.example"))
        )
    assert not is_signed_in(editor)
    refused = login(apps["mailer"].test_client(), "red@vastkom.example", PASSWORD)
    assert refused.status_code == 200 and "Kontot är avstängt" in refused.get_data(as_text=True)


@pytest.mark.parametrize("moved, seconds", [("seen_at", 8 * 3600 + 1), ("signed_in_at", 7 * 86400 + 1)])
def test_a_session_ends_after_8_hours_idle_and_7_days_at_most(apps, admin, moved, seconds):
    client = signed_in(apps["survey"])
    with client.session_transaction() as cookie:
        cookie[moved] -= seconds
        if moved == "signed_in_at":
            cookie["seen_at"] = cookie["seen_at"]  # used a minute ago: only the age ends it
    assert not is_signed_in(client)


def test_a_session_in_use_is_renewed(apps, admin):
    client = signed_in(apps["survey"])
    with client.session_transaction() as cookie:
        cookie["seen_at"] -= 8 * 3600 - 120  # nearly idle too long, then used
    assert is_signed_in(client)
    with client.session_transaction() as cookie:
        cookie["seen_at"] -= 7 * 3600
    assert is_signed_in(client)  # a fresh eight hours from the last use


def test_failed_sign_ins_get_a_page_saying_when_to_try_again(config, admin):
    app = create_mailer(config.with_(login_failures_per_address=2))
    client = app.test_client()
    assert login(client, "admin@vastkom.example", "fel lösenord").status_code == 200
    assert login(client, "okand@vastkom.example", "fel lösenord").status_code == 200
    limited = login(client, "admin@vastkom.example", PASSWORD)
    page = limited.get_data(as_text=True)
    assert limited.status_code == 429 and 890 <= int(limited.headers["Retry-After"]) <= 900
    assert "För många försök" in page and "Försök igen om 15 minuter" in page
    other_address = app.test_client()
    response = login(other_address, "admin@vastkom.example", PASSWORD, environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert response.status_code == 302


@pytest.mark.parametrize("hops, separate", [(0, False), (1, True)])
def test_the_visitors_address_comes_from_the_proxy_only_when_trusted(config, admin, hops, separate):
    """Behind one proxy every request comes from the proxy: with TRUSTED_PROXIES=1 its
    X-Forwarded-For gives each visitor their own limit and consent record; without, it is ignored."""
    app = create_mailer(config.with_(trusted_proxies=hops, login_failures_per_address=1))
    app.config["WTF_CSRF_ENABLED"] = False
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    first = app.test_client().post(
        "/admin/login",
        data={"email": "a@vastkom.example", "password": "fel lösenord"},
        headers={"X-Forwarded-For": "203.0.113.1"},
        environ_base=proxy,
    )
    second = app.test_client().post(
        "/admin/login",
        data={"email": "b@vastkom.example", "password": "fel lösenord"},
        headers={"X-Forwarded-For": "203.0.113.2"},
        environ_base=proxy,
    )
    assert first.status_code == 200 and second.status_code == (200 if separate else 429)
    app.test_client().post(
        "/subscribe",
        data={"email": "las@vastkom.example"},
        headers={"X-Forwarded-For": "203.0.113.3, 198.51.100.9"},  # a forged first entry, then the real one
        environ_base=proxy,
    )
    with app.extensions["utskick"].db.sessions() as session:
        assert session.scalar(select(Subscription.request_ip)) == ("198.51.100.9" if separate else "10.0.0.2")
