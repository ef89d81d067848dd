"""The survey service: surveys, participants, invitations, answering and results."""
from flask import Flask

from shared.config import Config
from shared.web import create_base_app


def create_app(config: Config | None = None) -> Flask:
    """WSGI factory: ``gunicorn 'services.survey:create_app()'``."""
    app = create_base_app(__name__, "survey", config)

    from services.survey import admin, public

    app.register_blueprint(public.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(__import__("services.survey.results.admin", fromlist=["bp"]).bp)  # results (issue 5)
    return app
