"""The media library: images uploaded by editors, resized for mail, with required alt text."""


def register_blueprints(app) -> None:
    """The editors' media pages (the images themselves are served by ``shared.web.organisation``)."""
    from services.mailer.media import admin

    app.register_blueprint(admin.bp)
