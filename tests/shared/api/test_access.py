"""Every operation of both APIs, called without a key, with a key lacking its scope, and with a
revoked or expired key; problem+json errors; rate limits per key with RateLimit headers."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from services.demo import DEMO_DATA
from services.mailer import create_app as mailer_app
from services.survey import create_app as survey_app
from shared.api.keys import revoke
from shared.clock import utcnow
from shared.models import ApiKey
from tests.api_keys import bearer, new_key

FACTORIES = {"mailer": mailer_app, "survey": survey_app}
# A scope of the other service: valid for the account, useless here.
OTHER_SCOPE = {"mailer": "survey:write", "survey": "mailer:write"}


def operations(app) -> list[tuple[str, str, str]]:
    """(method, path with ids filled in, scope) for every operation in the service's document."""
    doc = app.test_client().get("/api/v1/openapi.json").json
    found = []
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            scope = re.search(r"Scope: `([a-z:]+)`", operation["description"]).group(1)
            found.append((method.upper(), "/api/v1" + re.sub(r"\{[a-z_]+\}", "1", path), scope))
    return found


@pytest.fixture(params=sorted(FACTORIES))
def service_app(request, config):
    app = FACTORIES[request.param](config)
    app.config["SERVICE_NAME"] = request.param
    yield app
    app.extensions["utskick"].db.dispose()


def _problem(response, status: int) -> None:
    assert response.status_code == status, response.data
    assert response.mimetype == "application/problem+json"
    assert response.json["status"] == status


def test_every_operation_needs_a_key_with_its_scope_and_not_revoked(service_app):
    service = service_app.config["SERVICE_NAME"]
    client = service_app.test_client()
    wrong = new_key(service_app, [OTHER_SCOPE[service]])
    revoked = new_key(service_app, [f"{service}:write", "survey:responses" if service == "survey" else "mailer:read"])
    read_only = new_key(service_app, [f"{service}:read"])
    with service_app.extensions["utskick"].db.transaction() as s:
        for key in s.query(ApiKey).filter(ApiKey.id == 2):
            revoke(key)
    ops = operations(service_app)
    assert len(ops) >= 15
    for method, path, scope in ops:
        _problem(client.open(path, method=method), 401)
        assert client.open(path, method=method).headers["WWW-Authenticate"].startswith("Bearer")
        _problem(client.open(path, method=method, headers=bearer("utk_made-up")), 401)
        _problem(client.open(path, method=method, headers=bearer(wrong)), 403)
        _problem(client.open(path, method=method, headers=bearer(revoked)), 401)
        if scope.endswith(":write"):
            _problem(client.open(path, method=method, headers=bearer(read_only)), 403)


def test_the_import_mail_settings_and_webhook_operations_are_among_them(config):
    """The test above finds operations in the document: these must be there for it to cover them."""
    mailer, survey = operations(mailer_app(config)), operations(survey_app(config))
    assert ("POST", "/api/v1/imports", "mailer:write") in mailer
    assert ("GET", "/api/v1/imports/1", "mailer:read") in mailer
    assert ("GET", "/api/v1/surveys/1/mail-settings", "survey:read") in survey
    assert ("PATCH", "/api/v1/surveys/1/mail-settings", "survey:write") in survey
    for service_ops, scope in ((mailer, "mailer:write"), (survey, "survey:write")):
        assert ("POST", "/api/v1/webhooks", scope) in service_ops
        assert ("DELETE", "/api/v1/webhooks/1", scope) in service_ops


def test_an_expired_key_no_longer_works(app_and_key):
    app, secret = app_and_key
    client = app.test_client()
    assert client.get("/api/v1/lists", headers=bearer(secret)).status_code == 200
    with app.extensions["utskick"].db.transaction() as s:
        s.get(ApiKey, 1).expires_at = utcnow() - timedelta(seconds=1)
    _problem(client.get("/api/v1/lists", headers=bearer(secret)), 401)


def test_an_editors_key_does_not_open_the_survey_service(config):
    app = survey_app(config)
    secret = new_key(mailer_app(config), ["mailer:read"], role="editor", email="red@vastkom.example")
    _problem(app.test_client().get("/api/v1/surveys", headers=bearer(secret)), 401)


