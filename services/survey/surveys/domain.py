"""Surveys as evaluators manage them: start one (blank, a copy, a template, an imported definition),
save definitions (every save kept as a version, answer-orphaning changes refused once there are
responses), open and close it, and the list with status and response rate."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import yaml
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from services.survey.mailings.rendering import DEFAULT_TEXTS
from services.survey.surveys.definitions import (
    MAX_DEFINITION_BYTES,
    DefinitionError,
    dump_yaml,
    moment_of,
    normalise,
    parse_definition,
    too_large,
)
from services.survey.surveys.questions import SurveyDefinition, definition_of
from shared.clock import utcnow
from shared.models import AdminUser, Participant, Response, Survey, SurveyStatus, SurveyVersion

# The templates a survey can start from: name → (label, file in ``starters/``).
TEMPLATES = {"millennium": (_l("Utvärdering av Program Millennium"), "millennium.yaml")}
STARTERS = Path(__file__).parent / "starters"
# What a copy takes along besides the questions; never participants or responses.
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


class SurveyStateError(Exception):
    """The change is not possible in the survey's present state (message for the evaluator)."""


class OrphaningChange(SurveyStateError):
    """The survey has responses and the change would leave stored answers without their question,
    option or type; ``problems`` names each one in the evaluator's words."""

    def __init__(self, problems: list[str]):
        super().__init__(" ".join(problems))
        self.problems = problems


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


def create_survey(session: Session, definition: dict, saved_by: int | None = None) -> Survey:
    """A new draft survey from a checked definition, with the default mail texts in its language."""
    language = definition["language"]
    survey = Survey(status=SurveyStatus.DRAFT, **DEFAULT_TEXTS[language], created_at=utcnow(), updated_at=utcnow())
    apply_definition(survey, definition)
    session.add(survey)
    session.flush()
    _keep_version(session, survey, saved_by)
    return survey


def blank_definition(title: str) -> dict:
    """A new survey's definition: one page with one short-text question, for the builder to change."""
    question = {"key": "fraga_1", "type": "text", "text": _("Ny fråga")}
    return normalise({"title": title, "pages": [{"title": _("Sida 1"), "questions": [question]}]})


def template_definition(name: str, title: str = "") -> dict:
    """A shipped template's definition (``TEMPLATES``), with ``title`` when given."""
    _label, file = TEMPLATES[name]
    data = yaml.safe_load((STARTERS / file).read_text(encoding="utf-8"))
    if title:
        data["title"] = title
    return normalise(data)


def copy_survey(session: Session, survey: Survey, title: str = "", saved_by: int | None = None) -> Survey:
    """A new draft with the survey's questions, mail texts, contact person and reminder rules; no
    participants, no responses, and no opening or closing date (a copy is for a new round)."""
    definition = copy.deepcopy(survey.definition)
    definition["title"] = title or _("Kopia av %(title)s", title=survey.title)
    definition.pop("opens", None)
    definition.pop("closes", None)
    new = Survey(status=SurveyStatus.DRAFT, created_at=utcnow(), updated_at=utcnow())
    for name in COPIED_SETTINGS:
        setattr(new, name, getattr(survey, name))
    apply_definition(new, normalise(definition))
    session.add(new)
    session.flush()
    _keep_version(session, new, saved_by)
    return new


def has_responses(session: Session, survey_id: int) -> bool:
    """Whether anyone has started answering (an answer in progress counts: it has stored answers)."""
    return bool(session.scalar(select(exists().where(Response.survey_id == survey_id))))


