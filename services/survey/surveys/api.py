"""API operations on surveys: create from a definition, read, replace the definition, open, close,
copy. The rules are in ``domain`` and ``definitions``, as for the pages."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from services.survey.api import api, survey_or_404
from services.survey.surveys import domain
from services.survey.surveys.definitions import MAX_DEFINITION_BYTES, DefinitionError, normalise, parse_definition
from shared.api.blueprint import Page, current_key, cursor_after, json_response, next_cursor
from shared.api.problems import FieldError, problem
from shared.models import ApiScope, SurveyStatus
from shared.web import db_session
from shared.web.limits import body_limit

READ, WRITE = ApiScope.SURVEY_READ, ApiScope.SURVEY_WRITE
TAG = "Surveys"


class SurveyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    title: str
    language: str
    anonymous: bool
    status: SurveyStatus
    opens_at: datetime | None
    closes_at: datetime | None
    created_at: datetime
    updated_at: datetime
    definition: dict[str, Any] = Field(description="The normalised definition (the same format as the YAML files).")


class SurveyRowOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    title: str
    status: SurveyStatus
    anonymous: bool
    participants: int
    completed: int


class SurveysOut(BaseModel):
    items: list[SurveyRowOut]
    next_cursor: str | None


class DefinitionIn(BaseModel):
    definition: dict[str, Any] | str = Field(
        description="The survey as an object (the format of services/demo_data/survey-millennium.yaml), "
        "or that file's YAML or JSON text."
    )


class SurveyChange(BaseModel):
    closes: date | None = Field(
        le=date(9998, 12, 31),  # the end of the day must still be on the calendar in UTC
        description="The last day answers are taken (Swedish time); null for no closing date. Works in any state.",
    )


class SurveyPath(BaseModel):
    survey_id: int = Field(ge=1, le=2**31 - 1)


def _definition(body: DefinitionIn) -> dict:
    if isinstance(body.definition, str):
        return parse_definition(body.definition)
    return normalise(body.definition)


def _refused(exc: DefinitionError):
    return problem(
        422,
        "The definition has errors.",
        errors=[FieldError(field=f"body.definition.{line.split(':')[0]}", message=line) for line in exc.errors],
    )


def _out(survey):
    return json_response(SurveyOut.model_validate(survey))


@api.operation("GET", "/surveys", scope=READ, tag=TAG, summary="All surveys", responses={200: SurveysOut})
def surveys(query: Page):
    """Each survey with its number of participants and completed answers."""
    found = domain.surveys_after(db_session(), cursor_after(query.cursor), query.limit + 1)
    return json_response(
        SurveysOut(
            items=[SurveyRowOut.model_validate(x) for x in found[: query.limit]],
            next_cursor=next_cursor([x.id for x in found], query.limit),
        )
    )


@api.operation("POST", "/surveys", scope=WRITE, tag=TAG, summary="Create from a definition", responses={201: SurveyOut})
@body_limit(MAX_DEFINITION_BYTES + 4096)
def create_survey(body: DefinitionIn):
    """A draft survey; every error in the definition is listed with its path."""
    s = db_session()
    try:
        survey = domain.create_survey(s, _definition(body), saved_by=current_key().account_id)
    except DefinitionError as exc:
        return _refused(exc)
    s.commit()
    response = _out(survey)
    response.status_code = 201
    return response


@api.operation("GET", "/surveys/<int:survey_id>", scope=READ, tag=TAG, summary="One survey", responses={200: SurveyOut})
def get_survey(path: SurveyPath):
    return _out(survey_or_404(path.survey_id))


@api.operation(
    "PUT",
    "/surveys/<int:survey_id>/definition",
    scope=WRITE,
    tag=TAG,
    summary="Replace the definition",
    responses={200: SurveyOut},
)
@body_limit(MAX_DEFINITION_BYTES + 4096)
def replace_definition(path: SurveyPath, body: DefinitionIn):
    """Only while the survey is a draft (answers would no longer match the questions)."""
    s = db_session()
    survey = survey_or_404(path.survey_id)
    if survey.status != SurveyStatus.DRAFT:
        return problem(409, "The survey can only be changed while it is a draft.")
    try:
        domain.save_definition(s, survey, _definition(body), saved_by=current_key().account_id)
    except DefinitionError as exc:
        return _refused(exc)
    except domain.SurveyStateError as exc:
        return problem(409, str(exc))
    s.commit()
    return _out(survey)


@api.operation(
    "PATCH",
    "/surveys/<int:survey_id>",
    scope=WRITE,
    tag=TAG,
    summary="Change the closing date",
    responses={200: SurveyOut},
)
def update_survey(path: SurveyPath, body: SurveyChange):
    """The closing date, as under "Mejltexter, kontaktperson, påminnelser och stängningsdatum"."""
    s = db_session()
    survey = survey_or_404(path.survey_id)
    domain.set_closes(s, survey, body.closes.isoformat() if body.closes else None)
    s.commit()
    return _out(survey)


@api.operation(
    "POST",
    "/surveys/<int:survey_id>/open",
    scope=WRITE,
    tag=TAG,
    summary="Open for answers",
    responses={200: SurveyOut},
)
def open_survey(path: SurveyPath):
    """Refused while the closing date is in the past."""
    s = db_session()
    survey = survey_or_404(path.survey_id)
    try:
        domain.open_survey(s, survey)
    except domain.SurveyStateError as exc:
        return problem(409, str(exc))
    s.commit()
    return _out(survey)


@api.operation(
    "POST", "/surveys/<int:survey_id>/close", scope=WRITE, tag=TAG, summary="Stop answers", responses={200: SurveyOut}
)
def close_survey(path: SurveyPath):
    s = db_session()
    survey = survey_or_404(path.survey_id)
    domain.close_survey(s, survey)
    s.commit()
    return _out(survey)


@api.operation(
    "POST", "/surveys/<int:survey_id>/copy", scope=WRITE, tag=TAG, summary="Copy", responses={201: SurveyOut}
)
def copy_survey(path: SurveyPath):
    """A new draft with the same questions, mail texts and settings; no participants, no answers."""
    s = db_session()
    copied = domain.copy_survey(s, survey_or_404(path.survey_id), saved_by=current_key().account_id)
    s.commit()
    response = _out(copied)
    response.status_code = 201
    return response
