"""The mailer: double opt-in subscriptions, newsletter issues and their delivery."""

from flask import Flask

from services.mailer import bounces, issues, layouts, lists, media, outbox, segments, subscriptions
from shared.config import Config
from shared.web import create_base_app

# Each feature registers its own pages (``register_blueprints``) and commands (``cli.register``).
FEATURES = (subscriptions, lists, segments, issues, layouts, media, bounces, outbox)


def create_app(config: Config | None = None) -> Flask:
    """WSGI factory: ``gunicorn 'services.mailer:create_app()'``."""
    from services.mailer import admin, api, public

    app = create_base_app(__name__, "mailer", config)
    app.register_blueprint(public.bp)
    app.register_blueprint(admin.bp)
    for feature in FEATURES:
        feature.register_blueprints(app)
    api.register(app)
    return app
