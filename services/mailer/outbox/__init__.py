"""The Outbox page: mails waiting or failed, and (in development) every mail written to the file outbox."""


def register_blueprints(app) -> None:
    """The editors' Outbox page."""
    from services.mailer.outbox import admin

    app.register_blueprint(admin.bp)
