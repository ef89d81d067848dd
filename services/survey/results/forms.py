"""The export form: file format, separator, codes or labels, and which responses."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField

# WTForms 3.3 deprecates choices as tuples for SelectChoice, which types-WTForms (3.2, the newest) does not know yet.
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]


class ExportForm(FlaskForm):
    format = RadioField(
        _l("Filformat"),
        choices=[
            SelectChoice("xlsx", _l("Excel (XLSX) med kodbok")),
            SelectChoice("csv", _l("CSV")),
            SelectChoice("spss", _l("SPSS: syntaxfil (.sps) med etiketter och data (CSV)")),
            SelectChoice("r", _l("R: skript (.R) med etiketter och data (CSV)")),
        ],
        default="xlsx",
    )
    separator = RadioField(
        _l("Avgränsare i CSV"),
        choices=[SelectChoice("semicolon", _l("Semikolon (svenska Excel)")), SelectChoice("comma", _l("Komma"))],
        default="semicolon",
    )
    values = RadioField(
        _l("Svarsvärden"),
        choices=[SelectChoice("labels", _l("Etiketter (text)")), SelectChoice("codes", _l("Koder"))],
        default="labels",
    )
    include_partial = BooleanField(_l("Ta med påbörjade, ej inskickade svar"))
    include_identity = BooleanField(_l("Ta med deltagarnas e-postadress och namn"))
