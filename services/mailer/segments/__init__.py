"""Segments: saved filters on lists, attributes and dates, and who an issue goes to."""


def register_blueprints(app) -> None:
    """The editors' segment pages."""
    from services.mailer.segments import admin

    app.register_blueprint(admin.bp)
