"""What respondents see first: a start page telling them to use the personal link in their mail."""

from flask import Blueprint, render_template

bp = Blueprint("public", __name__)


@bp.get("/")
def index():
    return render_template("survey/index.html")
