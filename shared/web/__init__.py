"""The web foundation both Flask apps are built on: configuration, database session per request,
translations, CSRF, security headers, friendly error pages, health check and admin sign-in."""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

from flask import Flask, Request, abort, current_app, g, has_request_context, request
from flask.typing import ResponseReturnValue
from flask_babel import Babel, get_locale
from flask_wtf.csrf import CSRFProtect
from jinja2 import ChoiceLoader, FileSystemLoader
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage, ImmutableMultiDict, MultiDict
from werkzeug.middleware.proxy_fix import ProxyFix

from shared.accounts import Passwords
from shared.clock import utcnow
from shared.config import Config, load_config
from shared.db import Database
from shared.heartbeat import worker_health
from shared.i18n import DEFAULT_LANGUAGE, LANGUAGES, language_name, local_time
from shared.models import (
    AccountStatus,
    IssueStatus,
    MailKind,
    OutboxStatus,
    ParticipantStatus,
    ResponseStatus,
    Role,
    SubscriptionStatus,
    SurveyStatus,
)
from shared.tokens import Tokens
from shared.web import limits, routing

log = logging.getLogger(__name__)

SHARED_DIR = Path(__file__).resolve().parent.parent
csrf = CSRFProtect()
babel = Babel()
M = TypeVar("M")

# What Request.parameter_storage_class holds: query and form values, and uploaded files.
_Value = str | FileStorage


class _WithoutNul(ImmutableMultiDict[str, _Value]):
    """Query and form values with NUL characters removed: nobody types one, and PostgreSQL
    refuses to store text containing it, so one pasted NUL would otherwise become an error page."""

    def __init__(
        self,
        mapping: (
            MultiDict[str, _Value]
            | Mapping[str, _Value | list[_Value] | tuple[_Value, ...] | set[_Value]]
            | Iterable[tuple[str, _Value]]
            | None
        ) = None,
    ) -> None:
        if mapping is None:
            super().__init__()
            return
        pairs = MultiDict(mapping).items(multi=True)
        # A multipart part without a name comes with None for its key (typed str nonetheless).
        super().__init__([(k.replace("\x00", "") if isinstance(k, str) else k, _without_nul(v)) for k, v in pairs])


def _without_nul(value: _Value) -> _Value:
    return value.replace("\x00", "") if isinstance(value, str) else value


class UtskickRequest(Request):
    parameter_storage_class = _WithoutNul


@dataclass
class Services:
    """What a request needs beyond Flask: configuration, the database, the token signer and the
    password hasher (argon2's cheapest parameters under a test configuration)."""

    config: Config
    db: Database
    tokens: Tokens
    passwords: Passwords


def services() -> Services:
    found: Services = current_app.extensions["utskick"]  # put there by create_base_app
    return found


def db_session() -> Session:
    """The request's session; closed (rolled back if not committed) when the request ends."""
    if "db_session" not in g:
        g.db_session = services().db.sessions()
    session: Session = g.db_session
    return session


def get_or_404(model: type[M], row_id: object) -> M:
    """The row with this primary key, or the friendly 404 page."""
    row = db_session().get(model, row_id)
    if row is None:
        abort(404)
    return row


def select_locale() -> str:
    if not has_request_context():  # CLI, worker, demo seeding: callers use force_locale if they care
        return DEFAULT_LANGUAGE
    chosen = request.args.get("lang")
    if chosen in LANGUAGES:
        g.set_lang_cookie = chosen
        return chosen
    cookie = request.cookies.get("lang")
    if cookie in LANGUAGES:
        return cookie
    return request.accept_languages.best_match(LANGUAGES, default=DEFAULT_LANGUAGE) or DEFAULT_LANGUAGE


def page_language() -> str:
    """The language the current page is shown in."""
    return str(get_locale() or DEFAULT_LANGUAGE)


