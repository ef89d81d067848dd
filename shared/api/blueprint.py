"""The frame of both services' HTTP APIs under ``/api/v1``: Bearer keys with scopes, rate limits per
key with ``RateLimit`` headers, errors as problem+json, cursor pagination, ``Idempotency-Key`` on
calls that send mail, and the OpenAPI 3.1 document with a reference page, both served here.

Requests are validated by flask-openapi3 from pydantic models, and the same models make the
document, so the reference cannot drift from what the code accepts.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable, Sequence
from datetime import timedelta
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from flask import Flask, Response, current_app, g, render_template, request
from flask.typing import ResponseReturnValue
from flask_openapi3 import APIBlueprint
from flask_openapi3.models import APISpec, Components, Info, Tag
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from shared import ratelimit
from shared.api.keys import usable_key
from shared.api.problems import FieldError, field_problem, problem, problem_schema, validation_problem
from shared.clock import utcnow
from shared.models import ApiKey, ApiScope, IdempotentCall
from shared.web import csrf, db_session, services

API_PREFIX = "/api/v1"
RATE_WINDOW = timedelta(minutes=1)
MAX_IDEMPOTENCY_KEY = 255
MAX_JSON_DEPTH = 32  # a survey definition, the deepest body, nests about 8 levels
# Statuses any operation may answer with, each as problem+json.
ERROR_STATUSES = (400, 401, 403, 404, 405, 409, 413, 422, 429)
P = ParamSpec("P")
R = TypeVar("R")
M = TypeVar("M", bound=BaseModel)


class Page(BaseModel):
    """The query of a list: how many, and where the previous page ended."""

    limit: int = Field(50, ge=1, le=200, description="How many items at most (1–200).")
    cursor: str | None = Field(None, max_length=40, description="`next_cursor` from the previous page.")


def cursor_after(cursor: str | None) -> int:
    """The id the page starts after (0 for the first page); a cursor we did not make is a 422."""
    if not cursor:
        return 0
    try:
        value = int(base64.urlsafe_b64decode(cursor.encode("ascii") + b"==").decode("ascii"))
    except (ValueError, UnicodeError, binascii.Error):
        value = -1
    if value < 0:
        from flask import abort

        abort(field_problem("query.cursor", "Unknown cursor: use next_cursor from the previous page."))
    return value


def next_cursor(ids: Sequence[int], limit: int) -> str | None:
    """The cursor after a page fetched with ``limit + 1`` rows; None on the last page."""
    if len(ids) <= limit:
        return None
    return base64.urlsafe_b64encode(str(ids[limit - 1]).encode("ascii")).decode("ascii").rstrip("=")


def json_response(model: BaseModel, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """An operation's answer, serialised by the model the document describes."""
    response = Response(model.model_dump_json(), status=status, mimetype="application/json")
    response.headers.update(headers or {})
    return response


def current_key() -> ApiKey:
    """The key the request came with (the blueprint has checked it before any operation runs)."""
    key: ApiKey = g.api_key
    return key


