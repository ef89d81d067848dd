"""API operations on lists, subscribers and subscriptions; the rules are in ``domain``, ``people``
and ``gdpr``, as for the pages."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Literal

from flask import abort, url_for
from flask_openapi3 import FileStorage
from pydantic import BaseModel, ConfigDict, Field
from werkzeug.datastructures import FileStorage as Upload

from services.mailer.api import api
from services.mailer.lists.domain import ListError, ListFields, save_list
from services.mailer.subscriptions import domain, gdpr, jobs, people
from services.mailer.subscriptions.csvio import import_subscribers, read_subscriber_csv
from shared.api.blueprint import Page, current_key, cursor_after, json_response, next_cursor
from shared.api.problems import field_problem
from shared.models import (
    ApiScope,
    Job,
    JobKind,
    JobStatus,
    NewsletterList,
    Subscriber,
    Subscription,
    SubscriptionStatus,
)
from shared.web import db_session, services
from shared.web.limits import body_limit

READ, WRITE = ApiScope.MAILER_READ, ApiScope.MAILER_WRITE
IMPORT_BYTES = 20 * 1024 * 1024  # as the admin's Importera CSV (the app's MAX_CONTENT_LENGTH)
ORM = ConfigDict(from_attributes=True)


# -- models ------------------------------------------------------------------------------------


class ListOut(BaseModel):
    model_config = ORM
    id: int
    slug: str
    name: str
    description: str
    language: str
    created_at: datetime


class ListsOut(BaseModel):
    items: list[ListOut]


class ListIn(BaseModel):
    slug: str = Field(min_length=1, max_length=64, description="Used in the address /subscribe/<slug>: a–z, 0–9, -.")
    name: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=5000)
    language: Literal["sv", "en"] = "sv"


class ListPath(BaseModel):
    list_id: int = Field(ge=1, le=2**31 - 1)


class SubscriptionOut(BaseModel):
    model_config = ORM
    id: int
    list_id: int
    subscriber_id: int
    status: SubscriptionStatus
    requested_at: datetime
    confirmed_at: datetime | None
    unsubscribed_at: datetime | None
    consent_method: str
    consent_text_version: str


class SubscriberOut(BaseModel):
    model_config = ORM
    id: int
    email: str
    name: str
    language: str
    created_at: datetime
    subscriptions: list[SubscriptionOut]


class SubscribersOut(BaseModel):
    items: list[SubscriberOut]
    next_cursor: str | None


class SubscribersQuery(Page):
    q: str = Field("", max_length=320, description="A part of the address or the name.")
    status: SubscriptionStatus | None = Field(None, description="Only people with a subscription in this status.")
    list_id: int | None = Field(None, ge=1, le=2**31 - 1, description="Only people with a subscription to this list.")


class SubscriberPath(BaseModel):
    subscriber_id: int = Field(ge=1, le=2**31 - 1)


class SubscriberChange(BaseModel):
    name: str | None = Field(None, max_length=200)
    language: Literal["sv", "en"] | None = None


class SubscribeIn(BaseModel):
    email: str = Field(min_length=1, max_length=320)
    name: str = Field("", max_length=200)
    list: str | None = Field(None, max_length=64, description="The list's slug; the default list if left out.")
    consent_given_elsewhere: bool = Field(
        False,
        description="true only when you hold the person's consent from elsewhere: the subscription is active at "
        "once, recorded as consent method `import` with the key's name. Otherwise a confirmation mail is sent "
        "(double opt-in) and the subscription waits for it.",
    )


class SubscribeOut(BaseModel):
    outcome: str = Field(
        description="confirmation_sent, already_subscribed_sent, address_limited, suppressed (nothing stored or "
        "sent), activated (consent given elsewhere) or already_on_list."
    )
    subscription: SubscriptionOut | None


class SubscriptionPath(BaseModel):
    subscription_id: int = Field(ge=1, le=2**31 - 1)


class ErasedOut(BaseModel):
    erased: bool
    suppressed: bool = Field(description="The address stays on the suppression list, so nothing reaches it again.")


class PersonalDataOut(BaseModel):
    model_config = ConfigDict(extra="allow")


class ImportForm(BaseModel):
    file: FileStorage = Field(
        description="The CSV file, read as the admin's Importera CSV reads it: a column `e-post` (or `email`), "
        "optionally `namn` (`name`); every other column is stored as an attribute. UTF-8 or Windows-1252, "
        "comma or semicolon. At most 20 MB."
    )
    list: str | None = Field(None, max_length=64, description="The list's slug; the default list if left out.")
    consent_given_elsewhere: bool = Field(
        False,
        description="true only when you hold every person's consent from elsewhere: new people are active at "
        "once (consent method `import`, the key's name in the history). Otherwise each new person gets a "
        "confirmation mail and waits for it.",
    )
    language: Literal["sv", "en"] = Field("sv", description="The language of the report's texts.")


class ImportPath(BaseModel):
    import_id: int = Field(ge=1, le=2**31 - 1)


class ImportLineOut(BaseModel):
    line: int
    value: str
    message: str = Field(description="Why the line was not imported: invalid, skipped or merged with another line.")


class ImportReportOut(BaseModel):
    summary: list[str] = Field(description="Imported, skipped, merged and invalid, counted.")
    lines: list[ImportLineOut] = Field(
        description="The lines not imported, by line number (the first 1,000 of each kind)."
    )


class ImportOut(BaseModel):
    id: int
    status: JobStatus
    list_id: int
    consent_given_elsewhere: bool
    done: int
    total: int | None
    percent: int
    error: str = Field(description="Why a failed import failed (a file without an address column …).")
    created_at: datetime
    finished_at: datetime | None
    url: str = Field(description="This import: follow it until `status` is `done` (or `failed`).")
    report: ImportReportOut | None = Field(description="When done: what became of each line.")


def _import_out(job: Job) -> ImportOut:
    report = None
    if job.status == JobStatus.DONE:
        found = job.report or {}
        report = ImportReportOut(
            summary=found.get("summary", []),
            lines=[ImportLineOut.model_validate(p) for p in found.get("problems", [])],
        )
    return ImportOut(
        id=job.id,
        status=job.status,
        list_id=job.params["list_id"],
        consent_given_elsewhere=job.params["consented"],
        done=job.done,
        total=job.total,
        percent=job.percent,
        error=job.error,
        created_at=job.created_at,
        finished_at=job.finished_at,
        url=url_for("api_mailer.get_import", import_id=job.id, _external=True),
        report=report,
    )


def _list(list_id: int) -> NewsletterList:
    found = db_session().get(NewsletterList, list_id)
    if found is None:
        abort(404)
    return found


def _subscriber(subscriber_id: int) -> Subscriber:
    found = db_session().get(Subscriber, subscriber_id)
    if found is None:
        abort(404)
    return found


def _editor() -> str:
    """How the history names the API caller: the key, not a person's address."""
    key = current_key()
    return f"API key {key.id} ({key.name})"


