"""Lists: created, edited and archived by editors, each with its own consent text and subscribe page."""


def register_blueprints(app) -> None:
    """The editors' list pages."""
    from services.mailer.lists import admin

    app.register_blueprint(admin.bp)
