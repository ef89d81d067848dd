"""API operations that mail a survey's participants: invitations and reminders, and where they stand.
The rules are in ``domain``, as for the buttons on the survey's page."""

from __future__ import annotations

from pydantic import BaseModel, Field

from services.survey.api import api, survey_or_404
from services.survey.mailings import domain
from services.survey.participants.domain import status_counts
from services.survey.results.api import JobOut, job_out
from services.survey.surveys.domain import SurveyStateError
from shared.api.blueprint import current_key, json_response
from shared.api.problems import problem
from shared.models import ApiScope, MailKind
from shared.web import db_session

TAG = "Invitations and reminders"


class SurveyPath(BaseModel):
    survey_id: int = Field(ge=1, le=2**31 - 1)


class MailingsOut(BaseModel):
    not_invited: int = Field(description="Whom an invitation call would mail now.")
    reminders_due: int = Field(description="Whom a reminder call would mail now.")
    participants: dict[str, int] = Field(description="Participants per status.")


def _start(kind: MailKind, survey_id: int):
    s = db_session()
    survey = survey_or_404(survey_id)
    try:
        job = domain.start_sending(s, survey, kind, created_by=current_key().account_id, return_path="")
    except SurveyStateError as exc:
        return problem(409, str(exc))
    s.commit()
    return json_response(job_out(job), 202)


@api.operation(
    "POST",
    "/surveys/<int:survey_id>/invitations",
    scope=ApiScope.SURVEY_WRITE,
    tag=TAG,
    summary="Invite everyone not yet invited",
    responses={202: JobOut},
    sends_mail=True,
)
def invite(path: SurveyPath):
    """Starts the sending job (follow its `url`): everyone is queued in one statement, so nobody is
    invited twice; then each gets a mail with a personal link and is marked invited. The survey must
    be open; 409 when there is nobody to invite."""
    return _start(MailKind.SURVEY_INVITATION, path.survey_id)


@api.operation(
    "POST",
    "/surveys/<int:survey_id>/reminders",
    scope=ApiScope.SURVEY_WRITE,
    tag=TAG,
    summary="Remind those due a reminder",
    responses={202: JobOut},
    sends_mail=True,
)
def remind(path: SurveyPath):
    """Invited, not answered, not declined, under the survey's limit and quiet long enough."""
    return _start(MailKind.SURVEY_REMINDER, path.survey_id)


@api.operation(
    "GET",
    "/surveys/<int:survey_id>/mailings",
    scope=ApiScope.SURVEY_READ,
    tag=TAG,
    summary="Where invitations and reminders stand",
    responses={200: MailingsOut},
)
def mailings(path: SurveyPath):
    s = db_session()
    survey = survey_or_404(path.survey_id)
    uninvited, due = domain.count_due(s, survey)
    return json_response(
        MailingsOut(
            not_invited=uninvited,
            reminders_due=due,
            participants={k.value: n for k, n in status_counts(s, survey.id).items()},
        )
    )
