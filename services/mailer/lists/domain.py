"""Lists: create, change, archive, add one subscriber by hand. Each function works in the caller's
transaction; the caller commits."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.mailer.subscriptions import domain as subscriptions
from shared.clock import utcnow
from shared.config import Config
from shared.i18n import LANGUAGES
from shared.mail.outbox import is_suppressed
from shared.models import (
    ConsentMethod,
    NewsletterList,
    Subscriber,
    Subscription,
    SubscriptionEventKind,
    SubscriptionStatus,
)
from shared.tokens import Tokens

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


class ListError(ValueError):
    """Something the editor can fix; ``field`` names the form field (or None), ``taken`` a slug in use
    (the API answers that one with 409: the request was right, the name is not free)."""

    def __init__(self, message: str, field: str | None = None, taken: bool = False):
        super().__init__(message)
        self.message = message
        self.field = field
        self.taken = taken


@dataclass
class ListFields:
    """What an editor sets on a list."""

    slug: str
    name: str
    description: str = ""
    language: str = "sv"
    public: bool = True
    sender_name: str = ""
    sender_email: str = ""
    consent_text: str = ""
    click_statistics: bool = False


def _check(session: Session, fields: ListFields, current: NewsletterList | None) -> ListFields:
    fields.slug = (fields.slug or "").strip().lower()
    fields.name = (fields.name or "").strip()
    if not SLUG.match(fields.slug):
        raise ListError(_("Adressen får bara ha små bokstäver a–z, siffror och bindestreck (högst 64)."), "slug")
    taken = session.scalar(select(NewsletterList.id).where(NewsletterList.slug == fields.slug))
    if taken is not None and (current is None or taken != current.id):
        raise ListError(_("Det finns redan en lista med adressen %(slug)s.", slug=fields.slug), "slug", taken=True)
    if not fields.name or len(fields.name) > 200:
        raise ListError(_("Skriv listans namn (högst 200 tecken)."), "name")
    if fields.language not in LANGUAGES:
        raise ListError(_("Välj ett språk."), "language")
    fields.sender_email = (fields.sender_email or "").strip()
    if fields.sender_email:
        try:
            fields.sender_email = subscriptions.normalise_email(fields.sender_email)
        except subscriptions.InvalidAddress as exc:
            raise ListError(str(exc), "sender_email") from None
    fields.sender_name = " ".join((fields.sender_name or "").split())[:200]
    fields.consent_text = (fields.consent_text or "").strip().replace("\r\n", "\n")
    return fields


def _next_consent_version(previous: str) -> str:
    """A new version name for a changed consent text: the date, with a counter on the same day."""
    today = utcnow().strftime("%Y-%m-%d")
    if not previous.startswith(today):
        return today
    _date, _, n = previous.partition("+")
    return f"{today}+{int(n or 1) + 1}"


def save_list(session: Session, fields: ListFields, current: NewsletterList | None = None) -> NewsletterList:
    """Create a list, or change one; a changed consent text gets a new version."""
    fields = _check(session, fields, current)
    newsletter_list = current or NewsletterList()
    old_text = current.consent_text if current is not None else ""
    for name in ("slug", "name", "description", "language", "public", "sender_name", "sender_email"):
        setattr(newsletter_list, name, getattr(fields, name))
    newsletter_list.click_statistics = fields.click_statistics
    if fields.consent_text != old_text or (current is None and fields.consent_text):
        newsletter_list.consent_text = fields.consent_text
        newsletter_list.consent_version = (
            _next_consent_version(newsletter_list.consent_version or "") if fields.consent_text else ""
        )
    if current is None:
        session.add(newsletter_list)
    session.flush()
    return newsletter_list


def archive_list(session: Session, newsletter_list: NewsletterList) -> None:
    """Hide the list from the public pages and the choices; subscriptions and issues stay."""
    if newsletter_list.slug == subscriptions.DEFAULT_LIST_SLUG:
        raise ListError(_("Standardlistan kan inte arkiveras."))
    newsletter_list.archived_at = utcnow()


def restore_list(session: Session, newsletter_list: NewsletterList) -> None:
    newsletter_list.archived_at = None


def add_subscriber(
    session: Session,
    config: Config,
    tokens: Tokens,
    newsletter_list: NewsletterList,
    *,
    email: str,
    name: str = "",
    consented: bool = False,
    note: str = "",
    editor: str,
) -> Subscription:
    """Put one person on a list. Without ``consented`` they get a confirmation mail and wait for it;
    with it they are active at once, and ``note`` (where the consent was given) is required."""
    try:
        email = subscriptions.normalise_email(email)
    except subscriptions.InvalidAddress as exc:
        raise ListError(str(exc), "email") from None
    name = " ".join((name or "").split())[:200]
    note = " ".join((note or "").split())[:500]
    if consented and not note:
        raise ListError(_("Skriv var och när personen gav sitt samtycke."), "note")
    if is_suppressed(session, email):
        raise ListError(_("Adressen är spärrad (studsar, klagomål eller raderad) och kan inte läggas till."), "email")
    subscriber = subscriptions.find_subscriber(session, email)
    if subscriber is None:
        subscriber = Subscriber(email=email, name=name, language=newsletter_list.language)
        session.add(subscriber)
        session.flush()
    elif name and not subscriber.name:
        subscriber.name = name
    subscription = subscriptions.find_subscription(session, newsletter_list.id, subscriber.id)
    if subscription is not None and subscription.status != SubscriptionStatus.PENDING:
        message = (
            _("Personen prenumererar redan på listan.")
            if subscription.status == SubscriptionStatus.ACTIVE
            else _("Personen har själv avslutat prenumerationen och läggs inte till igen.")
        )
        raise ListError(message, "email")
    now = utcnow()
    if subscription is None:
        subscription = Subscription(list_id=newsletter_list.id, subscriber_id=subscriber.id)
        session.add(subscription)
    subscription.requested_at = now
    subscription.source_url = f"admin ({editor})"[:500]
    if consented:
        subscription.status = SubscriptionStatus.ACTIVE
        subscription.confirmed_at = now
        subscription.consent_method = ConsentMethod.EDITOR
        subscription.consent_text_version = ""
    else:
        subscription.status = SubscriptionStatus.PENDING
        subscription.consent_method = ConsentMethod.DOUBLE_OPT_IN
        subscription.consent_text_version = subscriptions.consent_text(newsletter_list)[1]
    session.flush()
    session.refresh(subscription, ["newsletter_list", "subscriber"])
    detail = f"added by {editor}" + (f", consent: {note}" if consented else ", confirmation mailed")
    subscriptions.add_event(session, subscription, SubscriptionEventKind.ADDED, detail=detail, now=now)
    if not consented:
        subscriptions.send_confirmation(session, config, tokens, subscription)
        subscriptions.add_event(session, subscription, SubscriptionEventKind.CONFIRMATION_SENT, now=now)
    return subscription
