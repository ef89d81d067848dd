"""The survey service: surveys, participants, mailings (invitations, reminders), responses, results."""

from flask import Flask

from services.survey import mailings, participants, responses, results, surveys
from shared.config import Config
from shared.web import create_base_app

FEATURES = (surveys, participants, mailings, responses, results)


def create_app(config: Config | None = None) -> Flask:
    """WSGI factory: ``gunicorn 'services.survey:create_app()'``."""
    app = create_base_app(__name__, "survey", config)

    from services.survey import admin, api, public

    app.register_blueprint(public.bp)
    app.register_blueprint(admin.bp)
    for feature in FEATURES:
        feature.register_blueprints(app)
    api.register(app)
    return app
