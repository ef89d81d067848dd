"""The editors' suppression list, and the webhook a mail relay posts bounces to."""
from __future__ import annotations

import hmac
import logging

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from services.mailer.bounces import domain
from shared.web import csrf, db_session, services
from shared.web.auth import login_required

log = logging.getLogger(__name__)
admin_bp = Blueprint("suppressions_admin", __name__, url_prefix="/admin/suppressions")
webhook_bp = Blueprint("bounce_webhook", __name__)

REASON_LABELS = {
    "hard_bounce": _l("Adressen finns inte (hård studs)"),
    "soft_bounces": _l("Upprepade tillfälliga studsar"),
    "erasure": _l("Raderad på begäran (GDPR)"),
    "complaint": _l("Anmält som skräppost"),
    "manual": _l("Spärrad av redaktör"),
}
PAGE_SIZE = 100


@admin_bp.get("/")
@login_required
def index():
    query = request.args.get("q", "")[:200]
    try:
        page = max(1, int(request.args.get("page", "1")))
    except ValueError:
        page = 1
    rows, total = domain.list_suppressions(db_session(), query, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    return render_template("mailer/suppressions/index.html", rows=rows, total=total, query=query, page=page,
                           pages=max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE),
                           reason_labels=REASON_LABELS)


@admin_bp.post("/<int:suppression_id>/lift")
@login_required
def lift(suppression_id: int):
    s = db_session()
    address = domain.lift_suppression(s, suppression_id)
    s.commit()
    if address:
        flash(_("%(address)s får e-post igen.", address=address))
    return redirect(url_for("suppressions_admin.index"))


def _authorised() -> bool:
    secret = services().config.bounce_webhook_secret
    if not secret:
        return False
    given = request.headers.get("Authorization", "")
    token = given[7:] if given.lower().startswith("bearer ") else request.headers.get("X-Webhook-Secret", "")
    return hmac.compare_digest(token.encode(), secret.encode())


@webhook_bp.post("/webhooks/bounces")
@csrf.exempt
def bounce_webhook():
    """A DSN (message/rfc822 or the raw message) or JSON ``{"email", "type": "hard"|"soft", "status", "detail"}``
    (or a list of those). Needs ``Authorization: Bearer $BOUNCE_WEBHOOK_SECRET``."""
    if not services().config.bounce_webhook_secret:
        abort(404)
    if not _authorised():
        return jsonify({"error": "unauthorised"}), 401
    s = db_session()
    recorded = []
    if request.is_json:
        payload = request.get_json(silent=True)
        items = payload if isinstance(payload, list) else [payload]
        for item in items:
            if not isinstance(item, dict) or not isinstance(item.get("email"), str) or "@" not in item["email"]:
                return jsonify({"error": "each item needs an email"}), 400
            kind = item.get("type", "hard")
            if kind not in ("hard", "soft"):
                return jsonify({"error": "type must be hard or soft"}), 400
            domain.record_bounce(s, item["email"], kind, source="webhook", status_code=str(item.get("status", ""))[:16],
                                 detail=str(item.get("detail", ""))[:2000])
            recorded.append({"email": item["email"].lower(), "type": kind})
    else:
        for report in domain.process_dsn(s, request.get_data(cache=False)[:5_000_000], source="webhook"):
            recorded.append({"email": report.email.lower(), "type": report.kind})
    s.commit()
    return jsonify({"recorded": recorded})
