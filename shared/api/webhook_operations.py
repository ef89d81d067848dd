"""The webhook operations each service's API has (``/webhooks``): list, create (the secret is
shown once), remove. The rules are in ``webhooks``."""

from __future__ import annotations

from datetime import datetime

from flask import Response, abort
from pydantic import BaseModel, ConfigDict, Field

from shared.api import webhooks
from shared.api.blueprint import Api, current_key, json_response
from shared.api.destinations import Rules
from shared.api.problems import field_problem
from shared.models import ApiScope, Webhook, WebhookEvent
from shared.web import db_session, services

TAG = "Webhooks"


class WebhookOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    url: str
    events: list[str]
    response_count: int | None
    created_at: datetime
    disabled_at: datetime | None = Field(
        description="Set while the webhook is disabled (on the admin's Webhooks page)."
    )


class NewWebhookOut(WebhookOut):
    secret: str = Field(description="The HMAC-SHA256 key of `Utskick-Signature`: shown only now.")


class WebhooksOut(BaseModel):
    items: list[WebhookOut]


class WebhookIn(BaseModel):
    url: str = Field(
        min_length=1,
        max_length=2000,
        description="Where events are POSTed: https, to a public address (see WEBHOOK_ALLOW_PRIVATE).",
    )
    events: list[str] = Field(min_length=1, max_length=10)
    response_count: int | None = Field(
        None, ge=1, le=1_000_000, description="survey.responses_reached: at how many complete responses."
    )


class WebhookPath(BaseModel):
    webhook_id: int = Field(ge=1, le=2**31 - 1)


class RemovedWebhookOut(BaseModel):
    removed: bool


def add_webhook_operations(api: Api, scope: ApiScope) -> None:
    """Add ``/webhooks`` to a service's API; a key sees and removes its account's webhooks only."""
    events = ", ".join(f"`{e.value}`" for e in WebhookEvent if e.service == api.service)

    @api.operation("GET", "/webhooks", scope=scope, tag=TAG, summary="Webhooks", responses={200: WebhooksOut})
    def list_webhooks() -> Response:
        found = webhooks.webhooks_of(db_session(), current_key().account_id, api.service)
        return json_response(WebhooksOut(items=[WebhookOut.model_validate(h) for h in found]))

    @api.operation(
        "POST",
        "/webhooks",
        scope=scope,
        tag=TAG,
        summary="Add a webhook",
        responses={201: NewWebhookOut},
        description=f"Events: {events}. Each POST carries `Utskick-Event`, `Utskick-Delivery` and "
        '`Utskick-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the secret>`; '
        "answer 2xx, or it is tried again after 1, 2, 4 … minutes, 8 times in all.",
    )
    def create_webhook(body: WebhookIn) -> Response:
        s = db_session()
        account = current_key().account
        try:
            hook = webhooks.create_webhook(
                s,
                account,
                api.service,
                body.url,
                body.events,
                body.response_count,
                rules=Rules.for_config(services().config),
            )
        except webhooks.WebhookError as exc:
            return field_problem(f"body.{exc.field}", str(exc))
        s.commit()
        return json_response(NewWebhookOut.model_validate(hook), 201)

    @api.operation(
        "DELETE",
        "/webhooks/<int:webhook_id>",
        scope=scope,
        tag=TAG,
        summary="Remove a webhook",
        responses={200: RemovedWebhookOut},
    )
    def remove_webhook(path: WebhookPath) -> Response:
        s = db_session()
        hook = s.get(Webhook, path.webhook_id)
        if hook is None or hook.account_id != current_key().account_id or hook.service != api.service:
            abort(404)
        s.delete(hook)
        s.commit()
        return json_response(RemovedWebhookOut(removed=True))