def orphaning_changes(old: SurveyDefinition, new: SurveyDefinition) -> list[str]:
    """What in ``new`` would leave answers to ``old`` without their question, option, row or type."""
    problems = []
    for q in old.questions:
        kept = new.question(q.key)
        if kept is None:
            problems.append(_("Frågan ”%(text)s” har svar och kan inte tas bort eller få en ny nyckel.", text=q.text))
            continue
        if kept.type != q.type:
            problems.append(_("Frågan ”%(text)s” har svar och kan inte byta frågetyp.", text=q.text))
            continue
        for old_items, new_items in ((q.options, kept.options), (q.rows, kept.rows)):
            keys = {item.key for item in new_items}
            problems += [
                _("”%(label)s” i frågan ”%(text)s” har svar och kan inte tas bort.", label=item.label, text=q.text)
                for item in old_items
                if item.key not in keys
            ]
        if (q.other and not kept.other) or (q.dont_know and not kept.dont_know):
            problems.append(
                _("Frågan ”%(text)s” har svar med ”Annat” eller ”Vet inte”, som måste finnas kvar.", text=q.text)
            )
        if q.scale and kept.scale and (kept.scale.min > q.scale.min or kept.scale.max < q.scale.max):
            problems.append(_("Skalan i frågan ”%(text)s” har svar och kan inte göras kortare.", text=q.text))
    return problems


def save_definition(session: Session, survey: Survey, definition: dict, saved_by: int | None = None) -> None:
    """Make a checked definition the survey's own and keep it as a version.

    Once anyone has answered, a change that would orphan stored answers raises OrphaningChange;
    texts stay editable.
    """
    if has_responses(session, survey.id):
        problems = orphaning_changes(definition_of(survey), SurveyDefinition.from_dict(definition))
        if problems:
            raise OrphaningChange(problems)
    apply_definition(survey, definition)
    survey.updated_at = utcnow()
    _keep_version(session, survey, saved_by)


def _keep_version(session: Session, survey: Survey, saved_by: int | None) -> None:
    session.add(SurveyVersion(survey_id=survey.id, definition=survey.definition, saved_at=utcnow(), saved_by=saved_by))


@dataclass
class VersionRow:
    id: int
    saved_at: datetime
    saved_by: str | None  # the account's e-mail address, None when the account is gone or it was the CLI
    title: str
    questions: int


def list_versions(session: Session, survey_id: int) -> list[VersionRow]:
    """The survey's saved versions, newest first."""
    rows = session.execute(
        select(SurveyVersion.id, SurveyVersion.saved_at, AdminUser.email, SurveyVersion.definition)
        .outerjoin(AdminUser, AdminUser.id == SurveyVersion.saved_by)
        .where(SurveyVersion.survey_id == survey_id)
        .order_by(SurveyVersion.id.desc())
    )
    return [
        VersionRow(id, saved_at, email, definition["title"], sum(len(p["questions"]) for p in definition["pages"]))
        for id, saved_at, email, definition in rows
    ]


def restore_version(session: Session, survey: Survey, version_id: int, saved_by: int | None = None) -> bool:
    """Make an earlier version the current definition (kept as a new version); False if it is not the survey's."""
    version = session.get(SurveyVersion, version_id)
    if version is None or version.survey_id != survey.id:
        return False
    save_definition(session, survey, copy.deepcopy(version.definition), saved_by)
    return True


def import_survey_text(session: Session, text: str, saved_by: int | None = None) -> Survey:
    """Create a draft survey from YAML/JSON text; raises DefinitionError listing every problem."""
    return create_survey(session, parse_definition(text), saved_by)


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


def replace_definition(session: Session, survey: Survey, text: str, saved_by: int | None = None) -> Survey:
    """Replace the definition with edited YAML/JSON (raises DefinitionError / OrphaningChange)."""
    save_definition(session, survey, parse_definition(text), saved_by)
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
    """Stop taking answers; links then show a polite "closed" page. An anonymous survey's responses
    are sealed at once, today's too (no one else will answer today)."""
    from services.survey.responses.storage import seal_survey  # storage builds on the surveys' questions

    survey.status = SurveyStatus.CLOSED
    survey.updated_at = utcnow()
    seal_survey(session, survey.id)


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
