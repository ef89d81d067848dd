"""Who runs the service: the organisation's name, address, contact, logo and links, the privacy
notice and the accessibility statement. Edited once in the admin, shown by both services on every
public page and in every mail footer. Stored as rows of ``settings``; an empty value means the
default (the name from ORGANISATION_NAME, the Swedish default texts below)."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields

import nh3
from flask_babel import gettext as _
from markdown_it import MarkdownIt
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.config import Config
from shared.models import NewsletterList, Setting, Subscription

MAX_TEXT = 20_000
COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


@dataclass
class Organisation:
    name: str = ""
    address: str = ""  # several lines
    contact_email: str = ""
    phone: str = ""
    website: str = ""
    logo_id: str = ""  # a media file's id, or ""
    links: str = ""  # one "Text | https://…" a line, shown in the footers
    privacy_notice: str = ""  # Markdown; "" = the default
    accessibility_statement: str = ""  # Markdown; "" = the default

    @property
    def link_list(self) -> list[tuple[str, str]]:
        """The footer links as (text, address); lines that are not ``text | https://…`` are left out."""
        found = []
        for line in self.links.splitlines():
            text, _, url = line.partition("|")
            if text.strip() and url.strip().startswith(("https://", "http://")):
                found.append((text.strip(), url.strip()))
        return found

    @property
    def address_lines(self) -> list[str]:
        return [line.strip() for line in self.address.splitlines() if line.strip()]


KEYS = tuple(f.name for f in fields(Organisation))


def load(session: Session, config: Config) -> Organisation:
    """The settings, with the name from the configuration when none is saved."""
    stored = dict(session.execute(select(Setting.key, Setting.value).where(Setting.key.in_(KEYS))).all())
    organisation = Organisation(**{key: stored.get(key, "") for key in KEYS})
    organisation.name = organisation.name or config.organisation_name
    return organisation


class SettingsError(ValueError):
    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.message = message
        self.field = field


def save(session: Session, values: dict[str, str]) -> None:
    """Store the given settings (unknown keys are ignored)."""
    for key in KEYS:
        if key not in values:
            continue
        value = (values[key] or "").replace("\r\n", "\n").strip()[:MAX_TEXT]
        row = session.get(Setting, key)
        if row is None:
            session.add(Setting(key=key, value=value))
        else:
            row.value = value
    session.flush()


def privacy_notice(organisation: Organisation, consent_versions: list[str]) -> str:
    """The privacy notice as Markdown: the organisation's own, or the default."""
    if organisation.privacy_notice.strip():
        return organisation.privacy_notice
    contact = organisation.contact_email or "vår kontaktadress"
    versions = ", ".join(consent_versions) or "–"
    return f"""Den här tjänsten drivs av **{organisation.name}**, som är personuppgiftsansvarig.

## Vad vi sparar och varför

**Nyhetsbrev.** Din e-postadress och, om du anger det, ditt namn – för att skicka de nyhetsbrev du
har valt. Som bevis på ditt samtycke sparar vi när och från vilken sida du anmälde dig, när du
bekräftade, IP-adressen vid anmälan och bekräftelse och vilken version av samtyckestexten du såg
(gällande versioner: {versions}). Rättslig grund: ditt samtycke (artikel 6.1 a i
dataskyddsförordningen).

Vi mäter inte om du öppnar breven. Om en lista räknar klick sparas bara hur många gånger varje länk
i ett nummer har använts – aldrig vem som klickade.

**Enkäter.** Din e-postadress, ditt namn och de uppgifter om din organisation som behövs för att
skicka inbjudan och redovisa resultat per grupp. Dina svar. I anonyma enkäter kopplas svaren inte
till dig, och resultat visas bara för grupper som är tillräckligt stora. Rättslig grund: allmänt
intresse eller berättigat intresse för att följa upp verksamheten, enligt vad som anges i inbjudan.

## Hur länge

Så länge du prenumererar. När du avslutar slutar vi skicka direkt; uppgifterna om samtycket sparas
så länge vi behöver kunna visa att utskicken var tillåtna. Begär du radering tar vi bort dina
uppgifter och behåller bara adressen på en spärrlista, så att du inte får utskick igen.
Enkätsvar sparas tills utvärderingen är avslutad och rapporterad.

## Dina rättigheter

Du har rätt att få veta vilka uppgifter vi har om dig (registerutdrag), att få fel rättade, att få
uppgifterna raderade och att återkalla ditt samtycke när som helst – via länken i varje utskick
eller genom att kontakta oss på {contact}. Du kan också klaga hos Integritetsskyddsmyndigheten
(IMY), <https://www.imy.se>.

Inga uppgifter säljs eller lämnas till andra för marknadsföring. E-post skickas via vår
e-postleverantör, som bara får behandla uppgifterna för att leverera breven.
"""


