"""Personal fields in an issue: ``{{ förnamn }}`` and ``{{ namn }}``, with a fallback
(``{{ förnamn | default('du') }}``), in the subject and the body.

The issue is rendered once; each field becomes a marker (plain ASCII letters and digits, so it
survives Markdown, sanitising and CSS inlining) that carries the field and its fallback. Each mail
then replaces the markers with the recipient's values (see ``services.mailer.delivery.compose``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import gettext as _
from markupsafe import escape

# The fields, as editors write them, and the code each has in a marker.
FIELDS = {"förnamn": "FN", "namn": "NM"}
_CODES = {code: name for name, code in FIELDS.items()}

# Anything between double braces is meant as a field: unknown ones are refused, not sent literally.
_EXPRESSION = re.compile(r"\{\{(.*?)\}\}", re.S)
_FIELD = re.compile(
    r"""^\s*(?P<name>[^\W\d]\w*)\s*(?:\|\s*default\s*\(\s*(?P<q>['"])(?P<default>[^'"{}]*)(?P=q)\s*\)\s*)?$"""
)
MARKER = re.compile(r"UTSKICKP(FN|NM)([0-9a-f]*)Q")
MAX_DEFAULT = 100


class FieldError(ValueError):
    """A ``{{ … }}`` that is not a known personal field; ``str(exc)`` is the message for the editor."""


@dataclass(frozen=True)
class Person:
    """What the fields are filled from."""

    name: str = ""

    @property
    def first_name(self) -> str:
        parts = self.name.split()
        return parts[0] if parts else ""


def _marker(field: str, default: str) -> str:
    return f"UTSKICKP{FIELDS[field]}{default.encode('utf-8').hex()}Q"


def _replace(match: re.Match[str]) -> str:
    parsed = _FIELD.match(match.group(1))
    if parsed is None or parsed.group("name") not in FIELDS:
        shown = " ".join(match.group(0).split())
        known = ", ".join(f"{{{{ {name} }}}}" for name in FIELDS)
        raise FieldError(_("Okänt personligt fält %(field)s. Du kan använda %(known)s.", field=shown, known=known))
    default = parsed.group("default") or ""
    if len(default) > MAX_DEFAULT:
        raise FieldError(_("Reservtexten får vara högst %(n)s tecken.", n=MAX_DEFAULT))
    return _marker(parsed.group("name"), default)


def to_markers(text: str) -> str:
    """The text with each personal field replaced by its marker; raises ``FieldError`` for unknown ones."""
    return _EXPRESSION.sub(_replace, text)


def check(*texts: str) -> None:
    """Raise ``FieldError`` when a text has a ``{{ … }}`` that is not a known field."""
    for text in texts:
        to_markers(text)


def markers(text: str) -> set[str]:
    """The markers in a rendered text."""
    return {m.group(0) for m in MARKER.finditer(text)}


def parse(marker: str) -> tuple[str, str]:
    """A marker's field and fallback."""
    match = MARKER.fullmatch(marker)
    if match is None:
        raise ValueError(marker)
    return _CODES[match.group(1)], bytes.fromhex(match.group(2)).decode("utf-8")


def value(marker: str, person: Person) -> str:
    """What one marker becomes for one person (plain text)."""
    return _filled(*parse(marker), person)


def _filled(field: str, default: str, person: Person) -> str:
    filled = person.first_name if field == "förnamn" else person.name.strip()
    return filled or default


class Filler:
    """The markers of one rendered issue, parsed once; ``values(person)`` is what each mail needs."""

    def __init__(self, *texts: str):
        self.fields = {m: parse(m) for text in texts for m in markers(text)}

    def values(self, person: Person, *, html: bool = False) -> dict[str, str]:
        if not self.fields:
            return {}
        found = {m: _filled(field, default, person) for m, (field, default) in self.fields.items()}
        return {m: str(escape(v)) for m, v in found.items()} if html else found


def fill(text: str, person: Person, *, html: bool = False) -> str:
    """Replace every marker in ``text`` (for previews and test mails; delivery uses ``values``)."""
    return MARKER.sub(lambda m: str(escape(value(m.group(0), person))) if html else value(m.group(0), person), text)


def _generic(match: re.Match[str]) -> str:
    parsed = _FIELD.match(match.group(1))
    if parsed is None or parsed.group("name") not in FIELDS:
        return match.group(0)
    return parsed.group("default") or ""


def generic(text: str) -> str:
    """The text as anyone may read it (the public archive): every field is its fallback."""
    return _EXPRESSION.sub(_generic, text)
