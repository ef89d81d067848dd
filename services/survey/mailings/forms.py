"""The mail settings form read into plain values: texts, contact, reminder rules, closing date."""

from __future__ import annotations

import re

from flask_babel import gettext as _

from services.survey.mailings.domain import MailTexts
from services.survey.participants.domain import normalise_email
from services.survey.surveys.definitions import parse_moment_text
from shared.models import Survey


def clock_time(text: str) -> str:
    """ "9.30" or "9:30" → "09:30"; anything else as typed, for the check to refuse."""
    match = re.fullmatch(r"(\d{1,2})[:.](\d{2})", text.strip())
    return f"{int(match.group(1)):02d}:{match.group(2)}" if match else text.strip()


def read_settings(form, survey: Survey) -> tuple[MailTexts, str, dict[str, str]]:
    """The posted settings as (texts and rules, closing date or "", errors per field for what the
    form itself gets wrong: a number that is not one, an address, a date). The rest is checked on save."""
    errors: dict[str, str] = {}

    def number(name: str, current: int) -> int:
        try:
            return int(form.get(name, current))
        except ValueError:
            errors[name] = _("Ange ett heltal.")
            return current

    def days(name: str) -> list[int]:
        """ "7, 14" → [7, 14]."""
        parts = [part for part in re.split(r"[,;\s]+", form.get(name, "")) if part]
        if not all(part.isdigit() and len(part) < 4 for part in parts):
            errors[name] = _("Ange antal dagar som heltal, t.ex. 7, 14.")
            return list(survey.reminder_days)
        return [int(part) for part in parts]

    texts = MailTexts(
        invitation_subject=form.get("invitation_subject", ""),
        invitation_text=form.get("invitation_text", "").replace("\r\n", "\n"),
        reminder_subject=form.get("reminder_subject", ""),
        reminder_text=form.get("reminder_text", "").replace("\r\n", "\n"),
        contact_name=form.get("contact_name", "").strip()[:200],
        contact_email=form.get("contact_email", "").strip()[:320],
        contact_phone=" ".join(form.get("contact_phone", "").split())[:40],
        max_reminders=number("max_reminders", survey.max_reminders),
        reminder_interval_days=number("reminder_interval_days", survey.reminder_interval_days),
        reminder_days=days("reminder_days"),
        reminder_time=clock_time(form.get("reminder_time", "09:00")),
        reminder_weekdays_only=form.get("reminder_weekdays_only") == "on",
    )
    if texts.contact_email:
        try:
            texts.contact_email = normalise_email(texts.contact_email)
        except ValueError as exc:
            errors["contact_email"] = str(exc)
    closes = form.get("closes", "").strip()
    if closes:
        try:
            parse_moment_text(closes)
        except ValueError:
            errors["closes"] = _("Skriv datumet som ÅÅÅÅ-MM-DD.")
    return texts, closes, errors
