"""Declarative base and column types shared by every model."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar

from flask_babel import LazyString
from sqlalchemy import DateTime, Dialect, MetaData, String, TypeDecorator
from sqlalchemy.orm import DeclarativeBase

# Named constraints so Alembic migrations are the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# The largest value of the ``integer`` columns every id lives in (PostgreSQL's int4): URLs and
# commands refuse a larger id rather than let the database fail on it.
MAX_ROW_ID = 2**31 - 1


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in UTC on every backend (SQLite drops the zone otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Vocabulary(StrEnum):
    """A status or kind stored as text, with the words users see for it (``member.label``).

    Members are strings, so they compare equal to what the database holds. Write them as
    ``DRAFT = "draft", _l("Utkast")`` so the label is found by the translation extractor.
    """

    label: LazyString

    def __new__(cls, value: str, label: LazyString | None = None) -> Vocabulary:
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label if label is not None else LazyString(lambda: value)
        return member


V = TypeVar("V", bound=Vocabulary)


class VocabularyText(TypeDecorator[V], Generic[V]):
    """A Vocabulary column: written only with known values, read back as members."""

    impl = String
    cache_ok = True

    def __init__(self, vocabulary: type[V], length: int = 32):
        super().__init__(length)
        self.vocabulary = vocabulary
        self.length = length  # what a migration writes (self.impl is typed as the class, not the instance)

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else self.vocabulary(value).value

    def process_result_value(self, value: Any, dialect: Dialect) -> V | None:
        return None if value is None else self.vocabulary(value)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime}
