"""The webhook a mail relay posts bounces to (not for people: it answers JSON)."""

from __future__ import annotations

import hmac

from flask import Blueprint, abort, jsonify, request

from services.mailer.bounces import domain
from shared.models import BounceKind, BounceSource
from shared.web import csrf, db_session, services
from shared.web.limits import body_limit

bp = Blueprint("bounce_webhook", __name__)
DSN_LIMIT = 5_000_000  # a bounce report quotes the original mail, which may carry attachments


def _authorised() -> bool:
    secret = services().config.bounce_webhook_secret
    if not secret:
        return False
    given = request.headers.get("Authorization", "")
    token = given[7:] if given.lower().startswith("bearer ") else request.headers.get("X-Webhook-Secret", "")
    return hmac.compare_digest(token.encode(), secret.encode())


@bp.post("/webhooks/bounces")
@csrf.exempt
@body_limit(DSN_LIMIT)
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
            try:
                kind = BounceKind(item.get("type", BounceKind.HARD))
            except (ValueError, TypeError):
                return jsonify({"error": "type must be hard or soft"}), 400
            domain.record_bounce(
                s,
                item["email"],
                kind,
                source=BounceSource.WEBHOOK,
                status_code=str(item.get("status", ""))[:16],
                detail=str(item.get("detail", ""))[:2000],
            )
            recorded.append({"email": item["email"].lower(), "type": kind})
    else:
        for report in domain.process_dsn(s, request.get_data(cache=False), source=BounceSource.WEBHOOK):
            recorded.append({"email": report.email.lower(), "type": report.kind})
    s.commit()
    return jsonify({"recorded": recorded})
