"""API operations on a survey's participants: add many at once, list with status, remove one.
The rules are in ``domain``, as for the pages."""

from __future__ import annotations

from flask import abort
from pydantic import BaseModel, Field

from services.survey.api import api, survey_or_404
from services.survey.participants import domain
from shared.api.blueprint import Page, cursor_after, json_response, next_cursor
from shared.models import ApiScope, ParticipantStatus
from shared.web import db_session
from shared.web.limits import body_limit

TAG = "Participants"
MAX_BATCH = 1000
BATCH_BYTES = 2 * 1024 * 1024  # 1000 people with their attributes; other calls keep the public 64 kB


class ParticipantIn(BaseModel):
    email: str = Field(min_length=1, max_length=320)
    name: str = Field("", max_length=200)
    attributes: dict[str, str] = Field(
        default_factory=dict, description="E.g. organisation, delregion: used to break results down."
    )


class ParticipantsIn(BaseModel):
    participants: list[ParticipantIn] = Field(min_length=1, max_length=MAX_BATCH)


class RowError(BaseModel):
    index: int = Field(description="The participant's place in the list sent, from 0.")
    message: str


class AddedOut(BaseModel):
    added: int
    updated: int = Field(description="Addresses already in the survey: name and attributes updated.")
    merged: int = Field(description="Addresses given twice in the list, merged.")
    errors: list[RowError]


class ParticipantOut(BaseModel):
    id: int
    email: str
    name: str
    attributes: dict[str, str]
    status: ParticipantStatus
    reminders_sent: int


class ParticipantsOut(BaseModel):
    items: list[ParticipantOut]
    next_cursor: str | None
    counts: dict[str, int] = Field(description="Participants per status, in the whole survey.")


class ParticipantsQuery(Page):
    status: ParticipantStatus | None = None


class SurveyPath(BaseModel):
    survey_id: int = Field(ge=1, le=2**31 - 1)


class ParticipantPath(BaseModel):
    survey_id: int = Field(ge=1, le=2**31 - 1)
    participant_id: int = Field(ge=1, le=2**31 - 1)


class RemovedOut(BaseModel):
    removed: bool


@api.operation(
    "POST",
    "/surveys/<int:survey_id>/participants",
    scope=ApiScope.SURVEY_WRITE,
    tag=TAG,
    summary="Add participants",
    responses={200: AddedOut},
)
@body_limit(BATCH_BYTES)
def add_participants(path: SurveyPath, body: ParticipantsIn):
    """Up to 1000 people a call, as a CSV import: an address already in the survey is updated, one given
    twice is merged, and a bad address is reported by its place in the list."""
    s = db_session()
    survey = survey_or_404(path.survey_id)
    report = domain.add_participants(
        s,
        survey.id,
        (
            (i, p.email, p.name.strip(), {k.strip().lower(): v.strip() for k, v in p.attributes.items() if k.strip()})
            for i, p in enumerate(body.participants)
        ),
    )
    s.commit()
    return json_response(
        AddedOut(
            added=report.added,
            updated=report.updated,
            merged=report.merged,
            errors=[RowError(index=i, message=m) for i, m in report.errors],
        )
    )


@api.operation(
    "GET",
    "/surveys/<int:survey_id>/participants",
    scope=ApiScope.SURVEY_READ,
    tag=TAG,
    summary="Participants with status",
    responses={200: ParticipantsOut},
)
def participants(path: SurveyPath, query: ParticipantsQuery):
    """Not invited, invited, reminded, started, completed, declined or bounced — never answers."""
    s = db_session()
    survey = survey_or_404(path.survey_id)
    rows = domain.participants_after(
        s, survey.id, cursor_after(query.cursor), query.limit + 1, query.status.value if query.status else None
    )
    return json_response(
        ParticipantsOut(
            items=[
                ParticipantOut(
                    id=r.id,
                    email=r.email,
                    name=r.name,
                    attributes=r.attributes or {},
                    status=ParticipantStatus(r.status),
                    reminders_sent=r.reminders_sent,
                )
                for r in rows[: query.limit]
            ],
            next_cursor=next_cursor([r.id for r in rows], query.limit),
            counts={k.value: n for k, n in domain.status_counts(s, survey.id).items()},
        )
    )


@api.operation(
    "DELETE",
    "/surveys/<int:survey_id>/participants/<int:participant_id>",
    scope=ApiScope.SURVEY_WRITE,
    tag=TAG,
    summary="Remove a participant",
    responses={200: RemovedOut},
)
def remove_participant(path: ParticipantPath):
    """With any unfinished answers; a submitted anonymous response is no longer the person's."""
    s = db_session()
    if not domain.remove_participant(s, path.survey_id, path.participant_id):
        abort(404)
    s.commit()
    return json_response(RemovedOut(removed=True))
