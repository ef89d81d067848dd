"""Surveys as evaluators manage them: import a definition, replace it while it is a draft, open and
close it, and the list with status and response rate."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.survey.mailings.rendering import DEFAULT_TEXTS
from services.survey.surveys.definitions import (
    MAX_DEFINITION_BYTES,
    DefinitionError,
    dump_yaml,
    moment_of,
    parse_definition,
    too_large,
)
from shared.clock import utcnow
from shared.models import Participant, Survey, SurveyStatus


class SurveyStateError(Exception):
    """The change is not possible in the survey's present state (message for the evaluator)."""


def apply_definition(survey: Survey, definition: dict) -> None:
    """Store a normalised definition and the columns taken from it."""
    if survey.language and survey.language != definition["language"]:
        _mail_texts_follow_language(survey, survey.language, definition["language"])
    survey.definition = definition
    survey.title = definition["title"][:300]
    survey.language = definition["language"]
    survey.anonymous = definition["anonymous"]
    survey.opens_at = moment_of(definition, "opens")
    survey.closes_at = moment_of(definition, "closes")
    survey.report_attributes = definition["report_attributes"]


def _mail_texts_follow_language(survey: Survey, old: str, new: str) -> None:
    """Mail texts still as a survey in ``old`` started them become the defaults in ``new``: a survey
    switched to Swedish must not invite people with "The survey closes on …". Edited texts stay."""
    for field, text in DEFAULT_TEXTS[old].items():
        if getattr(survey, field) == text:
            setattr(survey, field, DEFAULT_TEXTS[new][field])


def create_survey(session: Session, definition: dict) -> Survey:
    """A new draft survey from a checked definition, with the default mail texts in its language."""
    language = definition["language"]
    survey = Survey(status=SurveyStatus.DRAFT, **DEFAULT_TEXTS[language], created_at=utcnow(), updated_at=utcnow())
    apply_definition(survey, definition)
    session.add(survey)
    session.flush()
    return survey


# What a copy takes over besides the definition: the mail texts and the sending rules.
COPIED_SETTINGS = (
    "invitation_subject",
    "invitation_text",
    "reminder_subject",
    "reminder_text",
    "contact_name",
    "contact_email",
    "max_reminders",
    "reminder_interval_days",
    "min_group_size",
)


def copy_survey(session: Session, survey: Survey) -> Survey:
    """A new draft with the same questions and settings, without participants or answers."""
    definition = copy.deepcopy(survey.definition)
    copied = create_survey(session, definition)
    for name in COPIED_SETTINGS:
        setattr(copied, name, getattr(survey, name))
    return copied


def surveys_after(session: Session, after: int, limit: int) -> list[SurveyRow]:
    """Up to ``limit`` surveys with an id above ``after`` (the API's cursor), in id order, with counts."""
    query = (
        select(
            Survey.id,
            Survey.title,
            Survey.status,
            Survey.anonymous,
            func.count(Participant.id).label("participants"),
            func.count(Participant.completed_at).label("completed"),
        )
        .outerjoin(Participant, Participant.survey_id == Survey.id)
        .where(Survey.id > after)
        .group_by(Survey.id, Survey.title, Survey.status, Survey.anonymous)
        .order_by(Survey.id)
        .limit(limit)
    )
    return [SurveyRow(**row._mapping) for row in session.execute(query)]


def import_survey_text(session: Session, text: str) -> Survey:
    """Create a draft survey from YAML/JSON text; raises DefinitionError listing every problem."""
    return create_survey(session, parse_definition(text))


def import_survey_file(session: Session, path: str | Path) -> Survey:
    """Create a draft survey from a YAML/JSON file (the caller commits)."""
    if Path(path).stat().st_size > MAX_DEFINITION_BYTES:
        raise too_large()
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
    if survey.status != SurveyStatus.DRAFT:
        raise SurveyStateError(_("Enkäten kan bara ändras medan den är ett utkast."))
    apply_definition(survey, parse_definition(text))
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
    survey.status = SurveyStatus.OPEN
    survey.updated_at = now


def close_survey(session: Session, survey: Survey) -> None:
    """Stop taking answers; links then show a polite "closed" page."""
    survey.status = SurveyStatus.CLOSED
    survey.updated_at = utcnow()


@dataclass
class SurveyRow:
    id: int
    title: str
    status: SurveyStatus
    anonymous: bool
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
            func.count(Participant.id).label("participants"),
            func.count(Participant.completed_at).label("completed"),
        )
        .outerjoin(Participant, Participant.survey_id == Survey.id)
        .group_by(Survey.id, Survey.title, Survey.status, Survey.anonymous)
        .order_by(Survey.created_at.desc(), Survey.id.desc())
    )
    if survey_id is not None:
        query = query.where(Survey.id == survey_id)
    return [SurveyRow(**row._mapping) for row in session.execute(query)]
