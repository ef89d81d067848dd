"""What editors see of the subscriber register: list, one person, import, export, GDPR."""

from __future__ import annotations

import io
import json
import logging

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from services.mailer.subscriptions import csvio, domain, gdpr, jobs, people
from services.mailer.subscriptions.forms import ImportForm
from shared.models import AdminUser, NewsletterList, Subscriber, SubscriptionStatus
from shared.web import db_session, get_or_404, services
from shared.web.auth import current_admin, login_required

log = logging.getLogger(__name__)
bp = Blueprint("subscribers", __name__, url_prefix="/admin/subscribers")


def _editor() -> AdminUser:
    """Who does it, for the log (by id) and the history (by address); every page here is behind ``login_required``."""
    admin = current_admin()
    if admin is None:
        raise RuntimeError("no editor signed in: the view lacks @login_required")
    return admin


def _int_arg(name: str) -> int | None:
    try:
        return int(request.args.get(name, ""))
    except ValueError:
        return None


@bp.get("/")
@login_required
def index():
    s = db_session()
    lists = domain.all_lists(s)
    list_id = _int_arg("list")
    if list_id is not None and all(lst.id != list_id for lst in lists):
        list_id = None
    status = request.args.get("status")
    status = SubscriptionStatus(status) if status in tuple(SubscriptionStatus) else None
    # Control characters (NUL above all) cannot be searched for and PostgreSQL refuses them.
    query = "".join(ch for ch in request.args.get("q", "")[:200] if ch.isprintable())
    result = people.search_subscriptions(s, query=query, status=status, list_id=list_id, page=_int_arg("page") or 1)
    return render_template(
        "mailer/subscriptions/admin/index.html",
        result=result,
        counts=people.status_counts(s, list_id),
        lists=lists,
        list_id=list_id,
        status=status,
        query=query,
        statuses=tuple(SubscriptionStatus),
    )


@bp.get("/<int:subscriber_id>")
@login_required
def show(subscriber_id: int):
    record = people.person_record(db_session(), subscriber_id)
    if record is None:
        abort(404)
    return render_template("mailer/subscriptions/admin/show.html", record=record)


@bp.post("/<int:subscriber_id>/attributes")
@login_required
def attributes(subscriber_id: int):
    """Change the person's attributes (the form has a name and a value field per attribute)."""
    s = db_session()
    subscriber = get_or_404(Subscriber, subscriber_id)
    keys, values = request.form.getlist("attribute-key"), request.form.getlist("attribute-value")
    people.set_attributes(s, subscriber, list(zip(keys, values, strict=False)))
    s.commit()
    log.info("subscriber %s: attributes changed by admin %s", subscriber_id, _editor().id)
    flash(_("Uppgifterna är sparade."))
    return redirect(url_for("subscribers.show", subscriber_id=subscriber_id))


@bp.route("/<int:subscriber_id>/export", methods=["GET", "POST"])
@login_required
def export_person(subscriber_id: int):
    s = db_session()
    record = people.person_record(s, subscriber_id)
    if record is None:
        abort(404)
    if request.method == "GET":
        return render_template("mailer/subscriptions/admin/export_person.html", record=record)
    data = gdpr.personal_data(s, subscriber_id)
    log.info("personal data of subscriber %s exported by account %s", subscriber_id, _editor().id)
    return Response(
        json.dumps(data, ensure_ascii=False, indent=2),
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="personuppgifter-{subscriber_id}.json"'},
    )


@bp.route("/<int:subscriber_id>/erase", methods=["GET", "POST"])
@login_required
def erase(subscriber_id: int):
    s = db_session()
    record = people.person_record(s, subscriber_id)
    if record is None:
        abort(404)
    if request.method == "GET":
        return render_template("mailer/subscriptions/admin/erase.html", record=record)
    gdpr.erase_subscriber(s, subscriber_id, editor=_editor().email)
    s.commit()
    log.info("subscriber %s erased by account %s", subscriber_id, _editor().id)
    flash(_("Personen är raderad. Adressen ligger kvar på spärrlistan så att den inte får fler utskick."))
    return redirect(url_for("subscribers.index"), code=303)


@bp.route("/import", methods=["GET", "POST"])
@login_required
def import_csv():
    s, svc = db_session(), services()
    lists = domain.all_lists(s)
    form = ImportForm()
    form.list_id.choices = [(lst.id, lst.name) for lst in lists]
    if request.method == "GET" and lists:
        form.list_id.data = (domain.find_list(s) or lists[0]).id
    report = None
    if form.validate_on_submit():
        data = form.file.data.read()
        csv_file = csvio.read_subscriber_csv(data)
        file_error = jobs.file_error(csv_file)
        if file_error:
            form.file.errors = [file_error]
        else:
            newsletter_list = next(lst for lst in lists if lst.id == form.list_id.data)
            if csvio.runs_as_job(data):
                job = jobs.start_import(
                    s,
                    newsletter_list,
                    data,
                    filename=form.file.data.filename or "",
                    consented=form.consented.data,
                    editor=_editor(),
                    return_path=url_for("subscribers.import_csv"),
                )
                s.commit()
                return redirect(url_for("jobs.show", job_id=job.id), code=303)
            report = csvio.import_subscribers(
                s,
                svc.config,
                svc.tokens,
                newsletter_list,
                csv_file,
                consented=form.consented.data,
                editor=_editor().email,
            )
            s.commit()
    status = 400 if form.errors else 200
    return render_template("mailer/subscriptions/admin/import.html", form=form, report=report), status


@bp.get("/export.csv")
@login_required
def export_csv():
    s = db_session()
    list_id = _int_arg("list")
    newsletter_list = s.get(NewsletterList, list_id) if list_id else domain.find_list(s)
    if newsletter_list is None:
        abort(404)
    out = io.StringIO()
    out.write("\ufeff")  # Excel needs the BOM to read UTF-8 (å, ä, ö) correctly
    csvio.write_export(csvio.export_rows(s, newsletter_list.id), out, people.attribute_keys(s))
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="prenumeranter-{newsletter_list.slug}.csv"'},
    )
