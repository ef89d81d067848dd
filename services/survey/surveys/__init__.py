"""Surveys: definitions (read, checked, normalised), the editor, and opening and closing a survey."""


def register_blueprints(app) -> None:
    """The evaluators' survey pages: the list, a new survey, its page, the editors, open and close."""
    from services.survey.surveys import admin

    app.register_blueprint(admin.bp)
