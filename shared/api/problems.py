"""Errors as ``application/problem+json`` (RFC 9457): a status, a title, a sentence for the person
reading, and for invalid input one entry per field."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from flask import Response
from pydantic import BaseModel, Field, ValidationError

PROBLEM_TYPE = "application/problem+json"


class FieldError(BaseModel):
    field: str = Field(description="Where the error is: `body.email`, `query.limit`, `path.list_id` …")
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str = ""
    errors: list[FieldError] = Field(default_factory=list)


def problem(
    status: int,
    detail: str = "",
    *,
    errors: Sequence[FieldError] = (),
    headers: Mapping[str, str] | None = None,
) -> Response:
    body = Problem(title=HTTPStatus(status).phrase, status=status, detail=detail, errors=list(errors))
    response = Response(body.model_dump_json(), status=status, mimetype=PROBLEM_TYPE)
    response.headers.update(headers or {})
    return response


def field_problem(field: str, message: str, status: int = 422) -> Response:
    """One field's error (a domain rule the request broke)."""
    return problem(status, message, errors=[FieldError(field=field, message=message)])


def _where(location: Sequence[Any], part: str) -> str:
    return ".".join([part, *(str(x) for x in location)]) if location else part


def validation_problem(exc: ValidationError) -> Response:
    """flask-openapi3's callback for input that does not match the operation's models."""
    from flask import request

    # flask-openapi3 validates path, query and body in that order and stops at the first that fails;
    # the model's title names which one.
    title = exc.title.lower()
    part = "path" if title.endswith("path") else "query" if title.endswith("query") else "body"
    if request.get_data() and part == "body" and request.get_json(silent=True) is None:
        return field_problem("body", "The body is not valid JSON.")
    errors = [
        FieldError(field=_where(error["loc"], part), message=error["msg"])
        for error in exc.errors(include_url=False, include_context=False, include_input=False)
    ]
    return problem(422, "The request does not match the operation's schema.", errors=errors)


def problem_schema() -> dict[str, Any]:
    """The OpenAPI schema every error response refers to."""
    schema: dict[str, Any] = json.loads(
        json.dumps(Problem.model_json_schema(ref_template="#/components/schemas/{model}"))
    )
    return schema
