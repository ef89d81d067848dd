"""The structured editor: every text of a draft's definition in place, required flags, questions
moved or removed. Form names are the texts' dotted paths in the definition (``pages.0.title``)."""

from __future__ import annotations

import copy

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from services.survey.surveys.definitions import normalise
from services.survey.surveys.domain import SurveyStateError, apply_definition
from services.survey.surveys.questions import POINT_TYPES, QuestionType, SurveyDefinition, definition_of
from shared.clock import utcnow
from shared.models import Survey, SurveyStatus


def text_fields(definition: SurveyDefinition) -> list[tuple[str, str]]:
    """Every editable text of a definition as (form name, value); names are dotted paths."""
    out = [("title", definition.title), ("intro", definition.intro), ("thanks", definition.thanks)]
    for p, page in enumerate(definition.pages):
        out.append((f"pages.{p}.title", page.title))
        for i, question in enumerate(page.questions):
            base = f"pages.{p}.questions.{i}"
            out += [(f"{base}.text", question.text), (f"{base}.help", question.help)]
            if question.type in POINT_TYPES:
                out += [
                    (f"{base}.min_label", question.required_scale.min_label),
                    (f"{base}.max_label", question.required_scale.max_label),
                ]
            out += [(f"{base}.options.{n}.label", o.label) for n, o in enumerate(question.options)]
            out += [(f"{base}.rows.{n}.label", r.label) for n, r in enumerate(question.rows)]
            if question.type == QuestionType.MATRIX:
                out += [
                    (f"{base}.scale.min_label", question.required_scale.min_label),
                    (f"{base}.scale.max_label", question.required_scale.max_label),
                ]
    return out


def _changed(survey: Survey, definition: dict) -> None:
    if survey.status != SurveyStatus.DRAFT:
        raise SurveyStateError(_("Enkäten kan bara ändras medan den är ett utkast."))
    apply_definition(survey, normalise(definition))
    survey.updated_at = utcnow()


def edit_texts(session: Session, survey: Survey, form) -> None:
    """Apply edited texts (form names from ``text_fields``) and required flags; raises DefinitionError."""
    definition = copy.deepcopy(survey.definition)
    for name, _old in text_fields(definition_of(survey)):
        if name not in form:
            continue
        target, parts = definition, name.split(".")
        for part in parts[:-1]:
            target = target[int(part)] if isinstance(target, list) else target[part]
        value = form[name].replace("\r\n", "\n")
        if parts[-1] == "help" and not value.strip():
            target.pop("help", None)
        else:
            target[parts[-1]] = value
    for p, page in enumerate(definition["pages"]):
        for q, question in enumerate(page["questions"]):
            question["required"] = form.get(f"pages.{p}.questions.{q}.required") == "on"
    _changed(survey, definition)


def move_question(session: Session, survey: Survey, page: int, index: int, step: int) -> None:
    """Move a question one place up (-1) or down (+1), across page borders at the ends."""
    definition = copy.deepcopy(survey.definition)
    pages = definition["pages"]
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
    definition["pages"] = [p for p in pages if p["questions"]] or pages
    _changed(survey, definition)


def remove_question(session: Session, survey: Survey, page: int, index: int) -> None:
    """Remove a question (a page left empty is removed too); raises DefinitionError if others depend on it."""
    definition = copy.deepcopy(survey.definition)
    pages = definition["pages"]
    pages[page]["questions"].pop(index)
    definition["pages"] = [p for p in pages if p["questions"]]
    _changed(survey, definition)
