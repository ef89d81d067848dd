"""Reading and checking one page of the answer form.

Form values travel as ``dict[str, list[str]]`` (what ``request.form.to_dict(flat=False)`` gives),
keyed by the form contract: question key, ``KEY.ROWKEY`` for matrix rows, ``KEY.other`` for the
other-text, ``dont_know`` for "don't know".
"""

from __future__ import annotations

import re
from datetime import date

from flask_babel import gettext as _

from services.survey.surveys.questions import (
    CHOICE_TYPES,
    DONT_KNOW,
    OTHER,
    POINT_TYPES,
    SINGLE_TYPES,
    Question,
    QuestionType,
    format_value,
)

Values = dict[str, list[str]]
MAX_TEXT = 10_000


def first(values: Values, name: str) -> str:
    items = values.get(name) or [""]
    return (items[0] or "").strip()


def is_visible(question: Question, values: Values) -> bool:
    """``show_if`` on the answers given so far (a hidden question is neither required nor stored)."""
    rule = question.show_if
    if rule is None:
        return True
    given = {format_value(v).strip() for v in values.get(rule.question, []) if v}
    return bool(given & set(rule.values))


def page_fields(question: Question) -> list[str]:
    """The form names one question owns."""
    key = question.key
    if question.type == QuestionType.MATRIX:
        return [f"{key}.{row.key}" for row in question.rows]
    if question.type == QuestionType.RANKING:
        return [f"{key}.{option.key}" for option in question.options]
    if question.type in CHOICE_TYPES and question.other:
        return [key, f"{key}.{OTHER}"]
    return [key]


def pick(questions: tuple[Question, ...], form) -> Values:
    """Only this page's inputs from a submitted form (anything else is ignored)."""
    getlist = form.getlist if hasattr(form, "getlist") else (lambda n: list(form.get(n, [])))
    picked: Values = {}
    for question in questions:
        for name in page_fields(question):
            items = [v for v in getlist(name) if isinstance(v, str)]
            if items:
                picked[name] = items
    return picked


def parse_number(text: str) -> float | None:
    try:
        number = float(text.replace(",", ".").replace("\u2212", "-").replace(" ", ""))
    except ValueError:
        return None
    return number if number == number and abs(number) != float("inf") else None


def check_question(question: Question, values: Values, require: bool) -> str | None:
    """The error message for one question, or None when its answer may be stored."""
    key, kind = question.key, question.type
    if kind == QuestionType.INFO:  # a text to read, nothing to answer
        return None
    allowed = question.allowed_values() or set()  # None only for the kinds below that do not look at it
    missing = require and question.required
    if kind in SINGLE_TYPES:
        value = first(values, key)
        if not value:
            return _("Välj ett av alternativen.") if missing else None
        if value not in allowed:
            return _("Välj ett av alternativen i listan.")
        if value == OTHER and not first(values, f"{key}.{OTHER}"):
            return _("Skriv vad du menar med ”Annat”.")
        if len(first(values, f"{key}.{OTHER}")) > 500:
            return _("Texten för ”Annat” får vara högst 500 tecken.")
    elif kind == QuestionType.MULTIPLE:
        chosen = [v for v in values.get(key, []) if v]
        if not chosen:
            return _("Välj minst ett alternativ.") if missing else None
        if any(v not in allowed for v in chosen):
            return _("Välj bland alternativen i listan.")
        if OTHER in chosen and not first(values, f"{key}.{OTHER}"):
            return _("Skriv vad du menar med ”Annat”.")
    elif kind in POINT_TYPES:
        value = first(values, key)
        if not value:
            return _("Välj ett värde.") if missing else None
        if value not in allowed:
            scale = question.required_scale
            return _("Välj ett av värdena %(low)s–%(high)s.", low=scale.min, high=scale.max)
    elif kind == QuestionType.MATRIX:
        options = {str(v) for v in question.required_scale.points} | ({DONT_KNOW} if question.dont_know else set())
        unanswered = []
        for row in question.rows:
            value = first(values, f"{key}.{row.key}")
            if not value:
                unanswered.append(row.label)
            elif value not in options:
                return _("Välj ett av värdena för ”%(row)s”.", row=row.label)
        if missing and unanswered:
            return _("Svara på alla påståenden. Saknas: %(rows)s.", rows="; ".join(unanswered))
    elif kind == QuestionType.DATE:
        return _check_date(question, first(values, key), missing)
    elif kind == QuestionType.RANKING:
        return _check_ranking(question, values, missing)
    elif kind == QuestionType.NUMBER:
        text = first(values, key)
        if not text:
            return _("Fyll i ett tal.") if missing else None
        number = parse_number(text)
        low, high = question.min, question.max
        if number is None:
            return _("Fyll i ett tal, till exempel 3.")
        if (low is not None and number < low) or (high is not None and number > high):
            if low is not None and high is not None:
                return _("Fyll i ett tal mellan %(low)s och %(high)s.", low=format_value(low), high=format_value(high))
            if low is not None:
                return _("Fyll i ett tal som är minst %(low)s.", low=format_value(low))
            return _("Fyll i ett tal som är högst %(high)s.", high=format_value(high))
    else:
        text = first(values, key)
        limit = question.max_length or MAX_TEXT
        if not text:
            return _("Fyll i ett svar.") if missing else None
        if len(text) > limit:
            return _("Svaret får vara högst %(n)s tecken (nu %(m)s).", n=limit, m=len(text))
    return None


def parse_day(text: str) -> date | None:
    """A date as a date field sends it (ÅÅÅÅ-MM-DD), or None."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _check_date(question: Question, text: str, missing: bool) -> str | None:
    if not text:
        return _("Fyll i ett datum.") if missing else None
    day = parse_day(text)
    if day is None:
        return _("Skriv datumet som ÅÅÅÅ-MM-DD, till exempel 2026-03-31.")
    low, high = question.earliest, question.latest
    if (low and day < low) or (high and day > high):
        if low and high:
            return _("Välj ett datum från %(low)s till %(high)s.", low=low.isoformat(), high=high.isoformat())
        if low:
            return _("Välj ett datum från %(low)s eller senare.", low=low.isoformat())
        return _("Välj ett datum till och med %(high)s.", high=str(high))
    return None


def _check_ranking(question: Question, values: Values, missing: bool) -> str | None:
    """Every option a place of its own (1 = first), or none at all when the question may be skipped."""
    places = [first(values, f"{question.key}.{option.key}") for option in question.options]
    given = [place for place in places if place]
    if not given:
        return _("Rangordna alternativen.") if missing else None
    allowed = {str(n) for n in range(1, len(places) + 1)}
    if any(place not in allowed for place in given):
        return _("Välj en plats mellan 1 och %(n)s.", n=len(places))
    if len(given) < len(places):
        return _("Ge varje alternativ en plats.")
    if len(set(given)) < len(given):
        return _("Varje plats får bara användas en gång.")
    return None


def check_questions(questions: tuple[Question, ...], values: Values, require: bool) -> dict[str, str]:
    """Errors by question key for the visible questions among ``questions``."""
    errors = {}
    for question in questions:
        if is_visible(question, values):
            message = check_question(question, values, require)
            if message:
                errors[question.key] = message
    return errors
