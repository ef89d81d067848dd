"""The account pages, in both services: only admins manage accounts; an invitation's link sets the
first password and signs the person in; roles, disabling and removing with their guards."""

from __future__ import annotations

import email as email_lib
import re
from email.policy import default

import pytest
from sqlalchemy import select

from shared.accounts import create_admin
from shared.models import AccountStatus, AdminUser, OutboxMail
from tests.shared.test_web import FACTORIES, login

PASSWORD = "ett långt lösenord"


@pytest.fixture(params=["mailer", "survey"])
def app(request, config):
    return FACTORIES[request.param](config)


@pytest.fixture
def admin(app, db, passwords):
    """A client signed in as an admin (CSRF tokens read from the pages, as a browser sends them)."""
    with db.transaction() as session:
        create_admin(session, passwords, "admin@vastkom.example", PASSWORD, "admin")
    client = app.test_client()
    assert login(client, "admin@vastkom.example", PASSWORD).status_code == 302
    return client


def post(client, url, data, page_url=None):
    page = client.get(page_url or url).get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    return client.post(url, data={**data, "csrf_token": token})


def account(db, email) -> AdminUser | None:
    with db.sessions() as session:
        return session.scalar(select(AdminUser).where(AdminUser.email == email))


def test_only_admins_see_the_accounts(app, db, passwords):
    role = {"services.mailer": "editor", "services.survey": "evaluator"}[app.import_name]
    with db.transaction() as session:
        create_admin(session, passwords, "red@vastkom.example", PASSWORD, role)
    client = app.test_client()
    assert client.get("/admin/accounts/").status_code == 302  # to the login
    login(client, "red@vastkom.example", PASSWORD)
    assert client.get("/admin/accounts/").status_code == 403
    assert "Konton" not in client.get("/admin/").get_data(as_text=True)
    assert client.get("/admin/account/password").status_code == 200  # everyone changes their own


def test_the_list_shows_role_status_and_last_sign_in(admin, db, passwords):
    with db.transaction() as session:
        create_admin(session, passwords, "eva@vastkom.example", PASSWORD, "evaluator")
    page = admin.get("/admin/accounts/").get_data(as_text=True)
    row = re.search(r">eva@vastkom\.example</a>.*?</tr>", page, re.S).group(0)
    assert "Utvärderare" in row and "Aktiv" in row and "Aldrig" in row
    mine = re.search(r">admin@vastkom\.example</a>.*?</tr>", page, re.S).group(0)
    assert "Administratör" in mine and "(du)" in mine and re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d", mine)


def test_an_invited_person_chooses_a_password_through_the_link_and_is_signed_in(app, admin, db):
    bad = post(admin, "/admin/accounts/", {"email": "inte en adress", "role": "editor"})
    assert bad.status_code == 422 and 'value="inte en adress"' in bad.get_data(as_text=True)
    sent = post(admin, "/admin/accounts/", {"email": "ny@vastkom.example", "role": "evaluator"})
    assert sent.status_code == 303
    assert "Inbjuden" in admin.get("/admin/accounts/").get_data(as_text=True)
    with db.sessions() as session:
        raw = session.scalar(select(OutboxMail.message).where(OutboxMail.recipient == "ny@vastkom.example"))
    message = email_lib.message_from_bytes(raw, policy=default)
    assert message["Subject"].startswith("Du är inbjuden till")
    link = re.search(r"http://survey\.test(/admin/set-password/\S+)", message.get_body(("plain",)).get_content())
    path = link.group(1)  # evaluators work in the survey service, so the link goes there

    person = FACTORIES["survey"](admin.application.extensions["utskick"].config).test_client()
    form = person.get(path)
    assert form.status_code == 200 and "ny@vastkom.example" in form.get_data(as_text=True)
    assert account(db, "ny@vastkom.example").status == AccountStatus.INVITED  # opening changes nothing
    mismatch = post(person, path, {"new": "kaffe vid åsen i maj", "repeat": "kaffe vid åsen i juni"})
    assert mismatch.status_code == 422 and "Lösenorden är olika" in mismatch.get_data(as_text=True)
    common = post(person, path, {"new": "Lösenord2026!", "repeat": "Lösenord2026!"})
    assert common.status_code == 422 and "de vanligaste lösenorden" in common.get_data(as_text=True)
    chosen = post(person, path, {"new": "kaffe vid åsen i maj", "repeat": "kaffe vid åsen i maj"})
    assert chosen.status_code == 303 and person.get("/admin/").status_code == 200
    assert person.get(path).status_code == 410  # once only
    assert "redan använd" in person.get(path).get_data(as_text=True)


def test_role_disable_enable_and_remove_from_the_account_page(admin, db, passwords):
    with db.transaction() as session:
        target = create_admin(session, passwords, "red@vastkom.example", PASSWORD, "editor").id
        me = session.scalar(select(AdminUser.id).where(AdminUser.email == "admin@vastkom.example"))
    page = f"/admin/accounts/{target}"
    assert post(admin, f"{page}/role", {"role": "evaluator"}, page).status_code == 303
    assert account(db, "red@vastkom.example").role == "evaluator"
    assert post(admin, f"{page}/disable", {}, page).status_code == 303
    assert account(db, "red@vastkom.example").status == AccountStatus.DISABLED
    assert "Aktivera kontot" in admin.get(page).get_data(as_text=True)
    assert post(admin, f"{page}/enable", {}, page).status_code == 303
    assert account(db, "red@vastkom.example").status == AccountStatus.ACTIVE
    confirm = admin.get(f"{page}/remove")
    assert confirm.status_code == 200 and "kan inte återställas" in confirm.get_data(as_text=True)
    assert post(admin, f"{page}/remove", {}).status_code == 303
    assert account(db, "red@vastkom.example") is None
    # Your own account: no role, disable or remove buttons, and a post is refused with the reason.
    own = admin.get(f"/admin/accounts/{me}").get_data(as_text=True)
    assert "Stäng av kontot" not in own and "Byt ditt lösenord" in own
    refused = post(admin, f"/admin/accounts/{me}/disable", {}, f"/admin/accounts/{me}")
    assert refused.status_code == 422 and "ditt eget konto" in refused.get_data(as_text=True)
    assert account(db, "admin@vastkom.example").status == AccountStatus.ACTIVE
