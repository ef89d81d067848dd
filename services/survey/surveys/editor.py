"""The survey builder: a survey's pages and questions edited in one plain HTML form.

Every field's name is its dotted path in the definition (``pages.0.questions.1.options.2.label``);
each button sends the whole form with an ``op`` (``add_question:0``, ``option_up:0:1:2``…), so typed
changes are kept whatever the button. The form is applied to the stored definition, then the
operation, then the definition is checked (``definitions.normalise``) and saved as a new version.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from services.survey.surveys.definitions import TYPE_KEYS, DefinitionError, normalise, slugify
from services.survey.surveys.domain import has_responses, save_definition
from services.survey.surveys.questions import (
    CHOICE_TYPES,
    DONT_KNOW,
    OTHER,
    POINT_TYPES,
    Question,
    QuestionType,
    SurveyDefinition,
)
from shared.models import Survey

# What the type picker says about each type, in the evaluator's words.
TYPE_DESCRIPTIONS = {
    QuestionType.SINGLE: _l("Välj ett av flera svarsalternativ (runda knappar)."),
    QuestionType.MULTIPLE: _l("Välj alla svarsalternativ som passar (kryssrutor)."),
    QuestionType.SCALE: _l("Ett värde på en skala, till exempel 1–5, med ord vid ändarna."),
    QuestionType.MATRIX: _l("Flera påståenden som bedöms på samma skala."),
    QuestionType.NUMBER: _l("Ett tal, om du vill mellan ett lägsta och ett högsta värde."),
    QuestionType.NPS: _l("Hur troligt är det att du skulle rekommendera …? 0–10."),
    QuestionType.TEXT: _l("Ett kort svar med egna ord, på en rad."),
    QuestionType.LONGTEXT: _l("Ett längre svar med egna ord."),
    QuestionType.DROPDOWN: _l("Välj ett svarsalternativ i en rullgardinslista, bra för långa listor som kommunerna."),
    QuestionType.INFO: _l("En text mellan frågorna, utan svar."),
    QuestionType.DATE: _l("Ett datum, om du vill mellan en första och en sista dag."),
    QuestionType.RANKING: _l("Sätt alternativen i ordning, från det viktigaste."),
}
# Types whose answers a condition (show_if) can test, one menu entry per possible answer.
CONDITION_TYPES = (*CHOICE_TYPES, *POINT_TYPES)
PREVIEW = "preview"  # the builder's "Förhandsgranska" button: show the form's survey beside it, save nothing
KEY_LENGTH = 40  # generated keys: long enough to recognise the text, short enough for a spreadsheet column
NUMBER_FIELDS = ("min", "max", "max_length")  # but a date question's min and max are dates
FLAGS = ("required", "other", "dont_know")


def key_from(text: str, taken: set[str]) -> str:
    """A key made from a text, unique among ``taken``: ``"Hur nöjd är du?"`` → ``hur_nojd_ar_du``."""
    base = slugify(text)
    if len(base) > KEY_LENGTH:
        base = base[:KEY_LENGTH].rsplit("_", 1)[0] or base[:KEY_LENGTH]
    key, n = base, 2
    while key in taken:
        key, n = f"{base}_{n}", n + 1
    return key


def _made_from(key: str, text: str) -> bool:
    """Whether ``key`` is what ``key_from`` made of ``text`` (so it may follow a changed text)."""
    base = key_from(text, set())
    return key == base or re.fullmatch(re.escape(base) + r"_\d+", key) is not None


def condition_choices(question: Question) -> list[tuple[str, str]]:
    """The answers a condition on ``question`` can name, as (value, label) for the menu."""
    if question.type in CHOICE_TYPES:
        out = [(o.key, o.label) for o in question.options]
        return out + ([(OTHER, _("Annat"))] if question.other else [])
    scale = question.required_scale
    out = []
    for point in scale.points:
        words = scale.min_label if point == scale.min else scale.max_label if point == scale.max else ""
        out.append((str(point), f"{point} ({words})" if words else str(point)))
    return out + ([(DONT_KNOW, _("Vet inte"))] if question.dont_know else [])


def condition_value(question: str, values: tuple[str, ...] | list[str]) -> str:
    """A condition as the menu sends it: ``delaktighet=hog|mycket_hog``."""
    return f"{question}={'|'.join(values)}"


def form_values(definition: SurveyDefinition) -> dict[str, str]:
    """Every field of the builder's form with its stored value (check boxes apart: ``FLAGS``)."""
    out = {"title": definition.title, "intro": definition.intro, "thanks": definition.thanks}
    for p, page in enumerate(definition.pages):
        out[f"pages.{p}.title"] = page.title
        for i, q in enumerate(page.questions):
            base = f"pages.{p}.questions.{i}"
            out |= {f"{base}.key": q.key, f"{base}.type": q.type.value, f"{base}.text": q.text, f"{base}.help": q.help}
            out[f"{base}.show_if"] = condition_value(q.show_if.question, q.show_if.values) if q.show_if else ""
            if q.type in POINT_TYPES or q.type == QuestionType.MATRIX:
                at = f"{base}.scale" if q.type == QuestionType.MATRIX else base
                scale = q.required_scale
                out |= {f"{at}.min": str(scale.min), f"{at}.max": str(scale.max)}
                out |= {f"{at}.min_label": scale.min_label, f"{at}.max_label": scale.max_label}
            if q.type == QuestionType.NUMBER:
                out |= {f"{base}.min": _number_text(q.min), f"{base}.max": _number_text(q.max)}
            if q.type == QuestionType.DATE:
                out |= {
                    f"{base}.{name}": day.isoformat() if day else ""
                    for name, day in (("min", q.earliest), ("max", q.latest))
                }
            if q.max_length is not None:
                out[f"{base}.max_length"] = str(q.max_length)
            for kind, items in (("options", q.options), ("rows", q.rows)):
                for n, item in enumerate(items):
                    out |= {f"{base}.{kind}.{n}.label": item.label, f"{base}.{kind}.{n}.key": item.key}
    return out


