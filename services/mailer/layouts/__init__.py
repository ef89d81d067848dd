"""Mail templates ("mallar"): the organisation's layout for issues — logo, colours (checked for
contrast), header links and footer text. Several named templates; an issue picks one."""


def register_blueprints(app) -> None:
    """The editors' template pages."""
    from services.mailer.layouts import admin

    app.register_blueprint(admin.bp)