# -- lists -------------------------------------------------------------------------------------


@api.operation("GET", "/lists", scope=READ, tag="Lists", summary="All lists", responses={200: ListsOut})
def lists():
    """Every newsletter list, by name."""
    return json_response(ListsOut(items=[ListOut.model_validate(x) for x in domain.all_lists(db_session())]))


@api.operation("POST", "/lists", scope=WRITE, tag="Lists", summary="Create a list", responses={201: ListOut})
def create_list(body: ListIn):
    """A new list with its own subscribe page."""
    s = db_session()
    fields = ListFields(slug=body.slug, name=body.name, description=body.description.strip(), language=body.language)
    try:
        created = save_list(s, fields)  # the rules of the admin's Listor page
    except ListError as exc:
        return field_problem(f"body.{exc.field or 'slug'}", str(exc), 409 if exc.taken else 422)
    s.commit()
    return json_response(ListOut.model_validate(created), 201)


@api.operation("GET", "/lists/<int:list_id>", scope=READ, tag="Lists", summary="One list", responses={200: ListOut})
def get_list(path: ListPath):
    return json_response(ListOut.model_validate(_list(path.list_id)))


# -- imports -------------------------------------------------------------------------------------


@api.operation(
    "POST",
    "/imports",
    scope=WRITE,
    tag="Imports",
    summary="Import subscribers from a CSV file",
    responses={202: ImportOut},
    sends_mail=True,
)
@body_limit(IMPORT_BYTES)
def create_import(form: ImportForm):
    """The admin's Importera CSV as a job (`multipart/form-data`): the worker imports the file in batches
    and mails the confirmations; follow `url` for the progress and, when done, the line-numbered report.
    A file without an address column is refused at once (422)."""
    s = db_session()
    newsletter_list = domain.find_list(s, form.list)
    if newsletter_list is None:
        return field_problem("body.list", "No list with this slug.", 404)
    data = form.file.read() if isinstance(form.file, Upload) else b""
    if not data:
        return field_problem("body.file", "Send the CSV file as the multipart field `file`.")
    problem = jobs.file_error(read_subscriber_csv(data))
    if problem:
        return field_problem("body.file", problem)
    key = current_key()
    job = jobs.start_import(
        s,
        newsletter_list,
        data,
        filename=form.file.filename or "",
        consented=form.consent_given_elsewhere,
        editor=key.account,
        return_path="",
        history_name=_editor(),
        language=form.language,
    )
    s.commit()
    out = _import_out(job)
    return json_response(out, 202, headers={"Location": out.url})


