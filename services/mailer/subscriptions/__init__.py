"""Subscriptions: double opt-in, stop links, the subscriber register, its import/export and GDPR."""


def register_blueprints(app) -> None:
    """The readers' pages and the editors' subscriber pages."""
    from services.mailer.subscriptions import admin, public

    app.register_blueprint(public.bp)
    app.register_blueprint(admin.bp)
