"""What readers see: subscribe, confirm, stop."""
from flask import Blueprint, redirect, url_for

bp = Blueprint("public", __name__)


@bp.get("/")
def index():
    return redirect(url_for("public.subscribe"))


@bp.get("/subscribe")
def subscribe():
    return "subscribe"
