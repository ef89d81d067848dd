"""The media library page: upload an image with its alt text, copy the Markdown that shows it."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import StringField

from services.mailer.media import domain
from shared.web import db_session, services
from shared.web.auth import login_required

bp = Blueprint("media_admin", __name__, url_prefix="/admin/media")


class UploadForm(FlaskForm):
    file = FileField(_l("Bild (JPEG, PNG, GIF eller WebP)"), validators=[FileRequired(_l("Välj en bild."))])
    alt_text = StringField(_l("Alternativtext"))


@bp.route("/", methods=["GET", "POST"])
@login_required
def index():
    s, config = db_session(), services().config
    form = UploadForm()
    if form.validate_on_submit() and form.file.data is not None:
        try:
            media = domain.upload(
                s, form.file.data.read(domain.MAX_UPLOAD + 1), form.file.data.filename or "", form.alt_text.data or ""
            )
            s.commit()
            flash(_("Bilden är uppladdad. Klistra in raden under bilden i brevet."))
            return redirect(url_for("media_admin.index", _anchor=f"media-{media.id}"))
        except domain.MediaError as exc:
            s.rollback()
            getattr(form, exc.field).errors = [exc.message]
    files = domain.library(s)
    return render_template(
        "mailer/media/index.html",
        form=form,
        files=[(m, domain.url(config, m), domain.markdown(config, m)) for m in files],
        picker=request.args.get("picker") == "1",
    ), (400 if form.errors else 200)