class Api:
    """One service's API: a flask-openapi3 blueprint, and the scope each of its operations needs."""

    def __init__(self, service: str, title: str, description: str):
        self.service = service
        self.title = title
        self.description = description
        self.blueprint = APIBlueprint(
            f"api_{service}",
            __name__,
            url_prefix=API_PREFIX,
            abp_security=[{"bearer": []}],
            operation_id_callback=lambda *, name, path, method: name,
        )
        self.scopes: dict[str, ApiScope] = {}
        self.mail_sending: set[str] = set()  # operation ids that take an Idempotency-Key
        csrf.exempt(self.blueprint)  # no cookies: a Bearer key cannot be sent by another site's form
        self.blueprint.before_request(self._authenticate)
        self.blueprint.after_request(self._rate_headers)
        self.blueprint.add_url_rule("/openapi.json", "openapi", self._openapi)
        self.blueprint.add_url_rule("/docs", "reference", self._reference)

    def operation(
        self,
        method: str,
        rule: str,
        *,
        scope: ApiScope,
        tag: str,
        summary: str,
        responses: dict[int, type[BaseModel] | None],
        sends_mail: bool = False,
        description: str | None = None,
    ) -> Callable[[Callable[P, ResponseReturnValue]], Callable[P, ResponseReturnValue]]:
        """Register a view as an operation needing ``scope``; ``sends_mail`` makes it idempotent per key."""

        def register(view: Callable[P, ResponseReturnValue]) -> Callable[P, ResponseReturnValue]:
            self.scopes[f"{self.blueprint.name}.{view.__name__}"] = scope
            wrapped = view
            if sends_mail:
                self.mail_sending.add(view.__name__)
                wrapped = _idempotent(view)
            add = getattr(self.blueprint, method.lower())
            add(
                rule,
                tags=[Tag(name=tag)],
                summary=summary,
                description=(description or view.__doc__ or "").strip() + f"\n\nScope: `{scope.value}`.",
                responses={str(code): model for code, model in responses.items()},
            )(wrapped)
            return view

        return register

    # -- every request ------------------------------------------------------------------------

    def _authenticate(self) -> Response | None:
        if request.endpoint not in self.scopes:
            return None  # the document, the reference page, or a 404/405 answered as a problem
        header = request.headers.get("Authorization", "")
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != "bearer" or not raw.strip():
            return problem(401, "Send an API key: Authorization: Bearer <key>.", headers={"WWW-Authenticate": "Bearer"})
        session, now = db_session(), utcnow()
        key = usable_key(session, raw.strip(), self.service, now)
        if key is None:
            return problem(
                401,
                "The API key is unknown, revoked or expired, or its account may not use this service.",
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        needed = self.scopes[request.endpoint]
        if not key.allows(needed):
            return problem(
                403,
                f"The API key lacks the scope {needed.value}.",
                headers={"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{needed.value}"'},
            )
        limit = services().config.api_requests_per_minute
        verdict = ratelimit.take(session, f"api-key:{key.id}", limit, RATE_WINDOW, now)
        key.last_used_at = now
        session.commit()  # the count and the last use stand whatever the call itself comes to
        g.rate_headers = {
            "RateLimit-Policy": f'"per-key";q={limit};w={int(RATE_WINDOW.total_seconds())}',
            "RateLimit": f'"per-key";r={max(0, limit - verdict.used)};t={verdict.reset_after}',
        }
        if not verdict.allowed:
            return problem(
                429,
                f"More than {limit} calls a minute with this key. Try again in {verdict.retry_after} s.",
                headers={"Retry-After": str(verdict.retry_after), **g.rate_headers},
            )
        g.api_key = key
        return _body_problem()

    def _rate_headers(self, response: Response) -> Response:
        response.headers.update(g.get("rate_headers", {}))
        return response

    # -- the document ---------------------------------------------------------------------------

    def document(self, server_url: str) -> dict[str, Any]:
        """The OpenAPI 3.1 document, made from the operations' models."""
        bp = self.blueprint
        spec = APISpec(
            openapi="3.1.0",
            info=Info(title=self.title, version="1", description=self.description),
            servers=[{"url": server_url.rstrip("/") + API_PREFIX}],  # type: ignore[list-item]
            paths=bp.paths,
            tags=bp.tags,
            components=Components(
                schemas=bp.components_schemas,
                securitySchemes={"bearer": {"type": "http", "scheme": "bearer"}},
            ),
        )
        doc: dict[str, Any] = spec.model_dump(mode="json", by_alias=True, exclude_unset=True, warnings=False)
        # Paths in the document are relative to the server, which carries the prefix.
        doc["paths"] = {path.removeprefix(API_PREFIX): item for path, item in doc["paths"].items()}
        schemas = doc["components"]["schemas"]
        problem_doc = problem_schema()
        schemas.update(problem_doc.pop("$defs", {}))
        schemas["Problem"] = problem_doc
        error = {"content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}
        for item in doc["paths"].values():
            for operation in item.values():
                for status in ERROR_STATUSES:
                    operation["responses"].setdefault(str(status), {"description": _phrase(status), **error})
                if operation["operationId"] in self.mail_sending:
                    operation.setdefault("parameters", []).append(
                        {
                            "name": "Idempotency-Key",
                            "in": "header",
                            "required": False,
                            "description": "Any unique string (a UUID): a retry with the same key gets the "
                            "first answer again and sends nothing more.",
                            "schema": {"type": "string", "minLength": 1, "maxLength": MAX_IDEMPOTENCY_KEY},
                        }
                    )
        return doc

    def init_app(self, app: Flask) -> None:
        """Register the API on the service's app."""
        # flask-openapi3 calls this on the app when a request does not match the models.
        app.validation_error_callback = validation_problem  # type: ignore[attr-defined]
        app.register_blueprint(self.blueprint)

    def _document(self) -> dict[str, Any]:
        found: dict[str, Any] | None = current_app.extensions.get("api_document")
        if found is None:
            found = self.document(getattr(services().config, f"{self.service}_url"))
            current_app.extensions["api_document"] = found
        return found

    def _openapi(self) -> Response:
        return Response(json.dumps(self._document()), mimetype="application/json")

    def _reference(self) -> ResponseReturnValue:
        return render_template("api/reference.html", doc=self._document(), api=self)


def _shape(value: object) -> tuple[int, bool]:
    """How deeply a parsed JSON body nests, and whether any text in it holds a NUL character;
    walked without recursion."""
    deepest, nul, stack = 0, False, [(value, 1)]
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if level > MAX_JSON_DEPTH:
            break
        if isinstance(item, str):
            nul = nul or "\x00" in item
        elif isinstance(item, dict):
            nul = nul or any("\x00" in k for k in item)
            stack.extend((child, level + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, level + 1) for child in item)
    return deepest, nul


def _body_problem() -> Response | None:
    """A body nested deeper than any operation takes is refused before anything walks it (Python's
    JSON parser itself gives up at about a thousand levels, which 64 kB can reach); so is text with
    a NUL character, which nobody types and PostgreSQL cannot store (forms drop it, see
    ``shared.web``; a program gets told)."""
    if not request.is_json or not request.content_length:
        return None
    try:
        body = request.get_json(silent=True)
    except RecursionError:
        depth, nul = MAX_JSON_DEPTH + 1, False
    else:
        depth, nul = _shape(body)
    if depth > MAX_JSON_DEPTH:
        return problem(400, f"The JSON body nests deeper than {MAX_JSON_DEPTH} levels.")
    if nul:
        return problem(422, "Text in the body may not contain NUL characters (\\u0000).")
    return None


def _phrase(status: int) -> str:
    from http import HTTPStatus

    return HTTPStatus(status).phrase


def _fingerprint() -> str:
    digest = hashlib.sha256(f"{request.method} {request.path}\n".encode())
    digest.update(request.get_data())
    # A multipart body (a file upload) is parsed into form and files before the view, which leaves
    # get_data() empty: the fields and the files' contents stand for it.
    # A part whose name the parser could not read comes as None: sort on text so it cannot break this.
    for name, value in sorted(request.form.items(multi=True), key=lambda item: (str(item[0]), str(item[1]))):
        digest.update(f"{name}={value}\n".encode())
    for name, upload in sorted(request.files.items(multi=True), key=lambda item: str(item[0])):
        digest.update(f"{name}:{upload.filename}\n".encode())
        digest.update(upload.stream.read())
        upload.stream.seek(0)
    return digest.hexdigest()


def _replay(call: IdempotentCall, fingerprint: str) -> Response:
    if call.fingerprint != fingerprint:
        return problem(422, "This Idempotency-Key was used for another request; use a new key.")
    if call.status_code == 0:
        return problem(409, "A request with this Idempotency-Key is still running.", headers={"Retry-After": "1"})
    response = Response(call.body, status=call.status_code, mimetype="application/json")
    response.headers["Idempotent-Replayed"] = "true"
    return response


def _idempotent(view: Callable[P, ResponseReturnValue]) -> Callable[P, ResponseReturnValue]:
    """With an Idempotency-Key, the first successful answer is stored with the call and replayed to
    every retry: the call's row is written before the view runs, so a parallel retry waits on it."""

    @wraps(view)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> ResponseReturnValue:
        name = request.headers.get("Idempotency-Key")
        if name is None:
            return view(*args, **kwargs)
        if not name.strip() or len(name) > MAX_IDEMPOTENCY_KEY:
            return problem(
                400,
                "Idempotency-Key must be 1–255 characters.",
                errors=[FieldError(field="header.Idempotency-Key", message="1–255 characters")],
            )
        session, key, fingerprint = db_session(), current_key(), _fingerprint()

        def stored() -> IdempotentCall | None:
            return session.scalar(
                select(IdempotentCall).where(
                    IdempotentCall.api_key_id == key.id, IdempotentCall.idempotency_key == name
                )
            )

        found = stored()
        if found is not None:
            return _replay(found, fingerprint)
        call = IdempotentCall(api_key_id=key.id, idempotency_key=name, fingerprint=fingerprint)
        session.add(call)
        try:
            session.flush()
        except IntegrityError:
            session.rollback()
            found = stored()
            if found is None:  # the other request failed and took its row with it: let the client retry
                return problem(409, "A request with this Idempotency-Key just failed; try again.")
            return _replay(found, fingerprint)
        response = current_app.make_response(view(*args, **kwargs))
        if response.status_code < 400:
            # The view has committed its work and the call's row with it; now keep the answer.
            session.add(call)
            call.status_code, call.body = response.status_code, response.get_data(as_text=True)
            session.commit()
        else:
            session.rollback()
        return response

    return wrapped