def accessibility_statement(organisation: Organisation, service_name: str) -> str:
    """The accessibility statement as Markdown (the form the Swedish law, DOS-lagen, asks for)."""
    if organisation.accessibility_statement.strip():
        return organisation.accessibility_statement
    contact = organisation.contact_email or "vår kontaktadress"
    return f"""{organisation.name} står bakom {service_name}. Vi vill att så många som möjligt ska
kunna använda tjänsten. Här beskriver vi hur den uppfyller lagen (2018:1937) om tillgänglighet till
digital offentlig service, kända brister och hur du kan rapportera problem.

## Hur tillgänglig är tjänsten?

Tjänsten är **delvis förenlig** med lagen om tillgänglighet till digital offentlig service, på grund
av de brister som beskrivs nedan. Sidorna är byggda för att följa WCAG 2.1 nivå AA: de fungerar
med tangentbord och skärmläsare, utan JavaScript och på smala skärmar (320 pixlar), och de
automatiska testerna (axe) hittar inga fel på tjänstens sidor.

## Kända brister

- Bilder i nyhetsbrev har den beskrivning redaktören skrivit; den kan vara kortfattad.
- Diagram i statistik och enkätresultat har tabeller med samma siffror, men tabellerna är
  hopfällda från början.
- PDF-rapporter av enkätresultat är inte fullständigt taggade för skärmläsare.

## Vad kan du göra om du inte kan använda delar av tjänsten?

Kontakta oss på {contact} så försöker vi hjälpa dig, till exempel med innehållet i ett annat
format.

## Rapportera brister

Vi strävar hela tiden efter att förbättra tillgängligheten. Om du upptäcker problem som inte
beskrivs här, eller om du anser att vi inte uppfyller lagens krav, kontakta oss på {contact}.

## Tillsyn

Myndigheten för digital förvaltning (Digg) ansvarar för tillsynen över lagen. Om du inte är nöjd
med hur vi hanterar dina synpunkter kan du anmäla det till Digg:
<https://www.digg.se/tdosanmalan>.

## Hur vi testat tjänsten

Vi har testat tjänsten själva, med automatiska tester (axe-core) och manuellt med tangentbord,
skärmläsare och förstoring. Redogörelsen uppdaterades senast när tjänsten senast ändrades.
"""


def check_colour(value: str, field: str) -> str:
    """A colour as ``#rrggbb``; a ``SettingsError`` otherwise."""
    value = (value or "").strip()
    if not COLOUR.match(value):
        raise SettingsError(_("Skriv färgen som #rrggbb, till exempel #1d4e6e."), field)
    return value.lower()


def contrast_ratio(foreground: str, background: str) -> float:
    """WCAG 2.1 contrast ratio of two ``#rrggbb`` colours (1 to 21; text needs at least 4.5)."""

    def luminance(colour: str) -> float:
        channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    lighter, darker = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


_MARKDOWN = MarkdownIt("commonmark", {"html": False})


def as_html(markdown: str) -> Markup:
    """An editor's Markdown (privacy notice, accessibility statement) as sanitised HTML."""
    # nh3 removes scripts, event handlers and javascript: links: what remains is safe to show.
    return Markup(nh3.clean(_MARKDOWN.render(markdown), link_rel="noopener"))  # noqa: S704


def consent_versions(session: Session) -> list[str]:
    """The consent text versions subscriptions were given under (for the privacy notice)."""
    found = set(session.scalars(select(Subscription.consent_text_version).distinct()))
    found |= set(session.scalars(select(NewsletterList.consent_version).distinct()))
    return sorted(v for v in found if v)
