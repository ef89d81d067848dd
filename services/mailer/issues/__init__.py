"""Newsletter issues: written in Markdown, previewed, test-sent, sent now or scheduled, archived."""


def register_blueprints(app) -> None:
    """The editors' issue pages and the public archive."""
    from services.mailer.issues import admin, public
    from services.mailer.issues.personal import generic

    app.add_template_filter(generic)
    app.register_blueprint(admin.bp)
    app.register_blueprint(public.bp)
