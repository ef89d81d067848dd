"""What editors see of mail templates: the list, and a form with the colours' contrast checked and a
preview of the template."""

from __future__ import annotations

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _

from services.mailer.issues.rendering import body_html, mail_html
from services.mailer.layouts import domain
from services.mailer.media.domain import library
from shared import organisation
from shared.models import MailTemplate
from shared.web import db_session, get_or_404, services
from shared.web.auth import login_required

bp = Blueprint("layouts_admin", __name__, url_prefix="/admin/templates")

SAMPLE = """## Ledare

Så här ser ett nummer ut i mallen: rubriker och [länkar](https://example.org) i länkfärgen.

- en lista
- med punkter
"""


@bp.get("/")
@login_required
def index():
    return render_template("mailer/layouts/index.html", templates=domain.all_templates(db_session()))


def _form_values(template: MailTemplate | None) -> dict:
    source = template or domain.DEFAULT
    if request.method == "POST":
        return {
            "name": request.form.get("name", ""),
            "header_colour": request.form.get("header_colour", ""),
            "text_colour": request.form.get("text_colour", ""),
            "link_colour": request.form.get("link_colour", ""),
            "logo_id": request.form.get("logo_id", ""),
            "header_links": bool(request.form.get("header_links")),
            "footer_text": request.form.get("footer_text", ""),
        }
    return {
        "name": source.name,
        "header_colour": source.header_colour,
        "text_colour": source.text_colour,
        "link_colour": source.link_colour,
        "logo_id": str(source.logo_id or ""),
        "header_links": source.header_links,
        "footer_text": source.footer_text,
    }


def _edit(template: MailTemplate | None):
    s = db_session()
    values = _form_values(template)
    errors = []
    if request.method == "POST":
        logo = values["logo_id"]
        try:
            saved = domain.save_template(
                s,
                name=values["name"],
                header_colour=values["header_colour"],
                text_colour=values["text_colour"],
                link_colour=values["link_colour"],
                logo_id=int(logo) if logo.isdigit() else None,
                header_links=values["header_links"],
                footer_text=values["footer_text"],
                current=template,
            )
            s.commit()
            flash(_("Mallen %(name)s är sparad.", name=saved.name))
            return redirect(url_for("layouts_admin.edit", template_id=saved.id))
        except organisation.SettingsError as exc:  # TemplateError, or a colour that is no colour
            s.rollback()
            errors = [(exc.field, _("Mallen"), exc.message)]
    return render_template(
        "mailer/layouts/form.html",
        template=template,
        values=values,
        errors=errors,
        images=library(s),
    ), (400 if errors else 200)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    return _edit(None)


@bp.route("/<int:template_id>", methods=["GET", "POST"])
@login_required
def edit(template_id: int):
    return _edit(get_or_404(MailTemplate, template_id))


@bp.get("/<int:template_id>/preview.html")
@login_required
def preview_html(template_id: int):
    from services.mailer.issues.admin import PREVIEW_CSP

    s, config = db_session(), services().config
    template = get_or_404(MailTemplate, template_id)
    look = domain.layout(s, config, template.id)
    org = organisation.load(s, config)
    html = mail_html(
        subject=template.name,
        preheader="",
        body=body_html(SAMPLE),
        footer=look.footer_text,
        organisation_name=org.name,
        language="sv",
        look=look,
        header_links=[
            (_("Starta prenumeration"), "#"),
            (_("Avsluta prenumeration"), "#"),
            (_("Läs i webbläsaren"), "#"),
        ]
        if look.header_links
        else None,
    )
    response = make_response(html)
    response.headers["Content-Security-Policy"] = PREVIEW_CSP
    return response
