"""What respondents see: the personal link (one page of questions at a time), saving and submitting.
The form contract is described in ``services.survey.responses.forms``."""

import hmac
from functools import lru_cache, wraps

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from markdown_it import MarkdownIt
from markupsafe import Markup

from services.survey.mailings.rendering import closing_text
from services.survey.responses.flow import Outcome, find_participant, next_visible_page, open_link, save_page
from services.survey.responses.forms import Values, is_visible, page_fields
from services.survey.surveys.questions import (
    CHOICE_TYPES,
    DONT_KNOW,
    OTHER,
    POINT_TYPES,
    Question,
    QuestionType,
    ShowIf,
    SurveyDefinition,
    definition_of,
)
from shared.web import csrf, db_session, page_language
from shared.web.limits import body_limit

bp = Blueprint("responses", __name__)
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False})
ACTIONS = ("back", "next", "save", "submit")
QUESTIONS_TEMPLATE = "survey/responses/_questions.html"
# A page of long free-text answers (10 000 characters each unless the survey says otherwise) fits easily.
ANSWER_BODY_LIMIT = 2 * 1024 * 1024


@lru_cache(maxsize=256)
def markdown(text: str) -> Markup:
    """Markdown from the survey definition; raw HTML is not allowed through. Kept per text: the
    same intro is shown on every respondent's first page, and rendering it cost more than the page."""
    # Safe: with html=False markdown-it escapes raw HTML and refuses javascript:, vbscript:, file: and data: links
    # (data: images of common formats excepted).
    return Markup(_markdown.render(text or ""))  # noqa: S704


def form_token(token: str, key: str | None = None) -> str:
    """The answer form's CSRF token: a MAC of the personal link under the secret key. A forged post
    would need the link itself, so this protects as much as a token kept in a session, without the
    session cookie every respondent's request would otherwise sign, compress and send."""
    secret = (key or current_app.config["SECRET_KEY"]).encode()
    return hmac.new(secret, b"utskick.answer-form:" + token.encode("utf-8", "surrogatepass"), "sha256").hexdigest()


def check_form_token(token: str) -> None:
    """Refuse a post without the form token of this link (the 400 page of any other CSRF failure);
    a token made under an older secret key is still good while that key is among the fallbacks."""
    if not current_app.config["WTF_CSRF_ENABLED"]:
        return
    sent = request.form.get("csrf_token", "")
    keys = [current_app.config["SECRET_KEY"], *current_app.config["SECRET_KEY_FALLBACKS"]]
    if not any(hmac.compare_digest(sent, form_token(token, key)) for key in keys):
        raise CSRFError("the form token does not match the link")  # the 400 page says what to do


def reading_session():
    """The request's session for a page that only reads: without a transaction, two round trips
    fewer (no BEGIN, no ROLLBACK). A page view's two reads may then see a save made between them;
    the next post decides, under the participant's lock, as always."""
    session = db_session()
    session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    return session


def personal_link(view):
    """Look the link up (404 that reveals nothing when unknown) and answer in the survey's language:
    the page's ``lang`` must match the questions for screen readers."""

    @wraps(view)
    def wrapped(token: str):
        participant = find_participant(reading_session() if request.method == "GET" else db_session(), token)
        if participant is None:
            abort(404)
        with force_locale(participant.survey.language):
            return view(participant, token)

    return wrapped


def first_input_id(question: Question) -> str:
    """Where the error summary's link for a question lands: its first input."""
    key = question.key
    if question.type == QuestionType.MATRIX:
        return f"q-{key}-{question.rows[0].key}-0"
    if question.type == QuestionType.DROPDOWN:
        return f"q-{key}"
    if question.type == QuestionType.RANKING:
        return f"q-{key}-{question.options[0].key}"
    if question.type in CHOICE_TYPES or question.type in POINT_TYPES:
        return f"q-{key}-0"
    return f"q-{key}"


def condition_words(definition: SurveyDefinition, rule: ShowIf) -> tuple[str, list[str]]:
    """A follow-up question's condition in the respondent's words: the earlier question's text and
    the answers that show it (option labels, not their keys)."""
    target = definition.question(rule.question)
    if target is None:  # the definition's checks refuse a condition on a question that is not there
        raise ValueError(f"show_if names no question: {rule.question!r}")
    words = {OTHER: _("Annat"), DONT_KNOW: _("Vet inte"), **{o.key: o.label for o in target.options}}
    return target.text, [words.get(value, value) for value in rule.values]


