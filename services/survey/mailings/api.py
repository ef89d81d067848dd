"""API operations that mail a survey's participants: the mail texts, contact person and reminder rules,
invitations and reminders, and where they stand. The rules are in ``domain``, as for the survey's
settings page and its buttons."""

from __future__ import annotations

from dataclasses import fields

from pydantic import BaseModel, ConfigDict, Field

from services.survey.api import api, survey_or_404
from services.survey.mailings import domain
from services.survey.mailings.rendering import PLACEHOLDERS
from services.survey.participants.domain import normalise_email, status_counts
from services.survey.results.api import JobOut, job_out
from services.survey.surveys.domain import SurveyStateError
from shared.api.blueprint import current_key, json_response
from shared.api.problems import FieldError, field_problem, problem
from shared.models import ApiScope, MailKind
from shared.web import db_session

TAG = "Invitations and reminders"


class SurveyPath(BaseModel):
    survey_id: int = Field(ge=1, le=2**31 - 1)


class MailingsOut(BaseModel):
    not_invited: int = Field(description="Whom an invitation call would mail now.")
    reminders_due: int = Field(description="Whom a reminder call would mail now.")
    participants: dict[str, int] = Field(description="Participants per status.")


_TEXT_HELP = "Plain text; placeholders in braces: " + ", ".join(f"`{{{name}}}`" for name in PLACEHOLDERS) + "."


class MailSettingsOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    invitation_subject: str
    invitation_text: str = Field(description=_TEXT_HELP)
    reminder_subject: str
    reminder_text: str = Field(description=_TEXT_HELP)
    contact_name: str
    contact_email: str
    contact_phone: str
    max_reminders: int = Field(description="Reminders a person gets at most (the reminder call's limit).")
    reminder_interval_days: int = Field(description="Days between a person's mails before a reminder call mails them.")
    reminder_days: list[int] = Field(description="Automatic reminders: days after the invitation, e.g. [7, 14].")
    reminder_time: str = Field(description="The time of day automatic reminders go out (HH:MM, Swedish time).")
    reminder_weekdays_only: bool
    reminders_paused: bool = Field(description="No automatic reminders while true.")


class MailSettingsIn(BaseModel):
    """What to change; a field left out stays as it is."""

    invitation_subject: str | None = Field(None, max_length=300)
    invitation_text: str | None = Field(None, max_length=20_000, description=_TEXT_HELP)
    reminder_subject: str | None = Field(None, max_length=300)
    reminder_text: str | None = Field(None, max_length=20_000, description=_TEXT_HELP)
    contact_name: str | None = Field(None, max_length=200)
    contact_email: str | None = Field(None, max_length=320, description='An address, or "" for none.')
    contact_phone: str | None = Field(None, max_length=40)
    max_reminders: int | None = Field(None, ge=0, le=10)
    reminder_interval_days: int | None = Field(None, ge=1, le=90)
    reminder_days: list[int] | None = Field(None, max_length=5, description="Ascending, each 1–90; [] for none.")
    reminder_time: str | None = Field(None, max_length=5, description="HH:MM")
    reminder_weekdays_only: bool | None = None
    reminders_paused: bool | None = None


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


@api.operation(
    "GET",
    "/surveys/<int:survey_id>/mail-settings",
    scope=ApiScope.SURVEY_READ,
    tag=TAG,
    summary="Mail texts, contact person and reminder rules",
    responses={200: MailSettingsOut},
)
def mail_settings(path: SurveyPath):
    """As the survey's page "Mejltexter, kontaktperson, påminnelser och stängningsdatum" shows them."""
    return json_response(MailSettingsOut.model_validate(survey_or_404(path.survey_id)))


@api.operation(
    "PATCH",
    "/surveys/<int:survey_id>/mail-settings",
    scope=ApiScope.SURVEY_WRITE,
    tag=TAG,
    summary="Change mail texts, contact person or reminder rules",
    responses={200: MailSettingsOut},
)
def update_mail_settings(path: SurveyPath, body: MailSettingsIn):
    """The settings page's checks: a text must not be empty nor use an unknown placeholder, a subject
    holds no line break; every error is listed with its field (422) and nothing is changed then."""
    s = db_session()
    survey = survey_or_404(path.survey_id)
    given = body.model_dump(exclude_unset=True, exclude_none=True)
    # Stored as the settings page stores them (see ``forms.read_settings``).
    for name in ("contact_name", "contact_email"):
        if name in given:
            given[name] = given[name].strip()
    if "contact_phone" in given:
        given["contact_phone"] = " ".join(given["contact_phone"].split())
    if given.get("contact_email"):
        try:
            given["contact_email"] = normalise_email(given["contact_email"])
        except ValueError as exc:
            return field_problem("body.contact_email", str(exc))
    texts = domain.MailTexts(**{f.name: given.get(f.name, getattr(survey, f.name)) for f in fields(domain.MailTexts)})
    errors = domain.save_mail_texts(s, survey, texts)
    if errors:
        s.rollback()
        return problem(
            422,
            "The settings have errors; nothing was changed.",
            errors=[FieldError(field=f"body.{name}", message=message) for name, message in errors.items()],
        )
    if "reminders_paused" in given:
        survey.reminders_paused = given["reminders_paused"]
    s.commit()
    return json_response(MailSettingsOut.model_validate(survey))
