"""Forms for a list and for adding one subscriber by hand."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length


class ListForm(FlaskForm):
    name = StringField(_l("Namn"), validators=[DataRequired(_l("Skriv listans namn.")), Length(max=200)])
    slug = StringField(_l("Adress (används i länken /subscribe/…)"), validators=[DataRequired(_l("Skriv en adress."))])
    description = TextAreaField(_l("Beskrivning"), validators=[Length(max=2000)])
    language = SelectField(_l("Språk"), choices=[("sv", _l("Svenska")), ("en", _l("Engelska"))])
    public = BooleanField(_l("Publik: vem som helst kan prenumerera på startsidan"))
    sender_name = StringField(_l("Avsändarens namn"), validators=[Length(max=200)])
    sender_email = EmailField(_l("Avsändarens e-postadress"), validators=[Length(max=320)])
    consent_text = TextAreaField(_l("Samtyckestext"), validators=[Length(max=5000)])
    click_statistics = BooleanField(_l("Räkna klick på länkar (totalt per länk, aldrig per person)"))


class AddSubscriberForm(FlaskForm):
    email = EmailField(_l("E-postadress"), validators=[DataRequired(_l("Fyll i e-postadressen."))])
    name = StringField(_l("Namn (frivilligt)"), validators=[Length(max=200)])
    consented = BooleanField(_l("Samtycke är redan givet (inget bekräftelsemejl)"))
    note = StringField(_l("Var och när gavs samtycket?"), validators=[Length(max=500)])
