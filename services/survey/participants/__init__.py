"""Participants: the people invited to a survey — imported from CSV, added, changed or removed one at
a time — and where each stands (worked out in SQL)."""


def register_blueprints(app) -> None:
    """The evaluators' participant pages: the list with statuses, the CSV import, one person's page."""
    from services.survey.participants import admin

    app.register_blueprint(admin.bp)
