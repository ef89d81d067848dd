"""The mails to participants: the evaluator's texts (sandboxed templates with placeholders), the
defaults a survey starts with, dates in words, and the finished mail (subject, text, HTML)."""

from __future__ import annotations

import html
import re
from datetime import datetime

from babel.dates import format_date
from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment

from services.survey.surveys.definitions import parse_moment_text
from services.survey.surveys.questions import definition_of
from shared.config import Config
from shared.i18n import LANGUAGES, to_local
from shared.models import MailKind, Participant, Survey

_INVITATION_SUBJECT = {"sv": "Inbjudan: {{ title }}", "en": "Invitation: {{ title }}"}
_INVITATION_TEXT = {
    "sv": (
        "Hej {{ name }}!\n\n"
        "Du är inbjuden att svara på enkäten ”{{ title }}”.\n\n"
        "Svara via din personliga länk:\n{{ link }}\n\n"
        "{% if closes %}Enkäten stänger {{ closes }}.\n\n{% endif %}"
        "Du kan spara och fortsätta senare med samma länk.\n\n"
        "{% if contact_email %}Har du frågor? Kontakta {{ contact_name }} ({{ contact_email }}).\n\n{% endif %}"
        "Vill du inte få påminnelser om enkäten? Tacka nej här:\n{{ decline_link }}\n"
    ),
    "en": (
        "Hello {{ name }},\n\n"
        "You are invited to answer the survey “{{ title }}”.\n\n"
        "Answer using your personal link:\n{{ link }}\n\n"
        "{% if closes %}The survey closes on {{ closes }}.\n\n{% endif %}"
        "You can save and continue later with the same link.\n\n"
        "{% if contact_email %}Questions? Contact {{ contact_name }} ({{ contact_email }}).\n\n{% endif %}"
        "If you do not want reminders about this survey, decline here:\n{{ decline_link }}\n"
    ),
}
_REMINDER_SUBJECT = {"sv": "Påminnelse: {{ title }}", "en": "Reminder: {{ title }}"}
_REMINDER_TEXT = {
    "sv": (
        "Hej {{ name }}!\n\n"
        "Vi har ännu inte fått dina svar på enkäten ”{{ title }}”. Dina svar är viktiga för oss.\n\n"
        "Svara via din personliga länk:\n{{ link }}\n\n"
        "{% if closes %}Enkäten stänger {{ closes }}.\n\n{% endif %}"
        "{% if contact_email %}Har du frågor? Kontakta {{ contact_name }} ({{ contact_email }}).\n\n{% endif %}"
        "Vill du inte få fler påminnelser? Tacka nej här:\n{{ decline_link }}\n"
    ),
    "en": (
        "Hello {{ name }},\n\n"
        "We have not yet received your answers to the survey “{{ title }}”. Your answers matter to us.\n\n"
        "Answer using your personal link:\n{{ link }}\n\n"
        "{% if closes %}The survey closes on {{ closes }}.\n\n{% endif %}"
        "{% if contact_email %}Questions? Contact {{ contact_name }} ({{ contact_email }}).\n\n{% endif %}"
        "If you do not want more reminders, decline here:\n{{ decline_link }}\n"
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
PLACEHOLDERS = ("name", "link", "decline_link", "closes", "contact_name", "contact_email", "title")
_env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)


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


def context_for(config: Config, survey: Survey, name: str, token: str) -> dict:
    return {
        "name": name,
        "link": personal_link(config, token),
        "decline_link": personal_link(config, token) + "/decline",
        "closes": closing_text(survey),
        "contact_name": survey.contact_name,
        "contact_email": survey.contact_email,
        "title": survey.title,
    }


def template_error(source: str) -> str | None:
    """Why a mail text cannot be used (syntax or an unknown placeholder), or None when it can."""
    try:
        template = _env.from_string(source)
        template.render(dict.fromkeys(PLACEHOLDERS, "x"))
    except TemplateSyntaxError as exc:
        return _("rad %(line)s: %(msg)s", line=exc.lineno, msg=exc.message)
    except UndefinedError as exc:
        match = re.search(r"'([^']+)' is undefined", str(exc))
        unknown = match.group(1) if match else str(exc)
        return _(
            "Okänd platshållare ”%(name)s”. Tillgängliga: %(names)s",
            name=unknown,
            names=", ".join(f"{{{{ {n} }}}}" for n in PLACEHOLDERS),
        )
    except TemplateError as exc:
        return str(exc)
    return None


def render_text(source: str, context: dict) -> str:
    return _env.from_string(source).render(context)


def render_mail(config: Config, survey: Survey, kind: MailKind, name: str, token: str) -> tuple[str, str, str]:
    """Subject, plain text and HTML of one invitation or reminder."""
    context = context_for(config, survey, name, token)
    subject_field, text_field = TEXT_FIELDS[kind]
    # Template tags and a participant's name may bring line breaks; a header is one line.
    subject = " ".join(render_text(getattr(survey, subject_field), context).split())
    text = render_text(getattr(survey, text_field), context)
    with force_locale(survey.language):
        html_body = render_template(
            "mail/layout.html",
            subject=subject,
            preheader="",
            body=_text_to_html(text),
            footer=_footer(survey, context),
            organisation_name=config.organisation_name,
            language=survey.language,
        )
    return subject, text, html_body


def _text_to_html(text: str):
    from markupsafe import Markup

    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]

    def linkify(escaped: str) -> str:
        return re.sub(r"(https?://[^\s<]+)", r'<a href="\1">\1</a>', escaped)

    # Safe: the text is escaped before links and line breaks are added (an escaped URL cannot leave href="…").
    return Markup("\n".join(f"<p>{linkify(html.escape(p)).replace(chr(10), '<br>')}</p>" for p in paragraphs))  # noqa: S704


def _footer(survey: Survey, context: dict):
    from markupsafe import Markup

    decline = html.escape(context["decline_link"])
    # Safe: both texts and the link are escaped; the rest is our own markup.
    return Markup(  # noqa: S704
        html.escape(_("Du får det här mejlet eftersom du är inbjuden till enkäten ”%(title)s”.", title=survey.title))
        + f' <a href="{decline}">'
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
