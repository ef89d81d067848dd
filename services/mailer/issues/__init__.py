"""Newsletter issues: written in Markdown, previewed, test-sent, sent now or scheduled, archived."""


def register_blueprints(app) -> None:
    """The editors' issue pages and the public archive."""
    from services.mailer.issues import admin, public

    app.register_blueprint(admin.bp)
    app.register_blueprint(public.bp)