def questions_html(
    definition: SurveyDefinition, questions: list[Question], values: Values, errors: dict[str, str], keys_here: set[str]
) -> list[Markup]:
    """Each question's HTML. An unanswered question without an error is the same for every
    respondent: it is rendered once per reading of the definition and language, then reused (most
    page views show only such questions, and rendering them was the largest part of a page's work)."""
    macro = current_app.jinja_env.get_template(QUESTIONS_TEMPLATE).module.question  # type: ignore[attr-defined]
    kept = definition.blank_questions
    language = page_language()
    rendered = []
    for q in questions:
        blank = q.key not in errors and not any(values.get(name) for name in page_fields(q))
        html = kept.get((language, q.key)) if blank else None
        if html is None:
            conditions = {q.key: condition_words(definition, q.show_if)} if q.show_if else {}
            html = Markup(macro(q, values, errors, conditions, keys_here))  # noqa: S704  # the template escapes
            if blank:
                kept[(language, q.key)] = html
        rendered.append(html)
    return rendered


def page_context(survey, page: int, values, errors, preview: bool = False) -> dict:
    """Everything the respondent's page template needs (shared with the admin preview)."""
    definition = definition_of(survey)
    pages = definition.pages
    questions = pages[page].questions
    keys_here = {q.key for q in questions}
    shown = [
        q
        for q in questions
        # A condition on this page's own answers is decided when the page is sent (or live with JS).
        if is_visible(q, values) or (q.show_if and q.show_if.question in keys_here)
    ]
    summary = [(first_input_id(q), q.text, errors[q.key]) for q in shown if q.key in errors]
    last = page == len(pages) - 1 or next_visible_page(definition, values, page, 1) == page
    return {
        "survey": survey,
        "page": page,
        "page_count": len(pages),
        "page_title": pages[page].title,
        "questions_html": questions_html(definition, shown, values, errors, keys_here),
        "errors": errors,
        "summary": summary,
        "last": last,
        "intro": markdown(definition.intro) if page == 0 else None,
        "preview": preview,
    }


def message(kind: str, participant=None, status: int = 200, token: str = ""):
    """The page for an ``Outcome`` other than ``PAGE``, or for ``thanks`` and ``declined``."""
    survey = participant.survey if participant else None
    thanks = markdown(definition_of(survey).thanks) if survey and kind == "thanks" else None
    opens = closing_text(survey, "opens") if survey and kind == Outcome.NOT_OPEN else ""
    return render_template(
        "survey/responses/message.html",
        kind=kind,
        survey=survey,
        participant=participant,
        thanks=thanks,
        opens=opens,
        token=token,
    ), status


@bp.get("/s/<token>")
def answer(token: str):
    # personal_link's work, with where the response in progress stands read in the same query.
    found = open_link(reading_session(), token)
    if found is None:
        abort(404)
    participant, view = found
    with force_locale(participant.survey.language):
        if view.outcome != Outcome.PAGE:
            return message(view.outcome, participant)
        context = page_context(participant.survey, view.page, view.values, {})
        return render_template("survey/responses/page.html", token=token, form_token=form_token(token), **context)


@bp.post("/s/<token>")
@body_limit(ANSWER_BODY_LIMIT)
@personal_link
def answer_post(participant, token: str):
    check_form_token(token)
    action = request.form.get("action", "next")
    action = action if action in ACTIONS else "next"
    try:
        page = int(request.form.get("page", "0"))
    except ValueError:
        page = 0
    view = save_page(db_session(), participant.id, page, request.form, action)
    if view.outcome == Outcome.SUBMITTED:
        return redirect(url_for("responses.thanks", token=token), code=303)
    if view.outcome != Outcome.PAGE:
        return message(view.outcome, participant, token=token)
    if view.errors:
        context = page_context(participant.survey, view.page, view.values, view.errors)
        return render_template("survey/responses/page.html", token=token, form_token=form_token(token), **context), 422
    return redirect(url_for("responses.answer", token=token), code=303)


# answer_post checks the link's own form token instead of one kept in the session.
csrf.exempt(answer_post)


@bp.get("/s/<token>/tack")
@personal_link
def thanks(participant, token: str):
    if participant.completed_at is None:
        return redirect(url_for("responses.answer", token=token))
    return message("thanks", participant)
