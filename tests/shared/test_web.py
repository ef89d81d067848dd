"""What both services share on the web: health, sign-in, headers, error pages, language."""

import re

import pytest

from services.mailer import create_app as create_mailer
from services.survey import create_app as create_survey
from shared.accounts import create_admin
from shared.config import load_config

FACTORIES = {"mailer": create_mailer, "survey": create_survey}


@pytest.fixture(params=["mailer", "survey"])
def service(request):
    return request.param


@pytest.fixture
def app(config, service):
    return FACTORIES[service](config)


def login(client, email, password, **kwargs):
    page = client.get("/admin/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    return client.post("/admin/login", data={"email": email, "password": password, "csrf_token": token}, **kwargs)


def test_healthz_answers_200_when_the_database_answers(app):
    assert app.test_client().get("/healthz").status_code == 200


def test_healthz_answers_503_when_the_database_does_not(tmp_path, service):
    config = load_config(
        {
            "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
            "UTSKICK_VAR_DIR": str(tmp_path),
        }
    )
    response = FACTORIES[service](config).test_client().get("/healthz")
    assert response.status_code == 503


def test_admin_pages_need_a_login(app):
    response = app.test_client().get("/admin/")
    assert response.status_code == 302 and "/admin/login" in response.headers["Location"]


def test_sign_in_and_out(app, db, service, passwords):
    role = {"mailer": "editor", "survey": "evaluator"}[service]
    with db.transaction() as session:
        create_admin(session, passwords, "redaktor@vastkom.example", "ett långt lösenord", role)
    client = app.test_client()
    wrong = login(client, "redaktor@vastkom.example", "fel lösenord!!")
    assert wrong.status_code == 200 and "Fel e-postadress eller lösenord" in wrong.get_data(as_text=True)
    ok = login(client, "Redaktor@vastkom.example", "ett långt lösenord")
    assert ok.status_code == 302 and ok.headers["Location"].endswith("/admin/")
    assert client.get("/admin/").status_code == 200
    cookie = ok.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_roles_keep_to_their_service(app, db, service, passwords):
    other_role = {"mailer": "evaluator", "survey": "editor"}[service]
    with db.transaction() as session:
        create_admin(session, passwords, "annan@vastkom.example", "ett långt lösenord", other_role)
    client = app.test_client()
    response = login(client, "annan@vastkom.example", "ett långt lösenord")
    assert response.status_code == 200  # stays on the login page with an error
    assert client.get("/admin/").status_code == 302


def test_after_login_only_local_redirects(app, db, passwords):
    with db.transaction() as session:
        create_admin(session, passwords, "admin@vastkom.example", "ett långt lösenord", "admin")
    client = app.test_client()
    page = client.get("/admin/login?next=//evil.example/x").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = client.post(
        "/admin/login?next=//evil.example/x",
        data={"email": "admin@vastkom.example", "password": "ett långt lösenord", "csrf_token": token},
    )
    assert response.headers["Location"].endswith("/admin/")


def test_security_headers_on_every_page(app):
    response = app.test_client().get("/admin/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_unknown_page_is_a_friendly_404(app):
    response = app.test_client().get("/finns-inte")
    body = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "Sidan finns inte" in body and "Traceback" not in body


def test_form_without_csrf_token_gets_a_friendly_page(app):
    response = app.test_client().post("/admin/login", data={"email": "a@b.se", "password": "x"})
    assert response.status_code == 400
    assert "Formuläret hade gått ut" in response.get_data(as_text=True)


def test_swedish_by_default_english_on_request(app):
    client = app.test_client()
    assert '<html lang="sv">' in client.get("/admin/login").get_data(as_text=True)
    english = client.get("/admin/login", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert '<html lang="en">' in english.get_data(as_text=True)
    chosen = client.get("/admin/login?lang=en")
    assert "lang=en" in chosen.headers["Set-Cookie"]
    assert '<html lang="en">' in client.get("/admin/login").get_data(as_text=True)  # the cookie remembers


def test_nul_characters_in_a_form_never_reach_the_database(app):
    client = app.test_client()
    page = client.get("/admin/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = client.post(
        "/admin/login?next=%00", data={"email": "a\x00@b.se", "password": "\x00" * 12, "csrf_token": token}
    )
    assert response.status_code == 200  # the login page again, with an error; not a 500
