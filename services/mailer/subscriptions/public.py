"""What readers see: subscribe, confirm, stop. Every page reached by a token is safe to open
(GET changes nothing); the changes are POSTs."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for

from services.mailer.subscriptions import domain
from services.mailer.subscriptions.domain import LinkState
from services.mailer.subscriptions.forms import ListsSubscribeForm, StopRequestForm, SubscribeForm
from shared.models import SubscriptionStatus
from shared.web import csrf, db_session, page_language, services

bp = Blueprint("subscriptions", __name__)


def _list_or_404(slug: str | None):
    newsletter_list = domain.find_list(db_session(), slug)
    if newsletter_list is None or not newsletter_list.public or newsletter_list.archived_at is not None:
        abort(404)
    return newsletter_list


def index():
    """The start page: the default list's subscribe form, or every public list with checkboxes."""
    lists = domain.public_lists(db_session())
    if len(lists) > 1:
        return subscribe_lists(lists)
    if not lists:
        abort(404)
    return subscribe(lists[0].slug)


def subscribe_lists(lists):
    """Several lists on one page, one confirmation mail for the ones ticked."""
    form = ListsSubscribeForm()
    form.lists.choices = [(lst.slug, lst.name) for lst in lists]
    if form.validate_on_submit() and form.address is not None:
        s, svc = db_session(), services()
        chosen = [lst for lst in lists if lst.slug in (form.lists.data or [])]
        outcome = domain.request_subscriptions(
            s,
            svc.config,
            svc.tokens,
            chosen,
            form.address,
            form.name.data or "",
            ip=request.remote_addr,
            source_url=request.referrer or request.url,
            language=page_language(),
        )
        s.commit()
        domain.log.info("subscribe request on %s: %s", ",".join(lst.slug for lst in chosen), outcome)
        return redirect(url_for("subscriptions.check_inbox"), code=303)
    consents = {domain.consent_text(lst) for lst in lists}
    return render_template(
        "mailer/subscriptions/lists.html", form=form, lists=lists, consents=sorted(consents)
    ), 400 if form.errors else 200


@bp.route("/subscribe", methods=["GET", "POST"])
@bp.route("/subscribe/<slug>", methods=["GET", "POST"])
def subscribe(slug: str | None = None):
    newsletter_list = _list_or_404(slug)
    form = SubscribeForm()
    if form.validate_on_submit() and form.address is not None:  # a valid form has its address
        s, svc = db_session(), services()
        outcome = domain.request_subscription(
            s,
            svc.config,
            svc.tokens,
            newsletter_list,
            form.address,
            form.name.data or "",
            ip=request.remote_addr,
            source_url=request.referrer or request.url,
            language=page_language(),
        )
        s.commit()
        # The same redirect and page for every outcome: nobody learns who subscribes.
        domain.log.info("subscribe request on %s: %s", newsletter_list.slug, outcome)
        return redirect(url_for("subscriptions.check_inbox"), code=303)
    status = 400 if form.errors else 200
    text, version = domain.consent_text(newsletter_list)
    return render_template(
        "mailer/subscriptions/subscribe.html",
        form=form,
        newsletter_list=newsletter_list,
        consent_text=text,
        consent_version=version,
    ), status


@bp.get("/check-inbox")
def check_inbox():
    return render_template("mailer/subscriptions/check_inbox.html", stopping=False)


@bp.get("/check-inbox/stop")
def check_inbox_stop():
    return render_template("mailer/subscriptions/check_inbox.html", stopping=True)


def _link_problem(state: LinkState, subscription=None, *, stopping: bool = False):
    """The friendly page for a link that is expired, used or not genuine (400/410, never 500)."""
    newsletter_list = subscription.newsletter_list if subscription is not None else domain.find_list(db_session())
    form = SubscribeForm(formdata=None)
    code = 400 if state == LinkState.INVALID else 410
    return render_template(
        "mailer/subscriptions/link_problem.html",
        state=state,
        LinkState=LinkState,
        form=form,
        stopping=stopping,
        newsletter_list=newsletter_list,
    ), code


@bp.route("/confirm/<token>", methods=["GET", "POST"])
def confirm(token: str):
    s, svc = db_session(), services()
    if request.method == "POST":
        check = domain.confirm_subscription(s, svc.config, svc.tokens, token, ip=request.remote_addr)
        s.commit()
        if check.state == LinkState.OK:
            return render_template(
                "mailer/subscriptions/confirmed.html",
                subscription=check.subscription,
                list_names=[sub.newsletter_list.name for sub in check.subscriptions],
            )
    else:
        check = domain.check_confirm_link(s, svc.config, svc.tokens, token)
        if check.state == LinkState.OK:
            return render_template(
                "mailer/subscriptions/confirm.html",
                subscription=check.subscription,
                list_names=[sub.newsletter_list.name for sub in check.subscriptions],
            )
    return _link_problem(check.state, check.subscription)


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # only the RFC 8058 one-click POST goes without a CSRF token; see below
def unsubscribe(token: str):
    s, svc = db_session(), services()
    if request.method == "POST":
        one_click = request.form.get("List-Unsubscribe") == "One-Click"
        if not one_click and current_app.config.get("WTF_CSRF_ENABLED", True):
            csrf.protect()
        check = domain.unsubscribe(
            s, svc.tokens, token, ip=request.remote_addr, method="one-click" if one_click else "page"
        )
        s.commit()
        if one_click:
            # Mail clients want a status, not a page; the signed token is the authorisation.
            return ("", 200) if check.state in (LinkState.OK, LinkState.USED) else ("", 400)
        if check.state == LinkState.OK:
            return render_template("mailer/subscriptions/stopped.html", subscription=check.subscription)
    else:
        check = domain.check_stop_link(s, svc.tokens, token)
        if check.state == LinkState.OK and check.subscription is not None:  # OK always comes with it
            stopped = check.subscription.status == SubscriptionStatus.UNSUBSCRIBED
            template = "stopped.html" if stopped else "stop.html"
            return render_template(f"mailer/subscriptions/{template}", subscription=check.subscription)
    return _link_problem(check.state, check.subscription, stopping=True)


@bp.route("/unsubscribe", methods=["GET", "POST"])
def stop_request():
    form = StopRequestForm()
    if form.validate_on_submit() and form.address is not None:  # a valid form has its address
        s, svc = db_session(), services()
        outcome = domain.request_stop_link(s, svc.config, svc.tokens, form.address, ip=request.remote_addr)
        s.commit()
        domain.log.info("stop link request: %s", outcome)
        return redirect(url_for("subscriptions.check_inbox_stop"), code=303)
    return render_template("mailer/subscriptions/stop_request.html", form=form), 400 if form.errors else 200
