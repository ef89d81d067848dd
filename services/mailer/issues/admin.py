"""What editors see of issues: list, write, preview, test-send, send or schedule, follow progress."""

from __future__ import annotations

from flask import Blueprint, flash, jsonify, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from markupsafe import escape

from services.mailer.issues import domain
from services.mailer.issues.forms import IssueForm, ScheduleForm, TestSendForm
from services.mailer.issues.rendering import RECIPIENT, STOP_URL
from services.mailer.subscriptions.domain import all_lists
from shared.i18n import local_time, to_local
from shared.models import Issue
from shared.web import db_session, get_or_404, services
from shared.web.auth import current_admin, login_required

bp = Blueprint("issues_admin", __name__, url_prefix="/admin/issues")

# The preview is the mail itself: inline styles allowed, nothing else, and it may only be framed by us.
PREVIEW_CSP = "default-src 'none'; img-src https: data:; style-src 'unsafe-inline'; frame-ancestors 'self'; sandbox"


def _list_choices(form: IssueForm) -> None:
    form.list_id.choices = [(lst.id, lst.name) for lst in all_lists(db_session())]


def _field_error(form, exc: domain.IssueError) -> list[tuple[str, str, str]]:
    """Put a domain error next to its field, or return it for the error summary."""
    field = getattr(form, exc.field, None) if exc.field else None
    if field is not None:
        field.errors = [*field.errors, exc.message]
        return []
    return [("", _("Brevet"), exc.message)]


@bp.get("/")
@login_required
def index():
    issues = domain.list_issues(db_session())
    return render_template("mailer/issues/index.html", issues=issues)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    s = db_session()
    form = IssueForm()
    _list_choices(form)
    errors = []
    if form.validate_on_submit():
        try:
            admin = current_admin()
            issue = domain.create_issue(
                s,
                list_id=form.list_id.data,
                subject=form.subject.data or "",
                preheader=form.preheader.data or "",
                source=form.source.data or "",
                created_by=admin.id if admin else None,
            )
            s.commit()
            flash(_("Utkastet är sparat."))
            return redirect(url_for("issues_admin.show", issue_id=issue.id))
        except domain.IssueError as exc:
            s.rollback()
            errors = _field_error(form, exc)
    return render_template("mailer/issues/form.html", form=form, issue=None, errors=errors)


@bp.route("/<int:issue_id>/edit", methods=["GET", "POST"])
@login_required
def edit(issue_id: int):
    s = db_session()
    issue = get_or_404(Issue, issue_id)
    if issue.status not in domain.EDITABLE:
        flash(_("Brevet har redan börjat skickas och kan inte ändras."))
        return redirect(url_for("issues_admin.show", issue_id=issue.id))
    form = IssueForm(obj=issue)
    _list_choices(form)
    errors = []
    if form.validate_on_submit():
        try:
            issue.list_id = form.list_id.data
            domain.update_issue(
                s,
                services().config,
                issue,
                subject=form.subject.data or "",
                preheader=form.preheader.data or "",
                source=form.source.data or "",
            )
            s.commit()
            flash(_("Ändringarna är sparade."))
            return redirect(url_for("issues_admin.show", issue_id=issue.id))
        except domain.IssueError as exc:
            s.rollback()
            errors = _field_error(form, exc)
    return render_template("mailer/issues/form.html", form=form, issue=issue, errors=errors)


def _show(issue: Issue, *, test_form=None, schedule_form=None, errors=None, status=200):
    s = db_session()
    if schedule_form is None:
        schedule_form = ScheduleForm(formdata=None)
        if issue.scheduled_at:
            local = to_local(issue.scheduled_at)
            schedule_form.date.data, schedule_form.time.data = local.date(), local.time()
    return render_template(
        "mailer/issues/show.html",
        issue=issue,
        progress=domain.progress(s, issue) if issue.status not in domain.EDITABLE else None,
        recipients=domain.recipient_count(s, issue),
        failed=domain.failed_deliveries(s, issue) if issue.status not in domain.EDITABLE else [],
        test_form=test_form or TestSendForm(formdata=None),
        schedule_form=schedule_form,
        errors=errors or [],
    ), status


@bp.get("/<int:issue_id>")
@login_required
def show(issue_id: int):
    return _show(get_or_404(Issue, issue_id))


@bp.get("/<int:issue_id>/progress.json")
@login_required
def progress_json(issue_id: int):
    issue = get_or_404(Issue, issue_id)
    data = domain.progress(db_session(), issue).as_dict()
    data["status_label"] = str(issue.status.label)
    return jsonify(data)