@pytest.fixture
def app_and_key(config):
    app = mailer_app(config)
    yield app, new_key(app, ["mailer:write"])
    app.extensions["utskick"].db.dispose()


def test_unknown_paths_and_methods_are_problems_too(app_and_key):
    app, secret = app_and_key
    client = app.test_client()
    _problem(client.get("/api/v1/nothing-here", headers=bearer(secret)), 404)
    _problem(client.delete("/api/v1/lists", headers=bearer(secret)), 405)
    _problem(client.get("/api/v1/lists/999999", headers=bearer(secret)), 404)


def test_invalid_input_lists_each_field(app_and_key):
    app, secret = app_and_key
    response = app.test_client().post("/api/v1/lists", headers=bearer(secret), json={"slug": 5, "language": "fi"})
    _problem(response, 422)
    fields = {e["field"] for e in response.json["errors"]}
    assert {"body.slug", "body.name", "body.language"} <= fields
    response = app.test_client().post(
        "/api/v1/lists", headers=bearer(secret), data="{", content_type="application/json"
    )
    _problem(response, 422)
    response = app.test_client().get("/api/v1/subscribers?limit=0&cursor=@@", headers=bearer(secret))
    _problem(response, 422)
    assert response.json["errors"][0]["field"] == "query.limit"


def test_rate_limit_per_key_with_headers(config):
    app = mailer_app(config.with_(api_requests_per_minute=3))
    secret, other = new_key(app, ["mailer:read"]), new_key(app, ["mailer:read"])
    client = app.test_client()
    remaining = []
    for _ in range(3):
        response = client.get("/api/v1/lists", headers=bearer(secret))
        assert response.status_code == 200
        assert response.headers["RateLimit-Policy"] == '"per-key";q=3;w=60'
        remaining.append(response.headers["RateLimit"])
    assert [r.split(";")[1] for r in remaining] == ["r=2", "r=1", "r=0"]
    limited = client.get("/api/v1/lists", headers=bearer(secret))
    _problem(limited, 429)
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert client.get("/api/v1/lists", headers=bearer(other)).status_code == 200  # per key


def test_the_document_and_the_reference_page_need_no_key(service_app):
    client = service_app.test_client()
    doc = client.get("/api/v1/openapi.json").json
    assert doc["openapi"] == "3.1.0"
    assert doc["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer"}
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for path in doc["paths"]:
        assert path in html
    assert "cdn" not in html.lower() and "<script" not in html


def test_bodies_no_program_should_send_are_refused_not_crashed_on(app_and_key, config):
    app, secret = app_and_key
    client, h = app.test_client(), bearer(secret)
    nul = client.post("/api/v1/lists", headers=h, json={"slug": "x", "name": "a\u0000b"})
    _problem(nul, 422)
    deep: object = 1
    for _ in range(40):
        deep = [deep]
    _problem(client.post("/api/v1/lists", headers=h, json={"slug": "x", "name": "y", "description": deep}), 400)
    issue = client.post("/api/v1/issues", headers=h, json={"subject": "a", "source": "x" * 100_000})
    assert issue.status_code == 201  # longer than the public 64 kB
    for at in ("9999-12-31T23:59:00-12:00", "0001-01-01T00:00:00+12:00"):
        _problem(client.post(f"/api/v1/issues/{issue.json['id']}/schedule", headers=h, json={"at": at}), 422)
    survey = survey_app(config)
    sh = bearer(new_key(survey, ["survey:write"], email="eva@vastkom.example"))
    definition = (DEMO_DATA / "survey-millennium.yaml").read_text(encoding="utf-8")
    far = survey.test_client().post(
        "/api/v1/surveys",
        headers=sh,
        json={"definition": definition.replace("closes: 2025-03-31", "closes: 9999-12-31")},
    )
    _problem(far, 422)
    created = survey.test_client().post("/api/v1/surveys", headers=sh, json={"definition": definition}).json
    _problem(
        survey.test_client().patch(f"/api/v1/surveys/{created['id']}", headers=sh, json={"closes": "9999-12-31"}), 422
    )
