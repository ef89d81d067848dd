"""Bounces (at send time, DSN files, webhook) and the suppression list editors manage."""


def register_blueprints(app) -> None:
    """The editors' suppression list and the webhook a mail relay posts bounces to."""
    from services.mailer.bounces import admin, public

    app.register_blueprint(admin.bp)
    app.register_blueprint(public.bp)