def _sample_mail(issue: Issue):
    s = db_session()
    rendered = domain.render(s, services().config, issue)
    sample = _("Exempel Exempelsson (exempel@example.se)")
    return rendered, sample


@bp.get("/<int:issue_id>/preview")
@login_required
def preview(issue_id: int):
    issue = get_or_404(Issue, issue_id)
    rendered, sample = _sample_mail(issue)
    text = rendered.text.replace(STOP_URL, f"{services().config.mailer_url}/unsubscribe/…").replace(RECIPIENT, sample)
    return render_template("mailer/issues/preview.html", issue=issue, text=text)


@bp.get("/<int:issue_id>/preview.html")
@login_required
def preview_html(issue_id: int):
    issue = get_or_404(Issue, issue_id)
    rendered, sample = _sample_mail(issue)
    html = rendered.html.replace(STOP_URL, "#").replace(RECIPIENT, str(escape(sample)))
    response = make_response(html)
    response.headers["Content-Security-Policy"] = PREVIEW_CSP
    return response


@bp.post("/<int:issue_id>/test")
@login_required
def test_send(issue_id: int):
    s = db_session()
    issue = get_or_404(Issue, issue_id)
    form = TestSendForm()
    errors: list[tuple[str, str, str]] = []
    if form.validate_on_submit():
        try:
            sent_to = domain.send_test(s, services().config, issue, form.addresses.data or "")
            s.commit()
            flash(_("Provutskicket är på väg till %(addresses)s.", addresses=", ".join(sent_to)))
            return redirect(url_for("issues_admin.show", issue_id=issue.id))
        except domain.IssueError as exc:
            s.rollback()
            errors = _field_error(form, exc)  # a refused subject belongs to the issue, not this form
    return _show(issue, test_form=form, errors=errors, status=400)


@bp.route("/<int:issue_id>/send", methods=["GET", "POST"])
@login_required
def send(issue_id: int):
    s = db_session()
    issue = get_or_404(Issue, issue_id)
    if request.method == "POST":
        try:
            count = domain.send_now(s, services().config, issue)
            s.commit()
            flash(_("Utskicket har börjat: %(count)s brev köade.", count=count))
        except domain.IssueError as exc:
            s.rollback()
            flash(exc.message)
        return redirect(url_for("issues_admin.show", issue_id=issue.id))
    if issue.status not in domain.EDITABLE:
        return redirect(url_for("issues_admin.show", issue_id=issue.id))
    return render_template("mailer/issues/send_confirm.html", issue=issue, recipients=domain.recipient_count(s, issue))


@bp.post("/<int:issue_id>/schedule")
@login_required
def schedule(issue_id: int):
    s = db_session()
    issue = get_or_404(Issue, issue_id)
    form = ScheduleForm()
    # Both fields are required: a form that validates has them (the checks tell mypy).
    if form.validate_on_submit() and form.date.data is not None and form.time.data is not None:
        try:
            at = domain.parse_local_time(form.date.data.isoformat(), form.time.data.strftime("%H:%M"))
            domain.schedule(s, services().config, issue, at)
            s.commit()
            flash(_("Brevet skickas %(when)s.", when=local_time(at)))
            return redirect(url_for("issues_admin.show", issue_id=issue.id))
        except domain.IssueError as exc:
            s.rollback()
            errors = _field_error(form, exc)
            return _show(issue, schedule_form=form, errors=errors, status=400)
    return _show(issue, schedule_form=form, status=400)


def _action(issue_id: int, action, message: str):
    s = db_session()
    issue = get_or_404(Issue, issue_id)
    try:
        action(s, issue)
        s.commit()
        flash(message)
    except domain.IssueError as exc:
        s.rollback()
        flash(exc.message)
    return redirect(url_for("issues_admin.show", issue_id=issue_id))


@bp.post("/<int:issue_id>/unschedule")
@login_required
def unschedule(issue_id: int):
    return _action(issue_id, domain.unschedule, _("Schemaläggningen är borttagen; brevet är ett utkast igen."))


@bp.post("/<int:issue_id>/pause")
@login_required
def pause(issue_id: int):
    return _action(issue_id, domain.pause, _("Utskicket är pausat. Brev som redan var på väg skickas klart."))


@bp.post("/<int:issue_id>/resume")
@login_required
def resume(issue_id: int):
    return _action(issue_id, domain.resume, _("Utskicket fortsätter."))


@bp.post("/<int:issue_id>/cancel")
@login_required
def cancel(issue_id: int):
    return _action(issue_id, domain.cancel, _("Utskicket är avbrutet. Brev som inte skickats skickas inte."))
