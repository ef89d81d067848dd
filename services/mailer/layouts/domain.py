"""Mail templates: saved with their colours checked for contrast (WCAG 2.1 AA, 4.5:1 for text), and
turned into what the mail layout needs."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.mailer.media.domain import url as media_url
from shared.config import Config
from shared.models import MailTemplate, MediaFile
from shared.organisation import SettingsError, check_colour, contrast_ratio

MIN_CONTRAST = 4.5
WHITE = "#ffffff"
DEFAULT = MailTemplate(
    name="",
    header_colour="#1d4e6e",
    text_colour="#ffffff",
    link_colour="#1d4e6e",
    header_links=True,
    footer_text="",
)


class TemplateError(SettingsError):
    """Something the editor can fix, with the form field it belongs to."""


@dataclass(frozen=True)
class Layout:
    """What the mail layout template uses (``mail/layout.html``)."""

    header_colour: str
    text_colour: str
    link_colour: str
    logo_url: str
    logo_alt: str
    logo_width: int
    header_links: bool
    footer_text: str


def all_templates(session: Session) -> list[MailTemplate]:
    return list(session.scalars(select(MailTemplate).order_by(MailTemplate.name)))


def save_template(
    session: Session,
    *,
    name: str,
    header_colour: str,
    text_colour: str,
    link_colour: str,
    logo_id: int | None,
    header_links: bool,
    footer_text: str,
    current: MailTemplate | None = None,
) -> MailTemplate:
    """Create or change a template; colours that are too close to read are refused, with the ratio."""
    name = " ".join((name or "").split())
    if not name or len(name) > 100:
        raise TemplateError(_("Skriv ett namn (högst 100 tecken)."), "name")
    other = session.scalar(select(MailTemplate).where(MailTemplate.name == name))
    if other is not None and (current is None or other.id != current.id):
        raise TemplateError(_("Det finns redan en mall som heter %(name)s.", name=name), "name")
    header = check_colour(header_colour, "header_colour")
    text = check_colour(text_colour, "text_colour")
    link = check_colour(link_colour, "link_colour")
    for field, foreground, background, what in (
        ("text_colour", text, header, _("Texten i sidhuvudet mot sidhuvudets färg")),
        ("link_colour", link, WHITE, _("Länkar och rubriker mot den vita bakgrunden")),
    ):
        ratio = contrast_ratio(foreground, background)
        if ratio < MIN_CONTRAST:
            raise TemplateError(
                _(
                    "%(what)s har kontrasten %(ratio)s:1; minst 4,5:1 behövs för att alla ska kunna läsa.",
                    what=what,
                    ratio=f"{ratio:.1f}".replace(".", ","),
                ),
                field,
            )
    if logo_id is not None and session.get(MediaFile, logo_id) is None:
        raise TemplateError(_("Välj en logotyp från bilderna."), "logo_id")
    template = current or MailTemplate()
    template.name, template.header_colour, template.text_colour, template.link_colour = name, header, text, link
    template.logo_id, template.header_links = logo_id, header_links
    template.footer_text = (footer_text or "").replace("\r\n", "\n").strip()[:2000]
    if current is None:
        session.add(template)
    session.flush()
    return template


def layout(session: Session, config: Config, template_id: int | None) -> Layout:
    """The layout of a template (or the standard one when there is none)."""
    template = (session.get(MailTemplate, template_id) if template_id else None) or DEFAULT
    logo = session.get(MediaFile, template.logo_id) if template.logo_id else None
    return Layout(
        header_colour=template.header_colour,
        text_colour=template.text_colour,
        link_colour=template.link_colour,
        logo_url=media_url(config, logo) if logo else "",
        logo_alt=logo.alt_text if logo else "",
        logo_width=min(logo.width, 200) if logo else 0,
        header_links=template.header_links,
        footer_text=template.footer_text,
    )
