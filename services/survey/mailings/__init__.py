"""Mailings: invitations and reminders — the evaluator's mail texts, sending them through the outbox,
and the participant's way to decline further reminders."""


def register_blueprints(app) -> None:
    """The evaluators' mail pages (texts, preview, sending) and the respondents' decline page."""
    from services.survey.mailings import admin, public

    app.register_blueprint(admin.bp)
    app.register_blueprint(public.bp)
