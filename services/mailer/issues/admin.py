"""What editors see of issues: list, write, preview, test-send, send or schedule, follow progress."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, flash, jsonify, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from markupsafe import escape

from services.mailer.issues import domain, personal
from services.mailer.issues.forms import IssueForm, ScheduleForm, TestSendForm
from services.mailer.issues.statistics import issue_statistics
from services.mailer.layouts import domain as layouts
from services.mailer.segments import domain as segments
from services.mailer.subscriptions.domain import all_lists
from shared.i18n import local_time, to_local
from shared.models import Issue, IssueStatus
from shared.web import db_session, get_or_404, services
from shared.web.auth import current_admin, login_required

# The seed newsletters' shape (editorial, contents, articles, calendar) to start a new issue from.
STARTER = Path(__file__).with_name("starter.md")

bp = Blueprint("issues_admin", __name__, url_prefix="/admin/issues")

# The preview is the mail itself: inline styles allowed, nothing else, and it may only be framed by us.
# ``allow-same-origin`` lets the editor's page read the mail's height (the frame is as tall as the
# mail); scripts stay off in the frame, so that gives the mail nothing.
PREVIEW_CSP = (
    "default-src 'none'; img-src 'self' https: data:; style-src 'unsafe-inline'; frame-ancestors 'self'; "
    "sandbox allow-same-origin"
)


def _list_choices(form: IssueForm, issue: Issue | None = None) -> None:
    s = db_session()
    form.list_id.choices = [(lst.id, lst.name) for lst in all_lists(s)]
    form.also_lists.choices = form.list_id.choices
    form.segment_id.choices = [(0, _("Inget segment"))] + [(seg.id, seg.name) for seg in segments.all_segments(s)]
    form.template_id.choices = [(0, _("Standard"))] + [(t.id, t.name) for t in layouts.all_templates(s)]
    if issue is not None and request.method == "GET":
        form.template_id.data = issue.template_id or 0
        form.also_lists.data = [i for i in segments.issue_list_ids(s, issue) if i != issue.list_id]
        form.segment_id.data = issue.segment_id or 0


def _save_audience(form: IssueForm, issue: Issue) -> None:
    """Who gets the issue, and its template (both chosen on the same form)."""
    known_templates = {t.id for t in layouts.all_templates(db_session())}
    issue.template_id = form.template_id.data if form.template_id.data in known_templates else None
    extra = [i for i in (form.also_lists.data or []) if i != form.list_id.data]
    known_segments = {seg.id for seg in segments.all_segments(db_session())}
    segment_id = form.segment_id.data if form.segment_id.data in known_segments else None
    segments.set_issue_audience(
        db_session(), issue, list_ids=[issue.list_id, *extra] if extra else None, segment_id=segment_id or None
    )


def _field_error(form, exc: domain.IssueError) -> list[tuple[str, str, str]]:
    """Put a domain error next to its field, or return it for the error summary."""
    field = getattr(form, exc.field, None) if exc.field else None
    if field is not None:
        field.errors = [*field.errors, exc.message]
        return []
    return [("", str(_("Brevet")), exc.message)]


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
    if request.method == "GET" and request.args.get("starter"):
        form.source.data = STARTER.read_text(encoding="utf-8")
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
            _save_audience(form, issue)
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
    _list_choices(form, issue)
    errors = []
    if form.validate_on_submit():
        try:
            admin = current_admin()
            issue.list_id = form.list_id.data
            domain.update_issue(
                s,
                services().config,
                issue,
                subject=form.subject.data or "",
                preheader=form.preheader.data or "",
                source=form.source.data or "",
                saved_by=admin.id if admin else None,
            )
            _save_audience(form, issue)
            s.commit()
            flash(_("Ändringarna är sparade."))
            return redirect(url_for("issues_admin.show", issue_id=issue.id))
        except domain.IssueError as exc:
            s.rollback()
            errors = _field_error(form, exc)
    width = "phone" if request.args.get("width") == "phone" else "desktop"
    return render_template("mailer/issues/form.html", form=form, issue=issue, errors=errors, width=width)


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
        audience=segments.audience_label(s, issue),
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


def _sample_mail(issue: Issue, stop_url: str):
    """The mail as the chosen subscriber (``?person=`` their address) or an example person gets it."""
    s = db_session()
    rendered = domain.render(s, services().config, issue)
    person, address = domain.sample_person(s, request.args.get("person"))
    return domain.personalised(rendered, person, stop_url, address), person


@bp.get("/<int:issue_id>/preview")
@login_required
def preview(issue_id: int):
    issue = get_or_404(Issue, issue_id)
    try:
        mail, person = _sample_mail(issue, f"{services().config.mailer_url}/unsubscribe/…")
    except domain.IssueError as exc:
        flash(exc.message)
        return redirect(url_for("issues_admin.edit", issue_id=issue_id))
    width = "phone" if request.args.get("width") == "phone" else "desktop"
    return render_template(
        "mailer/issues/preview.html",
        issue=issue,
        text=mail.text,
        subject=personal.fill(personal.to_markers(issue.subject), person),
        person=request.args.get("person", ""),
        width=width,
    )


@bp.get("/<int:issue_id>/preview.html")
@login_required
def preview_html(issue_id: int):
    issue = get_or_404(Issue, issue_id)
    try:
        mail, _person = _sample_mail(issue, "#")
    except domain.IssueError as exc:
        return make_response(str(escape(exc.message)), 400)
    response = make_response(mail.html)
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
            sent_to = domain.send_test(s, services().config, issue, form.addresses.data or "", form.person.data or None)
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
    recipients = domain.recipient_count(s, issue)
    changed = False
    if request.method == "POST" and request.form.get("expected", str(recipients)) != str(recipients):
        # Someone subscribed or stopped since the page was shown: the editor confirms the new number.
        changed = True
    elif request.method == "POST":
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
    return render_template(
        "mailer/issues/send_confirm.html",
        issue=issue,
        recipients=recipients,
        audience=segments.audience_label(s, issue),
        changed=changed,
    )


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


@bp.get("/<int:issue_id>/statistics")
@login_required
def statistics(issue_id: int):
    issue = get_or_404(Issue, issue_id)
    return render_template(
        "mailer/issues/statistics.html",
        issue=issue,
        stats=issue_statistics(db_session(), issue),
        click_statistics=issue.newsletter_list.click_statistics,
    )


@bp.post("/<int:issue_id>/autosave")
@login_required
def autosave(issue_id: int):
    """The editor's script saves the draft every few seconds while it is written (JSON in, JSON out)."""
    s = db_session()
    issue = get_or_404(Issue, issue_id)
    if issue.status != IssueStatus.DRAFT:
        return jsonify({"saved": False, "error": _("Bara utkast sparas automatiskt.")}), 409
    admin = current_admin()
    try:
        domain.update_issue(
            s,
            services().config,
            issue,
            subject=request.form.get("subject", ""),
            preheader=request.form.get("preheader", ""),
            source=request.form.get("source", ""),
            saved_by=admin.id if admin else None,
            autosave=True,
        )
        s.commit()
    except domain.IssueError as exc:
        s.rollback()
        return jsonify({"saved": False, "error": exc.message, "field": exc.field}), 400
    return jsonify({"saved": True, "saved_at": local_time(issue.updated_at)})


@bp.get("/<int:issue_id>/history")
@login_required
def history(issue_id: int):
    issue = get_or_404(Issue, issue_id)
    return render_template("mailer/issues/history.html", issue=issue, revisions=domain.revisions(db_session(), issue))


@bp.post("/<int:issue_id>/history/<int:revision_id>/restore")
@login_required
def restore(issue_id: int, revision_id: int):
    s = db_session()
    issue = get_or_404(Issue, issue_id)
    admin = current_admin()
    try:
        revision = domain.restore_revision(s, services().config, issue, revision_id, admin.id if admin else None)
        s.commit()
        flash(_("Versionen från %(when)s är återställd.", when=local_time(revision.saved_at)))
    except domain.IssueError as exc:
        s.rollback()
        flash(exc.message)
    return redirect(url_for("issues_admin.edit", issue_id=issue_id))
