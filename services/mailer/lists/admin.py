"""What editors see of lists: all lists with counts, create, change, archive, add one subscriber."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from services.mailer.lists import domain
from services.mailer.lists.forms import AddSubscriberForm, ListForm
from services.mailer.subscriptions.domain import consent_text as list_consent_text
from services.mailer.subscriptions.people import counts_per_list
from shared.models import NewsletterList
from shared.web import db_session, get_or_404, services
from shared.web.auth import current_admin, login_required

bp = Blueprint("lists_admin", __name__, url_prefix="/admin/lists")


def _field_error(form, exc: domain.ListError) -> list[tuple[str, str, str]]:
    field = getattr(form, exc.field, None) if exc.field else None
    if field is not None:
        field.errors = [*field.errors, exc.message]
        return []
    return [("", _("Listan"), exc.message)]


def _fields(form: ListForm) -> domain.ListFields:
    return domain.ListFields(
        slug=form.slug.data or "",
        name=form.name.data or "",
        description=(form.description.data or "").strip(),
        language=form.language.data or "sv",
        public=bool(form.public.data),
        sender_name=form.sender_name.data or "",
        sender_email=form.sender_email.data or "",
        consent_text=form.consent_text.data or "",
        click_statistics=bool(form.click_statistics.data),
    )


@bp.get("/")
@login_required
def index():
    return render_template("mailer/lists/index.html", lists=counts_per_list(db_session()))


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    s = db_session()
    form = ListForm()
    if request.method == "GET":
        form.public.data = True
    errors: list = []
    if form.validate_on_submit():
        try:
            newsletter_list = domain.save_list(s, _fields(form))
            s.commit()
            flash(_("Listan %(name)s är skapad.", name=newsletter_list.name))
            return redirect(url_for("lists_admin.edit", list_id=newsletter_list.id))
        except domain.ListError as exc:
            s.rollback()
            errors = _field_error(form, exc)
    return render_template("mailer/lists/form.html", form=form, newsletter_list=None, errors=errors)


@bp.route("/<int:list_id>", methods=["GET", "POST"])
@login_required
def edit(list_id: int):
    s = db_session()
    newsletter_list = get_or_404(NewsletterList, list_id)
    form = ListForm(obj=newsletter_list)
    errors: list = []
    if form.validate_on_submit():
        try:
            domain.save_list(s, _fields(form), newsletter_list)
            s.commit()
            flash(_("Ändringarna är sparade."))
            return redirect(url_for("lists_admin.edit", list_id=list_id))
        except domain.ListError as exc:
            s.rollback()
            errors = _field_error(form, exc)
    text, version = list_consent_text(newsletter_list)
    return render_template(
        "mailer/lists/form.html",
        form=form,
        newsletter_list=newsletter_list,
        errors=errors,
        consent=(text, version),
        add_form=AddSubscriberForm(formdata=None),
    ), (400 if errors or form.errors else 200)


@bp.post("/<int:list_id>/archive")
@login_required
def archive(list_id: int):
    s = db_session()
    newsletter_list = get_or_404(NewsletterList, list_id)
    try:
        if newsletter_list.archived_at is None:
            domain.archive_list(s, newsletter_list)
            flash(_("Listan är arkiverad: den syns inte längre för läsare eller som val för nya nummer."))
        else:
            domain.restore_list(s, newsletter_list)
            flash(_("Listan är återställd."))
        s.commit()
    except domain.ListError as exc:
        s.rollback()
        flash(exc.message)
    return redirect(url_for("lists_admin.edit", list_id=list_id))


@bp.route("/<int:list_id>/add", methods=["GET", "POST"])
@login_required
def add_subscriber(list_id: int):
    s, svc = db_session(), services()
    newsletter_list = get_or_404(NewsletterList, list_id)
    form = AddSubscriberForm()
    errors: list = []
    if form.validate_on_submit():
        admin = current_admin()
        try:
            subscription = domain.add_subscriber(
                s,
                svc.config,
                svc.tokens,
                newsletter_list,
                email=form.email.data or "",
                name=form.name.data or "",
                consented=bool(form.consented.data),
                note=form.note.data or "",
                editor=admin.email if admin else "?",
            )
            s.commit()
            flash(
                _("%(email)s är tillagd och aktiv.", email=subscription.subscriber.email)
                if form.consented.data
                else _("%(email)s har fått ett bekräftelsemejl.", email=subscription.subscriber.email)
            )
            return redirect(url_for("lists_admin.add_subscriber", list_id=list_id))
        except domain.ListError as exc:
            s.rollback()
            errors = _field_error(form, exc)
    status = 400 if (errors or form.errors) else 200
    return render_template(
        "mailer/lists/add_subscriber.html", form=form, newsletter_list=newsletter_list, errors=errors
    ), status
