"""Mailer fixtures: an app on the test database, clients (anonymous and signed in as an editor),
and helpers to run the worker and read links out of delivered mails."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from services.mailer import create_app
from shared.accounts import create_admin
from shared.config import parse_mail_url
from shared.mail.outbox import deliver_due
from shared.mail.transport import open_transport
from shared.web.auth import start_session

EDITOR_EMAIL = "redaktor@vastkom.example"
EDITOR_PASSWORD = "ett långt lösenord"


def make_app(config, *, csrf: bool = False):
    app = create_app(config)
    app.config["WTF_CSRF_ENABLED"] = csrf
    return app


@pytest.fixture
def app(config):
    """The mailer with CSRF off (one test per form turns it on: see ``csrf_app``)."""
    app = make_app(config)
    yield app
    app.extensions["utskick"].db.dispose()


@pytest.fixture
def csrf_app(config):
    app = make_app(config, csrf=True)
    yield app
    app.extensions["utskick"].db.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def smtp_config(config, smtp_server):
    """The test configuration with mail going to the real SMTP sink."""
    return config.with_(mail_url=parse_mail_url(smtp_server.url, config.var_dir))


@pytest.fixture
def smtp_app(smtp_config):
    app = make_app(smtp_config)
    yield app
    app.extensions["utskick"].db.dispose()


def run_worker(app) -> int:
    """One worker pass: deliver what the outbox holds; returns how many were sent."""
    svc = app.extensions["utskick"]
    transport = open_transport(svc.config.mail_url)
    try:
        return deliver_due(svc.db, transport).sent
    finally:
        transport.close()


def subscribe(client, email: str, name: str = "") -> None:
    """Post the public subscribe form (it always answers with the same redirect)."""
    assert client.post("/subscribe", data={"email": email, "name": name}).status_code == 303


def sign_in(app, client, role: str = "editor", email: str = EDITOR_EMAIL):
    svc = app.extensions["utskick"]
    with svc.db.transaction() as session:
        user = create_admin(session, svc.passwords, email, EDITOR_PASSWORD, role)
        user_id, version = user.id, user.session_version
    with client.session_transaction() as cookie:
        start_session(cookie, user_id, version)
    return client


@pytest.fixture
def editor_client(app):
    return sign_in(app, app.test_client())


def mail_text(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def mail_html(message) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


def link(message, kind: str) -> str:
    """The first /confirm/… or /unsubscribe/… link in a mail's plain text, as a path."""
    match = re.search(rf"https?://\S+/{kind}/[A-Za-z0-9_.\-]+", mail_text(message))
    assert match, f"no {kind} link in:\n{mail_text(message)}"
    return urlsplit(match.group(0)).path
