"""Languages and local time: the one list of languages the services speak, and how every time is
shown (Swedish time, the same format everywhere; the database keeps UTC)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError

LANGUAGES = ("sv", "en")
DEFAULT_LANGUAGE = "sv"
LOCAL_ZONE = ZoneInfo("Europe/Stockholm")

Precision = Literal["minute", "day"]
FORMATS: dict[Precision, str] = {"minute": "%Y-%m-%d %H:%M", "day": "%Y-%m-%d"}


def language_or_default(language: str | None) -> str:
    """``language`` when the services speak it, Swedish otherwise."""
    return language if language in LANGUAGES else DEFAULT_LANGUAGE


def language_name(code: str, in_language: str = DEFAULT_LANGUAGE) -> str:
    """A language code as users say it: ``en`` is ``engelska`` on a Swedish page; the code if unknown."""
    try:
        return Locale.parse(code).get_display_name(in_language) or code
    except (ValueError, TypeError, UnknownLocaleError):
        return code


def to_local(moment: datetime) -> datetime:
    """An aware UTC time as Swedish time (summer time included)."""
    return moment.astimezone(LOCAL_ZONE)


def local_time(moment: datetime | date | None, precision: Precision = "minute") -> str:
    """A stored time as users read it: ``2026-12-01 15:02`` in Swedish time; empty for None.

    A plain date is a calendar day already and is shown as it is.
    """
    if moment is None:
        return ""
    if isinstance(moment, datetime):
        moment = to_local(moment)
    return moment.strftime(FORMATS[precision])
