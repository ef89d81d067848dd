"""Results: response rate, per-question figures, breakdowns with the small-group rule, and exports."""


def register_blueprints(app) -> None:
    """The evaluators' results pages (dashboard, results, free texts, breakdown, export)."""
    from services.survey.results import admin

    app.register_blueprint(admin.bp)