def create_base_app(import_name: str, service: str, config: Config | None = None) -> Flask:
    """A Flask app with everything both services share; the caller registers its blueprints."""
    config = config or load_config()
    app = Flask(import_name, static_folder=str(SHARED_DIR / "static"), static_url_path="/static")
    service_dir = Path(app.root_path).resolve()  # the folder of the service's package
    app.request_class = UtskickRequest
    routing.init_app(app)  # before any blueprint adds a route
    app.jinja_loader = ChoiceLoader(
        [FileSystemLoader(str(service_dir / "templates")), FileSystemLoader(str(SHARED_DIR / "templates"))]
    )
    app.config.update(
        SECRET_KEY=config.secret_keys[0],
        SECRET_KEY_FALLBACKS=list(config.secret_keys[1:]),
        SESSION_COOKIE_NAME=f"utskick_{service}",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=config.secure_cookies,
        # The signature's own limit; the sign-in itself also ends after SESSION_IDLE_HOURS unused.
        PERMANENT_SESSION_LIFETIME=timedelta(days=config.session_max_days),
        MAX_CONTENT_LENGTH=20 * 1024 * 1024,
        WTF_CSRF_TIME_LIMIT=None,  # a long survey page must not lose its answers to an expired token
        WTF_CSRF_SSL_STRICT=False,
        BABEL_DEFAULT_LOCALE=DEFAULT_LANGUAGE,
        BABEL_TRANSLATION_DIRECTORIES=str(SHARED_DIR / "translations"),
        TESTING=config.testing,
        SERVICE=service,
        ADMIN_LAYOUT=f"{service}/admin/layout.html",  # what shared admin pages (jobs) extend
    )
    app.extensions["utskick"] = Services(
        config=config,
        db=Database(config.database_url),
        tokens=Tokens(config.secret_keys),
        passwords=Passwords.for_config(config),
    )
    if config.trusted_proxies:
        # Each trusted proxy appends the address it saw: believe that many from the right, so
        # rate limits, consent records and logs get the visitor's address, not the proxy's.
        # X-Forwarded-Host is not believed: links use MAILER_URL and SURVEY_URL.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]  # Flask's documented way to wrap it
            app.wsgi_app, x_for=config.trusted_proxies, x_proto=config.trusted_proxies
        )
    babel.init_app(app, locale_selector=select_locale)
    limits.init_app(app)  # before CSRF protection, which reads the body
    csrf.init_app(app)

    from shared.web import errors, security
    from shared.web.accounts import bp as accounts_bp
    from shared.web.api_keys import bp as api_keys_bp
    from shared.web.auth import bp as auth_bp
    from shared.web.jobs import bp as jobs_bp
    from shared.web.organisation import bp as organisation_bp
    from shared.web.organisation import footer
    from shared.web.webhooks import bp as webhooks_bp

    security.init_app(app)
    errors.init_app(app)
    app.register_blueprint(auth_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(api_keys_bp)
    app.register_blueprint(jobs_bp)
    app.register_blueprint(organisation_bp)
    app.register_blueprint(webhooks_bp)
    app.add_template_global(footer)

    @app.teardown_appcontext
    def _close_session(_exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            session.close()

    @app.get("/healthz")
    def healthz() -> ResponseReturnValue:
        """200 while the database answers (the worker's state is detail: the pages work without it)."""
        if not services().db.ping():
            return {"status": "database unavailable"}, 503
        with services().db.sessions() as session:
            return {"status": "ok", "worker": worker_health(session, utcnow()).as_dict()}, 200

    # The overview pages of both services show whether the worker is alive (jobs/_worker.html).
    app.add_template_global(lambda: worker_health(db_session(), utcnow()), "worker_health")

    csrf.exempt(healthz)

    # Every time on every page goes through this filter: Swedish time, one format.
    app.add_template_filter(local_time)
    app.add_template_filter(lambda code: language_name(code, page_language()), "language_name")
    # Statuses and kinds by name in templates (``issue.status == IssueStatus.SENT``, ``….label``).
    for vocabulary in (
        AccountStatus,
        IssueStatus,
        MailKind,
        OutboxStatus,
        ParticipantStatus,
        ResponseStatus,
        Role,
        SubscriptionStatus,
        SurveyStatus,
    ):
        app.add_template_global(vocabulary, vocabulary.__name__)

    @app.context_processor
    def _globals() -> dict[str, str]:
        return {
            "organisation_name": config.organisation_name,
            "service": service,
            "current_language": page_language(),
            "mailer_url": config.mailer_url,
            "survey_url": config.survey_url,
        }

    if not config.testing:  # tests make an app each; their garbage must stay collectable
        # What exists now (the modules imported, the app and its configuration) lives as long as the
        # process. Out of the cyclic collector's sight, a full collection no longer walks those 150,000
        # objects: a quarter of a millisecond per respondent's page on average, an eighth of its CPU.
        gc.freeze()
    return app
