"""The mails to participants: the evaluator's plain texts with placeholders in braces (``{förnamn}``),
the defaults a survey starts with, dates in words, and the finished mail (subject, text with the
personal link, HTML in the newsletter's branded layout with the link as a button)."""

from __future__ import annotations

import html
import re
from datetime import datetime

from babel.dates import format_date
from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from services.survey.surveys.definitions import parse_moment_text
from services.survey.surveys.questions import definition_of
from shared.config import Config
from shared.i18n import LANGUAGES, to_local
from shared.models import MailKind, Participant, Survey
from shared.organisation import Organisation

_INVITATION_SUBJECT = {"sv": "Inbjudan: {enkät}", "en": "Invitation: {enkät}"}
_INVITATION_TEXT = {
    "sv": (
        "Hej {förnamn}!\n\n"
        "Du är inbjuden att svara på enkäten ”{enkät}”. Sista dag att svara: {sista_dag}.\n\n"
        "Du kan spara och fortsätta senare med samma länk.\n\n"
        "Har du frågor? Kontakta {kontaktperson}.\n"
    ),
    "en": (
        "Hello {förnamn},\n\n"
        "You are invited to answer the survey “{enkät}”. Last day to answer: {sista_dag}.\n\n"
        "You can save and continue later with the same link.\n\n"
        "Questions? Contact {kontaktperson}.\n"
    ),
}
_REMINDER_SUBJECT = {"sv": "Påminnelse: {enkät}", "en": "Reminder: {enkät}"}
_REMINDER_TEXT = {
    "sv": (
        "Hej {förnamn}!\n\n"
        "Vi har ännu inte fått dina svar på enkäten ”{enkät}”. Dina svar är viktiga för oss. "
        "Sista dag att svara: {sista_dag}.\n\n"
        "Har du frågor? Kontakta {kontaktperson}.\n"
    ),
    "en": (
        "Hello {förnamn},\n\n"
        "We have not yet received your answers to the survey “{enkät}”. Your answers matter to us. "
        "Last day to answer: {sista_dag}.\n\n"
        "Questions? Contact {kontaktperson}.\n"
    ),
}
# The mail texts a new survey starts with, in its language.
DEFAULT_TEXTS = {
    language: {
        "invitation_subject": _INVITATION_SUBJECT[language],
        "invitation_text": _INVITATION_TEXT[language],
        "reminder_subject": _REMINDER_SUBJECT[language],
        "reminder_text": _REMINDER_TEXT[language],
    }
    for language in LANGUAGES
}

# The survey's subject and text fields of each kind of mail it sends.
TEXT_FIELDS = {
    MailKind.SURVEY_INVITATION: ("invitation_subject", "invitation_text"),
    MailKind.SURVEY_REMINDER: ("reminder_subject", "reminder_text"),
}
DATE_IN_WORDS = "d MMMM y"  # 31 mars 2025
# What an evaluator can write in braces in a mail text, and what each stands for (the buttons beside
# the fields insert them). The personal link is not among them: every mail gets it, always.
PLACEHOLDERS = {
    "förnamn": _l("mottagarens förnamn"),
    "namn": _l("mottagarens hela namn"),
    "enkät": _l("enkätens rubrik"),
    "sista_dag": _l("sista dag att svara"),
    "kontaktperson": _l("kontaktpersonens namn, e-post och telefon"),
}
_PLACEHOLDER = re.compile(r"\{([^{}\n]{0,40})\}")
# Where the recipient's own parts go in the HTML rendered once per mailing.
_BODY_MARK, _LINK_MARK, _DECLINE_MARK = "\x00body\x00", "\x00link\x00", "\x00decline\x00"


def closing_text(survey: Survey, name: str = "closes", language: str | None = None) -> str:
    """The closing (or opening) date as people read it: "31 mars 2025", with the time (Swedish time)
    when the definition gives one. In the survey's language unless the reader's is another."""
    value = getattr(definition_of(survey), name)
    if not value:
        return ""
    moment = parse_moment_text(value)
    locale = language or survey.language
    if isinstance(moment, datetime):
        local = to_local(moment) if moment.tzinfo else moment  # without a zone it is Swedish time already
        return f"{format_date(local, DATE_IN_WORDS, locale=locale)} {local:%H:%M}"
    return format_date(moment, DATE_IN_WORDS, locale=locale)


def personal_link(config: Config, token: str) -> str:
    return f"{config.survey_url.rstrip('/')}/s/{token}"


def text_error(source: str) -> str | None:
    """Why a mail text cannot be used (an unknown placeholder), or None when it can."""
    for match in _PLACEHOLDER.finditer(source):
        if match.group(1) not in PLACEHOLDERS:
            return _(
                "Okänd platshållare {%(name)s}. Du kan använda: %(names)s",
                name=match.group(1),
                names=", ".join(f"{{{name}}}" for name in PLACEHOLDERS),
            )
    return None


