"""Surveys as evaluators manage them: import a definition, edit it while it is a draft, open and
close it, and the list with status and response rate."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.survey.definitions import DefinitionError, dump_yaml, moment_of, parse_definition
from shared.clock import utcnow
from shared.models import Participant, Survey

DEFAULT_INVITATION_SUBJECT = {"sv": "Inbjudan: {{ title }}", "en": "Invitation: {{ title }}"}
DEFAULT_INVITATION_TEXT = {
    "sv": (
        "Hej {{ name }}!\n\n"
        "Du är inbjuden att svara på enkäten ”{{ title }}”.\n\n"
        "Svara via din personliga länk:\n{{ link }}\n\n"
        "{% if closes %}Enkäten stänger {{ closes }}.\n\n{% endif %}"
        "Du kan spara och fortsätta senare med samma länk.\n\n"
        "{% if contact_email %}Har du frågor? Kontakta {{ contact_name }} ({{ contact_email }}).\n\n{% endif %}"
        "Vill du inte få påminnelser om enkäten? Tacka nej här:\n{{ decline_link }}\n"
    ),
    "en": (
        "Hello {{ name }},\n\n"
        "You are invited to answer the survey “{{ title }}”.\n\n"
        "Answer using your personal link:\n{{ link }}\n\n"
        "{% if closes %}The survey closes on {{ closes }}.\n\n{% endif %}"
        "You can save and continue later with the same link.\n\n"
        "{% if contact_email %}Questions? Contact {{ contact_name }} ({{ contact_email }}).\n\n{% endif %}"
        "If you do not want reminders about this survey, decline here:\n{{ decline_link }}\n"
    ),
}
DEFAULT_REMINDER_SUBJECT = {"sv": "Påminnelse: {{ title }}", "en": "Reminder: {{ title }}"}
DEFAULT_REMINDER_TEXT = {
    "sv": (
        "Hej {{ name }}!\n\n"
        "Vi har ännu inte fått dina svar på enkäten ”{{ title }}”. Dina svar är viktiga för oss.\n\n"
        "Svara via din personliga länk:\n{{ link }}\n\n"
        "{% if closes %}Enkäten stänger {{ closes }}.\n\n{% endif %}"
        "{% if contact_email %}Har du frågor? Kontakta {{ contact_name }} ({{ contact_email }}).\n\n{% endif %}"
        "Vill du inte få fler påminnelser? Tacka nej här:\n{{ decline_link }}\n"
    ),
    "en": (
        "Hello {{ name }},\n\n"
        "We have not yet received your answers to the survey “{{ title }}”. Your answers matter to us.\n\n"
        "Answer using your personal link:\n{{ link }}\n\n"
        "{% if closes %}The survey closes on {{ closes }}.\n\n{% endif %}"
        "{% if contact_email %}Questions? Contact {{ contact_name }} ({{ contact_email }}).\n\n{% endif %}"
        "If you do not want more reminders, decline here:\n{{ decline_link }}\n"
    ),
}


class SurveyStateError(Exception):
    """The change is not possible in the survey's present state (message for the evaluator)."""


def _apply_definition(survey: Survey, definition: dict) -> None:
    survey.definition = definition
    survey.title = definition["title"][:300]
    survey.language = definition["language"]
    survey.anonymous = definition["anonymous"]
    survey.opens_at = moment_of(definition, "opens")
    survey.closes_at = moment_of(definition, "closes")
    survey.report_attributes = definition["report_attributes"]


def create_survey(session: Session, definition: dict) -> Survey:
    """A new draft survey from a checked definition, with the default mail texts in its language."""
    language = definition["language"]
    survey = Survey(
        status="draft",
        invitation_subject=DEFAULT_INVITATION_SUBJECT[language],
        invitation_text=DEFAULT_INVITATION_TEXT[language],
        reminder_subject=DEFAULT_REMINDER_SUBJECT[language],
        reminder_text=DEFAULT_REMINDER_TEXT[language],
        created_at=utcnow(),
        updated_at=utcnow(),
    )
    _apply_definition(survey, definition)
    session.add(survey)
    session.flush()
    return survey


def import_survey_text(session: Session, text: str) -> Survey:
    """Create a draft survey from YAML/JSON text; raises DefinitionError listing every problem."""
    return create_survey(session, parse_definition(text))


def import_survey_file(session: Session, path: str | Path) -> Survey:
    """Create a draft survey from a YAML/JSON file (the caller commits)."""
    raw = Path(path).read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DefinitionError([_("Filen är inte UTF-8-kodad text.")]) from None
    return import_survey_text(session, text)