@api.operation(
    "GET",
    "/imports/<int:import_id>",
    scope=READ,
    tag="Imports",
    summary="An import's progress and report",
    responses={200: ImportOut},
)
def get_import(path: ImportPath):
    """Visible only to keys of the account that started it."""
    job = db_session().get(Job, path.import_id)
    if job is None or job.kind != JobKind.SUBSCRIBER_IMPORT or job.created_by != current_key().account_id:
        abort(404)
    return json_response(_import_out(job))


# -- subscriptions -------------------------------------------------------------------------------


@api.operation(
    "POST",
    "/subscriptions",
    scope=WRITE,
    tag="Subscriptions",
    summary="Subscribe an address",
    responses={202: SubscribeOut},
    sends_mail=True,
)
def subscribe(body: SubscribeIn):
    """Starts the same double opt-in as the subscribe page (a confirmation mail; the subscription is
    active when the person confirms), unless `consent_given_elsewhere` is true."""
    s, svc = db_session(), services()
    newsletter_list = domain.find_list(s, body.list)
    if newsletter_list is None:
        return field_problem("body.list", "No list with this slug.", 404)
    try:
        email = domain.normalise_email(body.email)
    except domain.InvalidAddress as exc:
        return field_problem("body.email", str(exc))
    if body.consent_given_elsewhere:
        # The import's rules, for a file of one line: suppressed and already-listed people are left out.
        one_line = io.StringIO()
        csv.writer(one_line).writerows([("email", "name"), (email, body.name.strip())])
        report = import_subscribers(
            s,
            svc.config,
            svc.tokens,
            newsletter_list,
            read_subscriber_csv(one_line.getvalue().encode()),
            consented=True,
            editor=_editor(),
        )
        outcome = "activated" if report.imported else "already_on_list"
        if report.skipped and report.skipped[0].reason == "suppressed":
            outcome = "suppressed"
    else:
        outcome = domain.request_subscription(
            s, svc.config, svc.tokens, newsletter_list, email, body.name, source_url=f"API ({_editor()})"
        )
    subscriber = domain.find_subscriber(s, email)
    subscription = domain.find_subscription(s, newsletter_list.id, subscriber.id) if subscriber else None
    out = SubscribeOut(
        outcome=outcome, subscription=SubscriptionOut.model_validate(subscription) if subscription else None
    )
    s.commit()
    return json_response(out, 202)


