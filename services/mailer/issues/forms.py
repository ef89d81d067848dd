"""Forms for writing, test-sending and scheduling an issue."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, SelectMultipleField, StringField, TextAreaField, TimeField
from wtforms.validators import DataRequired, Length


class IssueForm(FlaskForm):
    list_id = SelectField(_l("Lista"), coerce=int)
    subject = StringField(_l("Ämnesrad"), validators=[DataRequired(_l("Skriv en ämnesrad.")), Length(max=300)])
    preheader = StringField(_l("Förhandstext"), validators=[Length(max=300, message=_l("Högst 300 tecken."))])
    source = TextAreaField(
        _l("Innehåll (Markdown)"),
        validators=[DataRequired(_l("Skriv brevets innehåll."))],
        # Spelling checked in Swedish by the browser; the editor's own text, never autocorrected.
        render_kw={"lang": "sv", "spellcheck": "true", "rows": 24},
    )
    also_lists = SelectMultipleField(_l("Skicka också till"), coerce=int, validate_choice=True)
    template_id = SelectField(_l("Mall"), coerce=int, default=0, validate_choice=False)
    # Not sent by forms without the field (older pages, the tests' posts): no segment.
    segment_id = SelectField(_l("Eller bara till ett segment"), coerce=int, default=0, validate_choice=False)


class TestSendForm(FlaskForm):
    addresses = TextAreaField(
        _l("Skicka ett provutskick till"), validators=[DataRequired(_l("Skriv minst en e-postadress."))]
    )
    person = StringField(_l("Fyll i personliga fält från prenumeranten (e-postadress, frivilligt)"))


class ScheduleForm(FlaskForm):
    date = DateField(_l("Datum"), validators=[DataRequired(_l("Ange ett datum (ÅÅÅÅ-MM-DD)."))])
    time = TimeField(_l("Klockslag"), validators=[DataRequired(_l("Ange ett klockslag (TT:MM)."))])