def export_yaml(survey: Survey) -> str:
    """The survey's definition as YAML, ready to import again."""
    return dump_yaml(survey.definition)


def replace_definition(session: Session, survey: Survey, text: str) -> Survey:
    """Replace a draft's definition with edited YAML/JSON (raises DefinitionError / SurveyStateError)."""
    if survey.status != "draft":
        raise SurveyStateError(_("Enkäten kan bara ändras medan den är ett utkast."))
    _apply_definition(survey, parse_definition(text))
    survey.updated_at = utcnow()
    return survey


def set_closes(session: Session, survey: Survey, closes: str | None) -> None:
    """Change the closing date (kept in the definition too, so export shows it)."""
    definition = dict(survey.definition)
    if closes:
        definition["closes"] = closes
    else:
        definition.pop("closes", None)
    survey.definition = definition
    survey.closes_at = moment_of(definition, "closes")


def open_survey(session: Session, survey: Survey, now: datetime | None = None) -> None:
    """Open a draft (or reopen a closed survey) for answers."""
    now = now or utcnow()
    if survey.closes_at is not None and survey.closes_at <= now:
        raise SurveyStateError(_("Stängningsdatumet har redan passerat. Ändra det innan du öppnar enkäten."))
    survey.status = "open"
    survey.updated_at = now


def close_survey(session: Session, survey: Survey) -> None:
    """Stop taking answers; links then show a polite "closed" page."""
    survey.status = "closed"
    survey.updated_at = utcnow()


@dataclass
class SurveyRow:
    id: int
    title: str
    status: str
    anonymous: bool
    closes_at: datetime | None
    participants: int
    completed: int

    @property
    def response_rate(self) -> float | None:
        return self.completed / self.participants if self.participants else None


def list_surveys(session: Session, survey_id: int | None = None) -> list[SurveyRow]:
    """Every survey (or one) with its number of participants and completed answers (one GROUP BY)."""
    query = (
        select(
            Survey.id,
            Survey.title,
            Survey.status,
            Survey.anonymous,
            Survey.closes_at,
            func.count(Participant.id).label("participants"),
            func.count(Participant.completed_at).label("completed"),
        )
        .outerjoin(Participant, Participant.survey_id == Survey.id)
        .group_by(Survey.id, Survey.title, Survey.status, Survey.anonymous, Survey.closes_at)
        .order_by(Survey.created_at.desc(), Survey.id.desc())
    )
    if survey_id is not None:
        query = query.where(Survey.id == survey_id)
    return [SurveyRow(**row._mapping) for row in session.execute(query)]


# --- the structured editor: texts in place, questions moved or removed --------------------------

TEXT_FIELDS = ("text", "help", "min_label", "max_label")


def text_fields(definition: dict) -> list[tuple[str, str]]:
    """Every editable text of a definition as (form name, value); names are dotted paths."""
    out = [("title", definition.get("title", "")), ("intro", definition.get("intro", "")),
           ("thanks", definition.get("thanks", ""))]
    for p, page in enumerate(definition["pages"]):
        out.append((f"pages.{p}.title", page.get("title", "")))
        for q, question in enumerate(page["questions"]):
            base = f"pages.{p}.questions.{q}"
            out += [(f"{base}.{name}", question.get(name) or "") for name in TEXT_FIELDS if name in question or name == "help"]
            out += [(f"{base}.options.{i}.label", o["label"]) for i, o in enumerate(question.get("options", []))]
            out += [(f"{base}.rows.{i}.label", r["label"]) for i, r in enumerate(question.get("rows", []))]
            if "scale" in question:
                out += [(f"{base}.scale.{n}", question["scale"].get(n) or "") for n in ("min_label", "max_label")]
    return out


def _changed(survey: Survey, definition: dict) -> None:
    if survey.status != "draft":
        raise SurveyStateError(_("Enkäten kan bara ändras medan den är ett utkast."))
    from services.survey.definitions import normalise

    _apply_definition(survey, normalise(definition))
    survey.updated_at = utcnow()


def _copy(definition: dict) -> dict:
    import copy

    return copy.deepcopy(definition)


def edit_texts(session: Session, survey: Survey, form) -> None:
    """Apply edited texts (form names from ``text_fields``) and required flags; raises DefinitionError."""
    definition = _copy(survey.definition)
    for name, _old in text_fields(definition):
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
    definition = _copy(survey.definition)
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
    definition = _copy(survey.definition)
    pages = definition["pages"]
    pages[page]["questions"].pop(index)
    definition["pages"] = [p for p in pages if p["questions"]]
    _changed(survey, definition)
