"""Subscriptions: double opt-in, stop links, the subscriber register, its import/export and GDPR."""


def register_blueprints(app) -> None:
    """Add the readers' pages, the editors' subscriber pages and the development Outbox page."""
    from services.mailer.subscriptions import admin, outbox_view, public

    app.register_blueprint(public.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(outbox_view.bp)
