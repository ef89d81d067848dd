"""What a value in a URL path may hold, so that a strange address is a 404 and never reaches the database.

A path value with a NUL character (``/s/%00``) would reach PostgreSQL, which refuses NUL in text;
an id beyond a 32-bit integer (``/issues/2147483648``) would overflow the ``integer`` columns ids
live in. Both are refused by the URL converters, the same way as an address with no route.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from werkzeug.routing import IntegerConverter, Map, UnicodeConverter, ValidationError

from shared.models.base import MAX_ROW_ID


class RowIdConverter(IntegerConverter):
    """``<int:…>``: a whole number from 0 up to ``MAX_ROW_ID``."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ROW_ID)
        super().__init__(map, *args, **kwargs)


class _WithoutNul:
    """A text converter that refuses NUL: nobody types one, and the database cannot store it."""

    def to_python(self, value: str) -> str:
        if "\x00" in value:
            raise ValidationError()
        return value


class TextConverter(_WithoutNul, UnicodeConverter):
    """``<name>`` and ``<string:name>``: one path segment without NUL."""


def init_app(app: Flask) -> None:
    """Install the converters; call before any blueprint adds a route (a route keeps the converter it was made with)."""
    app.url_map.converters.update(int=RowIdConverter, default=TextConverter, string=TextConverter)
