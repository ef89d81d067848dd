"""Responses: answering through the personal link — one page at a time, saved on every page, resumed
later, submitted once (unlinkable in an anonymous survey) — and the evaluator's preview of it."""


def register_blueprints(app) -> None:
    """The respondents' pages behind the personal link and the evaluators' preview."""
    from services.survey.responses import admin, public

    app.register_blueprint(public.bp)
    app.register_blueprint(admin.bp)
