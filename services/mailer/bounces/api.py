"""API operations on the suppression list (addresses nothing is sent to); rules in ``domain``."""

from __future__ import annotations

from datetime import datetime

from flask import abort
from pydantic import BaseModel, ConfigDict, Field

from services.mailer.api import api
from services.mailer.bounces import domain
from services.mailer.subscriptions.domain import InvalidAddress, normalise_email
from shared.api.blueprint import Page, cursor_after, json_response, next_cursor
from shared.api.problems import field_problem
from shared.models import ApiScope, Suppression, SuppressionReason
from shared.web import db_session

TAG = "Suppressions"


class SuppressionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    email: str
    reason: SuppressionReason
    detail: str
    created_at: datetime


class SuppressionsOut(BaseModel):
    items: list[SuppressionOut]
    next_cursor: str | None


class SuppressionsQuery(Page):
    q: str = Field("", max_length=320, description="A part of the address.")


class SuppressionIn(BaseModel):
    email: str = Field(min_length=1, max_length=320)
    detail: str = Field("", max_length=2000)


class SuppressionPath(BaseModel):
    suppression_id: int = Field(ge=1, le=2**31 - 1)


class LiftedOut(BaseModel):
    email: str


@api.operation(
    "GET",
    "/suppressions",
    scope=ApiScope.MAILER_READ,
    tag=TAG,
    summary="Suppressed addresses",
    responses={200: SuppressionsOut},
)
def suppressions(query: SuppressionsQuery):
    found = domain.suppressions_after(db_session(), cursor_after(query.cursor), query.limit + 1, query.q)
    return json_response(
        SuppressionsOut(
            items=[SuppressionOut.model_validate(x) for x in found[: query.limit]],
            next_cursor=next_cursor([x.id for x in found], query.limit),
        )
    )


@api.operation(
    "POST",
    "/suppressions",
    scope=ApiScope.MAILER_WRITE,
    tag=TAG,
    summary="Suppress an address",
    responses={201: SuppressionOut, 200: SuppressionOut},
)
def suppress(body: SuppressionIn):
    """Nothing is sent to the address any more (reason `manual`); 200 if it already was suppressed."""
    s = db_session()
    try:
        email = normalise_email(body.email)
    except InvalidAddress as exc:
        return field_problem("body.email", str(exc))
    added = domain.suppress(s, email, SuppressionReason.MANUAL, body.detail)
    s.commit()
    row = domain.find_suppression(s, email)
    return json_response(SuppressionOut.model_validate(row), 201 if added else 200)


@api.operation(
    "DELETE",
    "/suppressions/<int:suppression_id>",
    scope=ApiScope.MAILER_WRITE,
    tag=TAG,
    summary="Lift a suppression",
    responses={200: LiftedOut},
)
def lift(path: SuppressionPath):
    s = db_session()
    if s.get(Suppression, path.suppression_id) is None:
        abort(404)
    address = domain.lift_suppression(s, path.suppression_id)
    s.commit()
    return json_response(LiftedOut(email=address or ""))
