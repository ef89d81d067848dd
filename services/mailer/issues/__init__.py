"""Newsletter issues: written in Markdown, previewed, test-sent, sent now or scheduled."""


def register_blueprints(app) -> None:
    """The editors' issue pages, the public archive, suppressions and the bounce webhook."""
    from services.mailer.bounces import routes as bounce_routes
    from services.mailer.issues import admin, archive

    app.register_blueprint(admin.bp)
    app.register_blueprint(archive.bp)
    app.register_blueprint(bounce_routes.admin_bp)
    app.register_blueprint(bounce_routes.webhook_bp)