def contact_text(survey: Survey, config: Config) -> str:
    """The contact person as one line: "Eva Utvärderare, eva@vastkom.se, 031-123 45 67" (the
    organisation when the survey names nobody)."""
    parts = [survey.contact_name, survey.contact_email, survey.contact_phone]
    return ", ".join(part for part in parts if part) or config.organisation_name


class MailTemplate:
    """One survey's invitation or reminder, prepared once per mailing and filled in per person:
    the evaluator's text with its placeholders, then the personal link (a line in the text, a
    button in the HTML) and the link to decline reminders."""

    def __init__(self, config: Config, survey: Survey, kind: MailKind, org: Organisation | None = None):
        self.config = config
        self.about_text = ""
        subject_field, text_field = TEXT_FIELDS[kind]
        with force_locale(survey.language):
            self.common = {
                "enkät": survey.title,
                "sista_dag": closing_text(survey) or _("inget datum bestämt"),
                "kontaktperson": contact_text(survey, config),
            }
            self.nobody = _("du")  # "Hej du!" when the list gives no name
            self.link_line = _("Din personliga länk till enkäten:")
            self.decline_line = _("Vill du inte få påminnelser om enkäten? Tacka nej här:")
            self.button = _("Svara på enkäten")
            self.subject = getattr(survey, subject_field).strip().replace("\n", " ")
            self.text = getattr(survey, text_field)
            footer = _footer(survey)
            if org is not None:
                # Who sends it, with the privacy notice and accessibility statement (autoescaped templates).
                about = {"org": org, "public_url": config.survey_url}
                footer += Markup(render_template("mail/organisation_footer.html", **about))  # noqa: S704
                self.about_text = "\n-- \n" + render_template("mail/organisation_footer.txt", **about).strip() + "\n"
            self.html = render_template(
                "mail/layout.html",
                subject=self._fill(self.subject, self.common),
                preheader="",
                body=Markup(_BODY_MARK),  # noqa: S704 (a marker of ours, replaced by escaped text)
                footer=footer,
                organisation_name=config.organisation_name,
                language=survey.language,
            )

    @staticmethod
    def _fill(source: str, values: dict[str, str]) -> str:
        return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), source)

    def render(self, name: str, token: str) -> tuple[str, str, str]:
        """Subject, plain text and HTML for one person with their link's token."""
        first_name = name.split()[0] if name.strip() else self.nobody
        values = {**self.common, "förnamn": first_name, "namn": name.strip() or self.nobody}
        # A name may bring line breaks; a header is one line.
        subject, body = " ".join(self._fill(self.subject, values).split()), self._fill(self.text, values)
        link = personal_link(self.config, token)
        decline = link + "/decline"
        text = f"{body.rstrip()}\n\n{self.link_line}\n{link}\n\n{self.decline_line}\n{decline}\n{self.about_text}"
        html_body = (
            _text_to_html(body)
            + f'\n<p style="margin:24px 0;"><a href="{_LINK_MARK}" style="{_BUTTON_STYLE}">'
            + html.escape(self.button)
            + "</a></p>"
        )
        filled = self.html.replace(_BODY_MARK, html_body).replace(_LINK_MARK, html.escape(link))
        return subject, text, filled.replace(_DECLINE_MARK, html.escape(decline))


_BUTTON_STYLE = (
    "display:inline-block;background:#1d4e6e;color:#ffffff;padding:12px 20px;border-radius:4px;"
    "font-weight:bold;text-decoration:none;"
)


def render_mail(config: Config, survey: Survey, kind: MailKind, name: str, token: str) -> tuple[str, str, str]:
    """Subject, plain text and HTML of one invitation or reminder (``MailTemplate`` for many)."""
    return MailTemplate(config, survey, kind).render(name, token)


def _text_to_html(text: str) -> str:
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]

    def linkify(escaped: str) -> str:
        return re.sub(r"(https?://[^\s<]+)", r'<a href="\1">\1</a>', escaped)

    # The text is escaped before links and line breaks are added (an escaped URL cannot leave href="…").
    return "\n".join(f"<p>{linkify(html.escape(p)).replace(chr(10), '<br>')}</p>" for p in paragraphs)


def _footer(survey: Survey) -> Markup:
    # Safe: the text is escaped; the link is a marker replaced by the escaped link per person.
    return Markup(  # noqa: S704
        html.escape(_("Du får det här mejlet eftersom du är inbjuden till enkäten ”%(title)s”.", title=survey.title))
        + f' <a href="{_DECLINE_MARK}">'
        + html.escape(_("Tacka nej till påminnelser"))
        + "</a>"
    )


PREVIEW_TOKEN = "EXEMPEL"  # noqa: S105 (the example link in a preview, not a secret)


def preview_mail(config: Config, survey: Survey, participant: Participant | None, kind: MailKind) -> tuple[str, str]:
    """Subject and text as this participant (or an example person) would get them."""
    name = participant.name if participant else _("Förnamn Efternamn")
    # Only the mail ever holds a real link (the database keeps its hash), so the preview shows an example.
    subject, text, _html = render_mail(config, survey, kind, name, PREVIEW_TOKEN)
    return subject, text