def _number_text(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else str(value)


def _number(text: str) -> int | float | str | None:
    """A number field as typed: empty is None, a number a number, anything else stays text so the
    check says "måste vara ett tal" next to the field."""
    text = text.strip().replace(",", ".")
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        return text
    return int(value) if value.is_integer() else value


def _at(definition: dict, parts: list[str]):
    target = definition
    for part in parts:
        target = target[int(part)] if isinstance(target, list) else target.setdefault(part, {})
    return target


def apply_form(definition: dict, form, keys_frozen: bool) -> dict:
    """The stored definition with the form's values; keys made from texts follow changed texts
    unless ``keys_frozen`` (stored answers are filed under the keys)."""
    definition = copy.deepcopy(definition)
    stored = form_values(SurveyDefinition.from_dict(definition))
    renamed: dict[str, str] = {}  # question key → new key, for the conditions that name it
    for name in stored:
        if name not in form or name.endswith(".type"):
            continue
        parts = name.split(".")
        target, field = _at(definition, parts[:-1]), parts[-1]
        value = form[name].replace("\r\n", "\n")
        if field in NUMBER_FIELDS and target.get("type") != QuestionType.DATE:
            number = _number(value)
            if number is None:
                target.pop(field, None)
            else:
                target[field] = number
        elif field == "help" and not value.strip():
            target.pop("help", None)
        elif field == "show_if":
            question, _sep, values = value.partition("=")
            if question:
                target["show_if"] = {"question": question, "in": values.split("|")}
            else:
                target.pop("show_if", None)
        elif field == "key":
            target["key"] = value.strip()
        else:
            target[field] = value
    # A new type last, so what was typed in the same send (texts, option labels, scale words) goes
    # along to it; what the new type has no place for (a number's bounds, a choice's options) goes.
    for name, old in stored.items():
        if name.endswith(".type") and form.get(name, old) != old and form[name] in TYPE_KEYS:
            _convert(_at(definition, name.removesuffix(".type").split(".")), QuestionType(form[name]))
    # Keys follow their text while they are still the made-up ones and nobody has answered.
    taken = {q["key"] for page in definition["pages"] for q in page["questions"]}
    for p, page in enumerate(definition["pages"]):
        for i, q in enumerate(page["questions"]):
            base = f"pages.{p}.questions.{i}"
            if f"{base}.text" not in form:
                continue
            for flag in FLAGS:
                if flag == "required" or flag in TYPE_KEYS[q["type"]]:
                    q[flag] = form.get(f"{base}.{flag}") == "on"
            if keys_frozen:
                continue
            old_key, old_text = stored[f"{base}.key"], stored[f"{base}.text"]
            if q["key"] == old_key and q["text"] != old_text and _made_from(old_key, old_text):
                taken.discard(old_key)
                q["key"] = key_from(q["text"], taken)
                taken.add(q["key"])
            if q["key"] != old_key:
                renamed[old_key] = q["key"]
            for kind in ("options", "rows"):
                _follow_labels(q.get(kind, []), stored, f"{base}.{kind}")
    for page in definition["pages"]:
        for q in page["questions"]:
            rule = q.get("show_if")
            if rule and rule["question"] in renamed:
                rule["question"] = renamed[rule["question"]]
    return definition


def _follow_labels(items: list[dict], stored: dict[str, str], base: str) -> None:
    taken = {item["key"] for item in items}
    for n, item in enumerate(items):
        old_key, old_label = stored.get(f"{base}.{n}.key", ""), stored.get(f"{base}.{n}.label", "")
        if old_key and item["key"] == old_key and item["label"] != old_label and _made_from(old_key, old_label):
            taken.discard(old_key)
            item["key"] = key_from(item["label"], taken)
            taken.add(item["key"])


def _items(label: str, count: int = 2) -> list[dict]:
    labels = [f"{label} {n}" for n in range(1, count + 1)]
    return [{"key": key_from(text, set()), "label": text} for text in labels]


def _convert(question: dict, kind: QuestionType) -> None:
    """Give a question another type: keep what the new type has, drop what it has not, and add
    what it needs (two options, two statements) so it can be saved at once."""
    if {question.get("type"), kind} == {QuestionType.NUMBER, QuestionType.DATE}:  # numbers are no dates
        question.pop("min", None)
        question.pop("max", None)
    if question.get("type") == QuestionType.MATRIX and kind in POINT_TYPES:
        question.update(question.get("scale", {}))
    if kind == QuestionType.MATRIX and question.get("type") in POINT_TYPES:
        question["scale"] = {
            name: question[name] for name in ("min", "max", "min_label", "max_label") if name in question
        }
    for name in set(question) - {"key", "type", "text", "help", "required", "show_if"} - TYPE_KEYS[kind]:
        del question[name]
    if kind == QuestionType.INFO:  # nothing to answer, so nothing to require
        question["required"] = False
    if kind == QuestionType.NPS:  # always 0–10
        question.pop("min", None)
        question.pop("max", None)
    if kind in (*CHOICE_TYPES, QuestionType.RANKING) and not question.get("options"):
        question["options"] = _items(_("Alternativ"))
    if kind == QuestionType.MATRIX:
        question.setdefault("rows", _items(_("Påstående")))
        question.setdefault("scale", {})
    question["type"] = kind.value


def new_question(kind: QuestionType, taken: set[str]) -> dict:
    """A question of ``kind`` ready to be saved, for the evaluator to fill in."""
    text = _("Ny fråga")
    question = {"key": key_from(text, taken), "type": kind.value, "text": text, "required": False}
    _convert(question, kind)
    return question


def apply_op(definition: dict, op: str, form) -> str:
    """Apply one builder button to the definition; returns the anchor to come back to."""
    name, *numbers = op.split(":")
    at = [int(n) for n in numbers]
    pages = definition["pages"]
    taken = {q["key"] for page in pages for q in page["questions"]}
    if name == "add_page":
        pages.append(
            {"title": _("Sida %(n)s", n=len(pages) + 1), "questions": [new_question(QuestionType.TEXT, taken)]}
        )
        return f"pages-{len(pages) - 1}"
    page = pages[at[0]]
    if name in ("page_up", "page_down"):
        target = at[0] + (-1 if name == "page_up" else 1)
        if 0 <= target < len(pages):
            pages.insert(target, pages.pop(at[0]))
        return f"pages-{max(0, min(target, len(pages) - 1))}"
    if name == "remove_page":
        pages.pop(at[0])
        return "pages"
    if name == "add_question":
        kind = QuestionType(form.get(f"new_type.{at[0]}", QuestionType.SINGLE))
        page["questions"].append(new_question(kind, taken))
        return f"pages-{at[0]}-questions-{len(page['questions']) - 1}"
    questions = page["questions"]
    if name in ("up", "down"):
        return _move_question(pages, at[0], at[1], -1 if name == "up" else 1)
    if name == "remove":
        questions.pop(at[1])
        pages[:] = [p for p in pages if p["questions"]]
        return "pages"
    question = questions[at[1]]
    anchor = f"pages-{at[0]}-questions-{at[1]}"
    what, _sep, action = name.partition("_")
    items = question[{"option": "options", "row": "rows"}[what]]
    if action == "add":
        label = _("Nytt alternativ") if what == "option" else _("Nytt påstående")
        items.append({"key": key_from(label, {i["key"] for i in items}), "label": label})
    elif action in ("up", "down"):
        target = at[2] + (-1 if action == "up" else 1)
        if 0 <= target < len(items):
            items.insert(target, items.pop(at[2]))
    elif action == "remove":
        items.pop(at[2])
    else:
        raise ValueError(op)
    return anchor


def _move_question(pages: list[dict], page: int, index: int, step: int) -> str:
    """Move a question one place up or down, across page borders at the ends (a page left empty goes)."""
    question = pages[page]["questions"].pop(index)
    target = index + step
    if 0 <= target <= len(pages[page]["questions"]):
        pages[page]["questions"].insert(target, question)
    elif step < 0 and page > 0:
        pages[page - 1]["questions"].append(question)
    elif step > 0 and page < len(pages) - 1:
        pages[page + 1]["questions"].insert(0, question)
    else:
        pages[page]["questions"].insert(index, question)
    pages[:] = [p for p in pages if p["questions"]]
    return next(
        f"pages-{p}-questions-{i}"
        for p, each in enumerate(pages)
        for i, q in enumerate(each["questions"])
        if q is question
    )


def apply_order(definition: dict, form) -> Moves:
    """Questions, options and rows in the order they were dragged to in the browser.

    Each question's box carries a hidden ``order`` field (``P:I``, where it was drawn) and each page
    one (``P``) before its questions, so the fields arrive in the order the boxes stand; lists of
    options and rows have ``order.P.I.options`` (``N``). Without JavaScript nothing moves.
    """
    moves = Moves()
    pages = definition["pages"]
    for p, page in enumerate(pages):
        for i, question in enumerate(page["questions"]):
            for kind in ("options", "rows"):
                drawn = form.getlist(f"order.{p}.{i}.{kind}")
                if drawn and kind in question:  # not when the type changed to one without them
                    items = question[kind]
                    places = [int(n) for n in drawn]
                    if sorted(places) != list(range(len(items))):
                        raise ValueError(f"order.{p}.{i}.{kind}")
                    question[kind] = [items[n] for n in places]
                    moves.items |= {(kind, p, i, n): place for place, n in enumerate(places)}
    tokens = form.getlist("order")
    if not tokens:
        return moves
    arranged: list[list[dict]] = [[] for _page in pages]
    current = None
    for token in tokens:
        page_number, _sep, number = token.partition(":")
        if not number:
            current = int(page_number)
            continue
        if current is None:
            raise ValueError("order")
        at = (int(page_number), int(number))
        moves.questions[at] = (current, len(arranged[current]))
        arranged[current].append(pages[at[0]]["questions"][at[1]])
    if sorted(moves.questions) != [(p, i) for p, page in enumerate(pages) for i in range(len(page["questions"]))]:
        raise ValueError("order")
    for page, questions in zip(pages, arranged, strict=True):
        page["questions"] = questions
    return moves


@dataclass
class Moves:
    """Where dragged things went, old place → new, so a button sent along acts on the box it was in."""

    questions: dict[tuple[int, int], tuple[int, int]] = field(default_factory=dict)
    items: dict[tuple[str, int, int, int], int] = field(default_factory=dict)

    def op(self, op: str) -> str:
        """The button's ``op`` with its numbers pointing where its question and option now are."""
        name, *numbers = op.split(":")
        if len(numbers) < 2:  # pages are not dragged
            return op
        at = [int(n) for n in numbers]
        if len(at) > 2:
            kind = "rows" if name.startswith("row_") else "options"
            at[2] = self.items.get((kind, at[0], at[1], at[2]), at[2])
        at[:2] = self.questions.get((at[0], at[1]), (at[0], at[1]))
        return ":".join([name, *map(str, at)])


def builder_problems(definition: dict) -> list[str]:
    """What the builder asks for beyond a valid definition, as ``path: message`` like the check's."""
    problems = []
    for p, page in enumerate(definition["pages"]):
        for i, q in enumerate(page["questions"]):
            if q["type"] in CHOICE_TYPES and len(q["options"]) < 2:
                problems.append(f"pages[{p}].questions[{i}].options: " + _("lägg till minst två svarsalternativ"))
    return problems


def save_form(session: Session, survey: Survey, form, op: str, saved_by: int | None) -> str:
    """Apply the builder's form and button, check and save the result as a new version.

    Returns the anchor to show; raises DefinitionError (every problem, by path), OrphaningChange,
    or ValueError/IndexError/KeyError for a button no page shows.
    """
    definition = apply_form(survey.definition, form, keys_frozen=has_responses(session, survey.id))
    moves = apply_order(definition, form)
    anchor = apply_op(definition, moves.op(op), form) if op else ""
    save_definition(session, survey, _checked(definition), saved_by)
    return anchor


def _checked(definition: dict) -> dict:
    checked = normalise(definition)
    problems = builder_problems(checked)
    if problems:
        raise DefinitionError(problems)
    return checked


def preview_form(survey: Survey, form) -> SurveyDefinition:
    """The survey as the builder's form stands, checked but never saved (the preview beside it).

    Raises DefinitionError as ``save_form`` does. Keys stay as stored: the form's condition menus
    name them, and the preview shows no keys.
    """
    definition = apply_form(survey.definition, form, keys_frozen=True)
    apply_order(definition, form)
    return SurveyDefinition.from_dict(_checked(definition))


# Words for the parts of a question that an error path names.
_FIELD_WORDS = {
    "text": _l("frågetexten"),
    "help": _l("hjälptexten"),
    "key": _l("nyckeln"),
    "type": _l("frågetypen"),
    "options": _l("svarsalternativen"),
    "rows": _l("påståendena"),
    "scale": _l("skalan"),
    "min": _l("lägsta värdet"),
    "max": _l("högsta värdet"),
    "min_label": _l("texten vid lägsta värdet"),
    "max_label": _l("texten vid högsta värdet"),
    "max_length": _l("högsta antal tecken"),
    "show_if": _l("villkoret"),
    "label": _l("texten"),
    "question": _l("frågan"),
    "in": _l("svaren"),
    "pages": _l("sidorna"),
    "title": _l("rubriken"),
}
_PATH = re.compile(r"pages\[(\d+)\](?:\.questions\[(\d+)\])?((?:\.[a-z_]+(?:\[\d+\])?)*)")


@dataclass(frozen=True)
class BuilderError:
    field: str  # the form field (or the question's or page's box) the error is shown beside
    message: str  # beside the field
    summary: str  # in the list at the top: where, and what


def builder_errors(errors: list[str], form_names) -> list[BuilderError]:
    """The check's ``path: message`` errors in plain Swedish, each at the field it concerns:
    ``pages[1].questions[2].options: …`` → "Fråga 3 på sida 2, svarsalternativen: …"."""
    out = []
    for error in errors:
        path, _sep, message = error.partition(": ")
        match = _PATH.fullmatch(path) if message else None
        if match is None:
            field = path if path in form_names else "survey"
            out.append(BuilderError(field, message or error, f"{_FIELD_WORDS.get(path, path)}: {message}"))
            continue
        page, question, rest = match.groups()
        box = f"pages.{page}" + (f".questions.{question}" if question is not None else "")
        name = (box + rest.replace("[", ".").replace("]", "")) if rest else box + (".title" if question is None else "")
        where = (
            _("Fråga %(q)s på sida %(p)s", q=int(question) + 1, p=int(page) + 1)
            if question is not None
            else _("Sida %(p)s", p=int(page) + 1)
        )
        words = [str(_FIELD_WORDS.get(part, part)) for part in re.findall(r"[a-z_]+", rest)]
        numbers = re.findall(r"\[(\d+)\]", rest)
        if numbers and words:
            words[0] = f"{words[0]} ({int(numbers[0]) + 1})"
        what = ", ".join([where, *words[:2]])
        out.append(BuilderError(name if name in form_names else box, message, f"{what}: {message}"))
    return out