@api.operation(
    "GET",
    "/subscriptions/<int:subscription_id>",
    scope=READ,
    tag="Subscriptions",
    summary="One subscription",
    responses={200: SubscriptionOut},
)
def get_subscription(path: SubscriptionPath):
    found = db_session().get(Subscription, path.subscription_id)
    if found is None:
        abort(404)
    return json_response(SubscriptionOut.model_validate(found))


@api.operation(
    "POST",
    "/subscriptions/<int:subscription_id>/stop",
    scope=WRITE,
    tag="Subscriptions",
    summary="Stop a subscription",
    responses={200: SubscriptionOut},
)
def stop_subscription(path: SubscriptionPath):
    """As the person's stop link does; stopping twice is harmless."""
    s = db_session()
    found = s.get(Subscription, path.subscription_id)
    if found is None:
        abort(404)
    domain.stop_subscription(s, found, detail=f"api: {_editor()}")
    s.commit()
    return json_response(SubscriptionOut.model_validate(found))


# -- subscribers --------------------------------------------------------------------------------


@api.operation(
    "GET", "/subscribers", scope=READ, tag="Subscribers", summary="Search subscribers", responses={200: SubscribersOut}
)
def subscribers(query: SubscribersQuery):
    """People in the register with their subscriptions, in id order, a page at a time."""
    found = people.subscribers_after(
        db_session(),
        after=cursor_after(query.cursor),
        limit=query.limit + 1,
        query=query.q,
        status=query.status,
        list_id=query.list_id,
    )
    return json_response(
        SubscribersOut(
            items=[SubscriberOut.model_validate(x) for x in found[: query.limit]],
            next_cursor=next_cursor([x.id for x in found], query.limit),
        )
    )


@api.operation(
    "GET",
    "/subscribers/<int:subscriber_id>",
    scope=READ,
    tag="Subscribers",
    summary="One subscriber",
    responses={200: SubscriberOut},
)
def get_subscriber(path: SubscriberPath):
    return json_response(SubscriberOut.model_validate(_subscriber(path.subscriber_id)))


@api.operation(
    "PATCH",
    "/subscribers/<int:subscriber_id>",
    scope=WRITE,
    tag="Subscribers",
    summary="Change name or language",
    responses={200: SubscriberOut},
)
def update_subscriber(path: SubscriberPath, body: SubscriberChange):
    s = db_session()
    subscriber = _subscriber(path.subscriber_id)
    people.update_subscriber(subscriber, name=body.name, language=body.language)
    s.commit()
    return json_response(SubscriberOut.model_validate(subscriber))


@api.operation(
    "GET",
    "/subscribers/<int:subscriber_id>/personal-data",
    scope=READ,
    tag="Subscribers",
    summary="GDPR export of one person",
    responses={200: PersonalDataOut},
)
def personal_data(path: SubscriberPath):
    """Everything held on the person: the same JSON as the admin's "Exportera personens uppgifter"."""
    data = gdpr.personal_data(db_session(), path.subscriber_id)
    if data is None:
        abort(404)
    return json_response(PersonalDataOut.model_validate(data))


@api.operation(
    "DELETE",
    "/subscribers/<int:subscriber_id>",
    scope=WRITE,
    tag="Subscribers",
    summary="Erase a person (GDPR)",
    responses={200: ErasedOut},
)
def erase_subscriber(path: SubscriberPath):
    """Deletes the person, their subscriptions and history, blanks their mails, and keeps the address on
    the suppression list (reason erasure)."""
    s = db_session()
    erased = gdpr.erase_subscriber(s, path.subscriber_id, editor=_editor())
    if erased is None:
        abort(404)
    s.commit()
    return json_response(ErasedOut(erased=True, suppressed=True))
