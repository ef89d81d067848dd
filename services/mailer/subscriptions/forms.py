"""Forms for readers (subscribe, ask for a stop link) and editors (import)."""

from __future__ import annotations

import unicodedata

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, EmailField, SelectField, SelectMultipleField, StringField
from wtforms.validators import Optional, StopValidation, ValidationError

from services.mailer.subscriptions.domain import InvalidAddress, normalise_email


class _AtMost:
    """A length check that ends the field's checks when it fails: the checks after it (every
    character's category) would otherwise run over whatever a stranger sent."""

    def __init__(self, length: int, message) -> None:
        self.length, self.message = length, message

    def __call__(self, form, field) -> None:
        if field.data and len(field.data) > self.length:
            raise StopValidation(self.message)


def _no_control_characters(form, field) -> None:
    # NUL and other control characters cannot be stored (PostgreSQL refuses NUL) nor shown.
    if field.data and any(unicodedata.category(ch) in ("Cc", "Cs") for ch in field.data):
        raise ValidationError(_l("Texten innehåller tecken som inte går att använda."))


class AddressForm(FlaskForm):
    """One e-mail address, checked and normalised into ``self.address``."""

    email = EmailField(_l("E-postadress"))
    address: str | None = None

    def validate_email(self, field) -> None:
        try:
            self.address = normalise_email(field.data or "")
        except InvalidAddress as exc:
            raise ValidationError(str(exc)) from None


class SubscribeForm(AddressForm):
    name = StringField(
        _l("Namn (frivilligt)"),
        validators=[Optional(), _AtMost(200, _l("Skriv högst 200 tecken.")), _no_control_characters],
    )


class ListsSubscribeForm(SubscribeForm):
    """The start page with several lists: tick the ones wanted, one confirmation mail for all."""

    lists = SelectMultipleField(_l("Nyhetsbrev"), coerce=str)

    def validate_lists(self, field) -> None:
        if not field.data:
            raise ValidationError(_l("Välj minst ett nyhetsbrev."))


class StopRequestForm(AddressForm):
    pass


class ImportForm(FlaskForm):
    file = FileField(
        _l("CSV-fil"),
        validators=[
            FileRequired(_l("Välj en CSV-fil.")),
            FileAllowed(["csv", "txt"], _l("Filen ska vara en CSV-fil (.csv).")),
        ],
    )
    list_id = SelectField(_l("Lista"), coerce=int, validate_choice=True)
    consented = BooleanField(_l("Samtycke är redan givet"))
