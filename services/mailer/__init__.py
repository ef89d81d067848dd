"""The mailer: double opt-in subscriptions, newsletter issues and their delivery."""
from flask import Flask

from shared.config import Config
from shared.web import create_base_app


def create_app(config: Config | None = None) -> Flask:
    """WSGI factory: ``gunicorn 'services.mailer:create_app()'``."""
    app = create_base_app(__name__, "mailer", config)

    from services.mailer import admin, public

    app.register_blueprint(public.bp)
    app.register_blueprint(admin.bp)
    from services.mailer.subscriptions import register_blueprints as register_subscriptions

    register_subscriptions(app)
    from services.mailer.issues import register_blueprints as register_issues

    register_issues(app)
    return app
