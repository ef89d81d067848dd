"""API operations that mail a survey's participants: invitations and reminders, and where they stand.
The rules are in ``domain``, as for the buttons on the survey's page."""

from __future__ import annotations

from pydantic import BaseModel, Field

from services.survey.api import api, survey_or_404
from services.survey.mailings import domain
from services.survey.participants.domain import status_counts
from services.survey.surveys.domain import SurveyStateError
from shared.api.blueprint import json_response
from shared.api.problems import problem
from shared.models import ApiScope
from shared.web import db_session, services

TAG = "Invitations and reminders"


class SurveyPath(BaseModel):
    survey_id: int = Field(ge=1, le=2**31 - 1)


class SentOut(BaseModel):
    queued: int = Field(description="Mails written to the outbox; the worker delivers them.")
    suppressed: int = Field(description="People skipped because their address is on the suppression list.")


class MailingsOut(BaseModel):
    not_invited: int = Field(description="Whom an invitation call would mail now.")
    reminders_due: int = Field(description="Whom a reminder call would mail now.")
    participants: dict[str, int] = Field(description="Participants per status.")


def _send(sender, survey_id: int):
    s = db_session()
    survey = survey_or_404(survey_id)
    try:
        report = sender(s, services().config, survey)
    except SurveyStateError as exc:
        return problem(409, str(exc))
    s.commit()
    return json_response(SentOut(queued=report.sent, suppressed=report.suppressed), 202)


@api.operation(
    "POST",
    "/surveys/<int:survey_id>/invitations",
    scope=ApiScope.SURVEY_WRITE,
    tag=TAG,
    summary="Invite everyone not yet invited",
    responses={202: SentOut},
    sends_mail=True,
)
def invite(path: SurveyPath):
    """Each gets a mail with a personal link. People are marked invited in the same transaction as
    their mails are queued, so a second call invites nobody twice. The survey must be open."""
    return _send(domain.send_invitations, path.survey_id)


@api.operation(
    "POST",
    "/surveys/<int:survey_id>/reminders",
    scope=ApiScope.SURVEY_WRITE,
    tag=TAG,
    summary="Remind those due a reminder",
    responses={202: SentOut},
    sends_mail=True,
)
def remind(path: SurveyPath):
    """Invited, not answered, not declined, under the survey's limit and quiet long enough."""
    return _send(domain.send_reminders, path.survey_id)


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
