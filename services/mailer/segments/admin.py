"""What editors see of segments: saved filters with a live count."""

from __future__ import annotations

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _

from services.mailer.segments import domain
from services.mailer.subscriptions import people
from services.mailer.subscriptions.domain import all_lists
from shared.models import Segment
from shared.web import db_session, get_or_404
from shared.web.auth import login_required

bp = Blueprint("segments_admin", __name__, url_prefix="/admin/segments")

EMPTY_ROWS = 2  # blank condition rows offered below the ones in use (more after saving)


def _conditions_from_form() -> list[dict[str, str]]:
    rows = []
    for n in range(1, domain.MAX_CONDITIONS + 1):
        kind = request.values.get(f"field-{n}", "")
        if not kind:
            continue
        key = request.values.get(f"key-{n}", "").strip()
        rows.append(
            {
                "field": f"attribute:{key}" if kind == "attribute" else kind,
                "op": request.values.get(f"op-{n}", ""),
                "value": request.values.get(f"value-{n}", ""),
            }
        )
    return rows


def _list_ids_from_form() -> list[int]:
    return [int(v) for v in request.values.getlist("lists") if v.isdigit()]


def _rows(conditions: list[dict[str, str]]) -> list[dict[str, str]]:
    """Condition rows for the form: the ones given, then blanks."""
    rows = []
    for c in conditions:
        kind, _sep, key = c["field"].partition(":")
        rows.append({"field": kind, "key": key, "op": c["op"], "value": c["value"]})
    free = max(EMPTY_ROWS, 0)
    rows += [{"field": "", "key": "", "op": "", "value": ""}] * min(free, domain.MAX_CONDITIONS - len(rows))
    return rows


def _page(segment: Segment | None, name: str, list_ids: list[int], conditions, *, errors=None, count=None, status=200):
    s = db_session()
    return render_template(
        "mailer/segments/form.html",
        segment=segment,
        name=name,
        list_ids=list_ids,
        rows=_rows(conditions),
        lists=all_lists(s),
        operators=domain.OPERATORS,
        field_labels=domain.FIELD_LABELS,
        attribute_keys=people.attribute_keys(s),
        errors=errors or [],
        count=count,
    ), status


@bp.get("/")
@login_required
def index():
    s = db_session()
    found = domain.all_segments(s)
    counts = {seg.id: domain.count(s, seg.list_ids, seg.conditions) for seg in found}
    return render_template("mailer/segments/index.html", segments=found, counts=counts)


def _save(segment: Segment | None):
    s = db_session()
    name, list_ids, conditions = request.form.get("name", ""), _list_ids_from_form(), _conditions_from_form()
    try:
        cleaned = domain.check_conditions(conditions)
        if request.form.get("action") == "count":
            return _page(segment, name, list_ids, cleaned, count=domain.count(s, list_ids, cleaned))
        saved = domain.save_segment(s, name=name, list_ids=list_ids, conditions=conditions, current=segment)
        s.commit()
        flash(_("Segmentet %(name)s är sparat.", name=saved.name))
        return redirect(url_for("segments_admin.edit", segment_id=saved.id))
    except domain.SegmentError as exc:
        s.rollback()
        errors = [(exc.field or "name", _("Segmentet"), exc.message)]
        return _page(segment, name, list_ids, conditions, errors=errors, status=400)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    if request.method == "POST":
        return _save(None)
    return _page(None, "", [], [])


@bp.route("/<int:segment_id>", methods=["GET", "POST"])
@login_required
def edit(segment_id: int):
    segment = get_or_404(Segment, segment_id)
    if request.method == "POST":
        return _save(segment)
    s = db_session()
    count = domain.count(s, segment.list_ids, segment.conditions)
    return _page(segment, segment.name, segment.list_ids, segment.conditions, count=count)


@bp.get("/count.json")
@login_required
def count_json():
    """The live count while the editor changes the form (JavaScript); the page works without it."""
    try:
        conditions = domain.check_conditions(_conditions_from_form())
    except domain.SegmentError as exc:
        return jsonify({"count": None, "error": exc.message})
    return jsonify({"count": domain.count(db_session(), _list_ids_from_form(), conditions)})
