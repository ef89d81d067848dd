"""How much a request may send, decided before anything reads the body.

A stranger's form post is small: a subscribe form, a login, a stop-link request fit in a few
kilobytes, so anything beyond ``PUBLIC_BODY_LIMIT`` is refused (413) before a single validator runs
on it. Staff who are signed in may upload files up to the app's ``MAX_CONTENT_LENGTH``; a view that
needs another limit says so with ``@body_limit(...)`` (survey answer pages hold long texts).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Flask, current_app, request

PUBLIC_BODY_LIMIT = 64 * 1024
V = TypeVar("V", bound=Callable[..., object])


def body_limit(size: int) -> Callable[[V], V]:
    """The most a request to this view may send, form fields and files together."""

    def mark(view: V) -> V:
        view.body_limit = size  # type: ignore[attr-defined]  # read by _limit_body below
        return view

    return mark


def init_app(app: Flask) -> None:
    """Register the limit; it must run before CSRF protection, which reads the form."""

    @app.before_request
    def _limit_body() -> None:
        from shared.web.auth import current_admin

        view = current_app.view_functions.get(request.endpoint or "")
        limit: int | None = getattr(view, "body_limit", None)
        if limit is None:
            staff = request.path.startswith("/admin/") and current_admin() is not None
            limit = current_app.config["MAX_CONTENT_LENGTH"] if staff else PUBLIC_BODY_LIMIT
        request.max_content_length = limit
        # One text field may use all of it (a survey definition pasted rather than uploaded).
        request.max_form_memory_size = limit
