"""Subscribing, confirming and stopping: the business rules, independent of HTTP.

Every function takes plain values and a session and does its work in the caller's transaction
(the caller commits). Mails are written to the outbox in that same transaction.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import formataddr, parseaddr
from enum import StrEnum
from functools import cache, lru_cache
from urllib.parse import quote

from email_validator import EmailNotValidError, validate_email
from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared import organisation, ratelimit
from shared.api import webhooks
from shared.clock import utcnow
from shared.config import Config
from shared.i18n import DEFAULT_LANGUAGE, language_or_default
from shared.mail.outbox import enqueue, is_suppressed
from shared.models import (
    ConsentMethod,
    MailKind,
    NewsletterList,
    Subscriber,
    Subscription,
    SubscriptionEvent,
    SubscriptionEventKind,
    SubscriptionStatus,
    WebhookEvent,
)
from shared.tokens import TokenExpired, TokenInvalid, Tokens

log = logging.getLogger(__name__)

DEFAULT_LIST_SLUG = "nyhetsbrev"

# The consent text shown next to the subscribe button. Change the version whenever the text
# changes: each subscription records the version its subscriber was shown.
CONSENT_TEXT_VERSION = "2026-11"
CONSENT_TEXT = _l(
    "Vi använder din e-postadress (och ditt namn om du anger det) bara för att skicka dig det här "
    "nyhetsbrevet. Du bekräftar prenumerationen via en länk som vi skickar till dig, och du kan "
    "avsluta den när du vill via länken som finns i varje utskick. Vi sparar när och varifrån du "
    "anmälde dig och bekräftade, som bevis på ditt samtycke."
)


MAX_ADDRESS_LENGTH = 320  # the column's length; RFC 5321 allows less still


class InvalidAddress(ValueError):
    """The text is not an e-mail address we can send to; ``str(exc)`` is a message for the form."""


# RFC 5322 dot-atom, ASCII only, at most 64 characters (what email_validator accepts unquoted).
_PLAIN_LOCAL_PART = re.compile(r"(?=.{1,64}$)[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")


@lru_cache(maxsize=4096)
def _checked_domain(domain: str) -> str | None:
    """The domain as ``normalise_email`` gives it, or None if email_validator refuses it."""
    try:
        return validate_email(f"a@{domain}", check_deliverability=False, allow_smtputf8=False).domain.lower()
    except EmailNotValidError:
        return None


def normalise_email(raw: str) -> str:
    """Check the syntax (international domains allowed) and lower-case the domain; keep the local part."""
    text = (raw or "").strip()
    if not text:
        raise InvalidAddress(_("Fyll i din e-postadress."))
    if len(text) > MAX_ADDRESS_LENGTH:  # refused at once, before the syntax check reads it all
        raise InvalidAddress(_("Skriv e-postadressen i formatet namn@exempel.se."))
    # The common case, a plain local part, checked here; its domain once per domain (an import
    # of a million rows has a few hundred): email_validator costs ~100 µs an address.
    local, at, domain_part = text.rpartition("@")
    if at and _PLAIN_LOCAL_PART.fullmatch(local) and len(text) <= 254:
        checked_domain = _checked_domain(domain_part)
        if checked_domain is not None:
            return f"{local}@{checked_domain}"
    try:
        # Non-ASCII before the @ needs SMTPUTF8, which not every relay on the way offers.
        result = validate_email(text, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError:
        raise InvalidAddress(_("Skriv e-postadressen i formatet namn@exempel.se.")) from None
    return f"{result.local_part}@{result.domain.lower()}"


# -- links and headers (also used by newsletter delivery for every issue mail) ------------------


def stop_link_url(tokens: Tokens, config: Config, subscription_id: int) -> str:
    """The personal, signed, non-expiring stop link for one subscription."""
    token = tokens.dumps("unsubscribe", subscription_id, timed=False)
    return f"{config.mailer_url}/unsubscribe/{token}"


def unsubscribe_mailbox(config: Config) -> str:
    """Where mail clients send a mailto: unsubscribe: ``unsubscribe@`` the sender's domain."""
    return _unsubscribe_mailbox(config.mail_from)


@cache  # every mail of an issue asks; parsing the sender once is enough
def _unsubscribe_mailbox(mail_from: str) -> str:
    domain = parseaddr(mail_from)[1].rpartition("@")[2] or "localhost"
    return f"unsubscribe@{domain}"


def stop_link_headers(tokens: Tokens, config: Config, subscription_id: int) -> tuple[str, dict[str, str]]:
    """The stop link and the RFC 2369/8058 headers every mail to a subscriber must carry.

    Returns ``(url, {"List-Unsubscribe": …, "List-Unsubscribe-Post": …})``.
    """
    token = tokens.dumps("unsubscribe", subscription_id, timed=False)
    url = f"{config.mailer_url}/unsubscribe/{token}"
    mailto = f"mailto:{unsubscribe_mailbox(config)}?subject={quote('unsubscribe-' + token)}"
    return url, {
        "List-Unsubscribe": f"<{url}>, <{mailto}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def _request_stamp(subscription: Subscription) -> int:
    # The confirm link names the request it answers: a newer request or a confirmation makes it "used".
    return int(subscription.requested_at.timestamp() * 1_000_000)


def confirm_link_url(tokens: Tokens, config: Config, subscription: Subscription, *more: Subscription) -> str:
    """One link confirming one subscription or, from the several-lists form, all of them."""
    if not more:
        token = tokens.dumps("confirm", [subscription.id, _request_stamp(subscription)])
    else:
        token = tokens.dumps("confirm", [[s.id, _request_stamp(s)] for s in (subscription, *more)])
    return f"{config.mailer_url}/confirm/{token}"


# -- lists -------------------------------------------------------------------------------------


def find_list(session: Session, slug: str | None = None) -> NewsletterList | None:
    """The list with this slug, or the default list (``nyhetsbrev``, else the oldest) when no slug."""
    if slug is not None:
        return session.scalar(select(NewsletterList).where(NewsletterList.slug == slug))
    default = session.scalar(select(NewsletterList).where(NewsletterList.slug == DEFAULT_LIST_SLUG))
    return default or session.scalar(select(NewsletterList).order_by(NewsletterList.id).limit(1))


def all_lists(session: Session, *, archived: bool = False) -> list[NewsletterList]:
    """The lists by name; archived ones only when asked for."""
    query = select(NewsletterList).order_by(NewsletterList.name)
    if not archived:
        query = query.where(NewsletterList.archived_at.is_(None))
    return list(session.scalars(query))


def public_lists(session: Session) -> list[NewsletterList]:
    """The lists anyone may subscribe to (public and not archived)."""
    return [lst for lst in all_lists(session) if lst.public]


def list_sender(newsletter_list: NewsletterList) -> str:
    """The list's own From: (name and address), or "" for the service's MAIL_FROM."""
    if not newsletter_list.sender_email:
        return ""
    return formataddr((newsletter_list.sender_name, newsletter_list.sender_email))


def consent_text(newsletter_list: NewsletterList) -> tuple[str, str]:
    """The consent text a list shows and its version (the built-in text when the list has none)."""
    if newsletter_list.consent_text.strip():
        return newsletter_list.consent_text, newsletter_list.consent_version
    return str(CONSENT_TEXT), CONSENT_TEXT_VERSION


def find_subscriber(session: Session, email: str) -> Subscriber | None:
    # Case-insensitive: people retype their address with other capitals and are the same person.
    return session.scalar(select(Subscriber).where(func.lower(Subscriber.email) == email.lower()))


def find_subscription(session: Session, list_id: int, subscriber_id: int) -> Subscription | None:
    return session.scalar(
        select(Subscription).where(Subscription.list_id == list_id, Subscription.subscriber_id == subscriber_id)
    )


def add_event(
    session: Session,
    subscription: Subscription,
    kind: SubscriptionEventKind,
    *,
    ip: str | None = None,
    detail: str = "",
    now: datetime | None = None,
) -> None:
    session.add(SubscriptionEvent(subscription_id=subscription.id, kind=kind, ip=ip, detail=detail, at=now or utcnow()))


# -- mails ------------------------------------------------------------------------------------


def _send(
    session: Session,
    config: Config,
    tokens: Tokens,
    kind: MailKind,
    *,
    subscriber: Subscriber,
    subscription: Subscription,
    **context,
) -> None:
    """Render a mail (templates named after its kind) in the subscriber's language and write it to
    the outbox with a stop link.

    Anyone can type someone else's address into the form, so these mails carry nothing a visitor
    typed: no name, neither in the greeting nor in To:, only our own text and links.
    """
    language = language_or_default(subscriber.language)
    stop_url, headers = stop_link_headers(tokens, config, subscription.id)
    context.setdefault("list_name", subscription.newsletter_list.name)
    context.update(
        org=organisation.load(session, config),
        public_url=config.mailer_url,
        stop_url=stop_url,
        organisation_name=config.organisation_name,
    )
    with force_locale(language):
        subject = _subject(kind, context["list_name"])
        text = render_template(f"mailer/mail/{kind}.txt", **context)
        # Rendered by autoescaping templates: already safe HTML.
        body = Markup(render_template(f"mailer/mail/{kind}.html", **context))  # noqa: S704
        footer = Markup(render_template("mailer/mail/footer.html", **context))  # noqa: S704
        html = render_template(
            "mail/layout.html",
            subject=subject,
            preheader=context.get("preheader", ""),
            body=body,
            footer=footer,
            organisation_name=config.organisation_name,
            language=language,
        )
    enqueue(
        session,
        config,
        kind=kind,
        to_email=subscriber.email,
        subject=subject,
        text=text,
        html=html,
        headers=headers,
        language=language,
    )


def _subject(kind: MailKind, list_name: str) -> str:
    if kind == MailKind.CONFIRMATION:
        return _("Bekräfta din prenumeration på %(list)s", list=list_name)
    if kind == MailKind.ALREADY_SUBSCRIBED:
        return _("Du prenumererar redan på %(list)s", list=list_name)
    if kind == MailKind.STOP_LINK:
        return _("Så avslutar du din prenumeration")
    raise ValueError(kind)


def send_confirmation(
    session: Session, config: Config, tokens: Tokens, subscription: Subscription, *more: Subscription
) -> None:
    """Write one confirmation mail for one or several pending subscriptions of a person (no rate
    limit: callers decide)."""
    _send(
        session,
        config,
        tokens,
        MailKind.CONFIRMATION,
        subscriber=subscription.subscriber,
        subscription=subscription,
        list_name=_(" och ").join(s.newsletter_list.name for s in (subscription, *more)),
        confirm_url=confirm_link_url(tokens, config, subscription, *more),
        days=max(1, config.confirm_link_max_age // 86400),
    )


# -- subscribing ------------------------------------------------------------------------------


def confirm_mail_key(email: str) -> str:
    """The rate-limit key counting confirmation (and "already subscribed") mails to an address."""
    return f"confirm-mail:{email.lower()}"


def stop_mail_key(email: str) -> str:
    """The rate-limit key counting stop-link mails to an address."""
    return f"stop-mail:{email.lower()}"


def _form_key(ip: str) -> str:
    return f"public-form:{ip}"


def form_post_allowed(session: Session, config: Config, ip: str | None, now: datetime | None = None) -> bool:
    """Count one public form post from ``ip``; False once the hourly limit is reached."""
    if not ip:
        return True
    return ratelimit.take(
        session, _form_key(ip), config.subscribe_posts_per_ip_per_hour, timedelta(hours=1), now or utcnow()
    ).allowed


def _address_mail_allowed(session: Session, config: Config, email: str, now: datetime) -> bool:
    return ratelimit.take(
        session, confirm_mail_key(email), config.confirmations_per_address_per_day, timedelta(hours=24), now
    ).allowed


def request_subscription(
    session: Session,
    config: Config,
    tokens: Tokens,
    newsletter_list: NewsletterList,
    email: str,
    name: str = "",
    *,
    ip: str | None = None,
    source_url: str = "",
    language: str = DEFAULT_LANGUAGE,
    now: datetime | None = None,
) -> str:
    """Handle a subscribe form post for one list; see ``request_subscriptions``."""
    return request_subscriptions(
        session,
        config,
        tokens,
        [newsletter_list],
        email,
        name,
        ip=ip,
        source_url=source_url,
        language=language,
        now=now,
    )


def request_subscriptions(
    session: Session,
    config: Config,
    tokens: Tokens,
    lists: list[NewsletterList],
    email: str,
    name: str = "",
    *,
    ip: str | None = None,
    source_url: str = "",
    language: str = DEFAULT_LANGUAGE,
    now: datetime | None = None,
) -> str:
    """Handle a subscribe form post for one or several lists; whatever happens the visitor sees the
    same page. One confirmation mail covers every chosen list the person is not yet active on.

    Returns what was done (for logs and tests): ``confirmation_sent``, ``already_subscribed_sent``,
    ``ip_limited``, ``address_limited`` or ``suppressed``.
    """
    now = now or utcnow()
    name = (name or "").strip()[:200]
    language = language_or_default(language)
    if not form_post_allowed(session, config, ip, now):
        return "ip_limited"
    if is_suppressed(session, email):
        # Erased, bounced or complained: store nothing and send nothing.
        return "suppressed"
    subscriber = find_subscriber(session, email)
    existing = {lst.id: find_subscription(session, lst.id, subscriber.id) if subscriber else None for lst in lists}
    wanted = [lst for lst in lists if (sub := existing[lst.id]) is None or sub.status != SubscriptionStatus.ACTIVE]

    if not wanted:
        active = [sub for sub in existing.values() if sub is not None]
        if not _address_mail_allowed(session, config, email, now):
            for sub in active:
                add_event(session, sub, SubscriptionEventKind.REQUEST_LIMITED, ip=ip, now=now)
            return "address_limited"
        for sub in active:
            add_event(session, sub, SubscriptionEventKind.ALREADY_SUBSCRIBED_SENT, ip=ip, now=now)
        _send(
            session,
            config,
            tokens,
            MailKind.ALREADY_SUBSCRIBED,
            subscriber=active[0].subscriber,
            subscription=active[0],
            list_name=_(" och ").join(sub.newsletter_list.name for sub in active),
        )
        return "already_subscribed_sent"

    if not _address_mail_allowed(session, config, email, now):
        for sub in existing.values():
            if sub is not None:
                add_event(session, sub, SubscriptionEventKind.REQUEST_LIMITED, ip=ip, now=now)
        return "address_limited"

    if subscriber is None:
        subscriber = Subscriber(email=email, name=name, language=language, created_at=now)
        session.add(subscriber)
        session.flush()
    # A known subscriber keeps their name: a stranger typing their address must not change how
    # the newsletters they already get greet them.
    subscriber.language = language
    pending: list[Subscription] = []
    for newsletter_list in wanted:
        subscription = existing[newsletter_list.id]
        if subscription is None:
            subscription = Subscription(list_id=newsletter_list.id, subscriber_id=subscriber.id)
            session.add(subscription)
        # New, pending and earlier stopped subscriptions all start over: a fresh request needing confirmation.
        previous = subscription.status
        subscription.status = SubscriptionStatus.PENDING
        subscription.requested_at = now
        subscription.confirmed_at = None
        subscription.unsubscribed_at = None
        subscription.source_url = "".join(ch for ch in (source_url or "") if ch.isprintable())[:500]
        subscription.request_ip = ip
        subscription.confirm_ip = None
        subscription.consent_text_version = consent_text(newsletter_list)[1]
        subscription.consent_method = ConsentMethod.DOUBLE_OPT_IN
        session.flush()
        session.refresh(subscription, ["newsletter_list", "subscriber"])
        add_event(
            session,
            subscription,
            SubscriptionEventKind.REQUESTED,
            ip=ip,
            now=now,
            detail="" if previous in (None, SubscriptionStatus.PENDING) else f"was {previous}",
        )
        pending.append(subscription)
    send_confirmation(session, config, tokens, *pending)
    for subscription in pending:
        add_event(session, subscription, SubscriptionEventKind.CONFIRMATION_SENT, now=now)
    return "confirmation_sent"


# -- confirming -------------------------------------------------------------------------------


class LinkState(StrEnum):
    """What a link in a mail leads to."""

    OK = "ok"
    EXPIRED = "expired"
    INVALID = "invalid"  # not genuine: tampered with or cut off
    USED = "used"  # answered already, replaced by a newer link, or its subscription is gone


@dataclass
class LinkCheck:
    state: LinkState
    subscription: Subscription | None = None
    # A link from the several-lists form confirms these too.
    others: list[Subscription] = field(default_factory=list)

    @property
    def subscriptions(self) -> list[Subscription]:
        return ([self.subscription] if self.subscription is not None else []) + self.others


def check_confirm_link(session: Session, config: Config, tokens: Tokens, token: str) -> LinkCheck:
    """Look at a confirmation link without changing anything (GET, and mail scanners, use this)."""
    try:
        payload = tokens.loads("confirm", token, max_age=config.confirm_link_max_age)
    except TokenExpired:
        return LinkCheck(LinkState.EXPIRED)
    except TokenInvalid:
        return LinkCheck(LinkState.INVALID)
    pairs = payload if isinstance(payload, list) and payload and isinstance(payload[0], list) else [payload]
    if not all(isinstance(p, list) and len(p) == 2 and all(type(v) is int for v in p) for p in pairs):
        return LinkCheck(LinkState.INVALID)
    found = [(session.get(Subscription, p[0]), p[1]) for p in pairs]
    waiting = [
        sub
        for sub, stamp in found
        if sub is not None and sub.status == SubscriptionStatus.PENDING and _request_stamp(sub) == stamp
    ]
    if not waiting:
        # Erased since, confirmed already, or replaced by a newer request.
        first = next((sub for sub, _stamp in found if sub is not None), None)
        return LinkCheck(LinkState.USED, first)
    return LinkCheck(LinkState.OK, waiting[0], waiting[1:])


def confirm_subscription(
    session: Session, config: Config, tokens: Tokens, token: str, *, ip: str | None = None, now: datetime | None = None
) -> LinkCheck:
    """Confirm the subscription the link names (POST). A second POST of the same link says ``used``."""
    check = check_confirm_link(session, config, tokens, token)
    subscription = check.subscription
    if check.state != LinkState.OK or subscription is None:  # OK always comes with its subscription
        return check
    now = now or utcnow()
    for confirmed in check.subscriptions:
        confirmed.status = SubscriptionStatus.ACTIVE
        confirmed.confirmed_at = now
        confirmed.confirm_ip = ip
        add_event(session, confirmed, SubscriptionEventKind.CONFIRMED, ip=ip, now=now)
        webhooks.emit(session, WebhookEvent.SUBSCRIPTION_CONFIRMED, _webhook_data(confirmed))
    return check


def _webhook_data(subscription: Subscription) -> dict:
    return {
        "subscription_id": subscription.id,
        "list_id": subscription.list_id,
        "subscriber_id": subscription.subscriber_id,
        "email": subscription.subscriber.email,
    }


# -- stopping ---------------------------------------------------------------------------------


def check_stop_link(session: Session, tokens: Tokens, token: str) -> LinkCheck:
    """``ok`` (with the subscription), ``used`` when the subscription no longer exists, else ``invalid``."""
    try:
        payload = tokens.loads("unsubscribe", token)
    except TokenInvalid:
        return LinkCheck(LinkState.INVALID)
    if type(payload) is not int:
        return LinkCheck(LinkState.INVALID)
    subscription = session.get(Subscription, payload)
    if subscription is None:
        return LinkCheck(LinkState.USED)
    return LinkCheck(LinkState.OK, subscription)


def unsubscribe(
    session: Session,
    tokens: Tokens,
    token: str,
    *,
    ip: str | None = None,
    method: str = "page",
    now: datetime | None = None,
) -> LinkCheck:
    """Stop the subscription the link names; stopping twice is harmless."""
    check = check_stop_link(session, tokens, token)
    subscription = check.subscription
    if check.state != LinkState.OK or subscription is None:  # OK always comes with its subscription
        return check
    stop_subscription(session, subscription, ip=ip, detail=method, now=now)
    return check


def stop_subscription(
    session: Session,
    subscription: Subscription,
    *,
    ip: str | None = None,
    detail: str = "",
    now: datetime | None = None,
) -> None:
    """End a subscription (recorded in its history); stopping twice is harmless."""
    if subscription.status != SubscriptionStatus.UNSUBSCRIBED:
        now = now or utcnow()
        subscription.status = SubscriptionStatus.UNSUBSCRIBED
        subscription.unsubscribed_at = now
        add_event(session, subscription, SubscriptionEventKind.UNSUBSCRIBED, ip=ip, detail=detail, now=now)
        webhooks.emit(session, WebhookEvent.SUBSCRIPTION_STOPPED, _webhook_data(subscription))


def request_stop_link(
    session: Session, config: Config, tokens: Tokens, email: str, *, ip: str | None = None, now: datetime | None = None
) -> str:
    """Mail stop links for every list the address is on; the visitor never learns whether it is.

    Returns ``stop_link_sent``, ``not_subscribed``, ``ip_limited`` or ``address_limited``.
    """
    now = now or utcnow()
    if not form_post_allowed(session, config, ip, now):
        return "ip_limited"
    subscriber = find_subscriber(session, email)
    if subscriber is None:
        return "not_subscribed"
    subscriptions = list(
        session.scalars(
            select(Subscription)
            .where(Subscription.subscriber_id == subscriber.id, Subscription.status != SubscriptionStatus.UNSUBSCRIBED)
            .order_by(Subscription.id)
        )
    )
    if not subscriptions:
        return "not_subscribed"
    if not ratelimit.take(
        session, stop_mail_key(email), config.confirmations_per_address_per_day, timedelta(hours=24), now
    ).allowed:
        return "address_limited"
    links = [(s.newsletter_list.name, stop_link_url(tokens, config, s.id)) for s in subscriptions]
    _send(
        session, config, tokens, MailKind.STOP_LINK, subscriber=subscriber, subscription=subscriptions[0], links=links
    )
    for s in subscriptions:
        add_event(session, s, SubscriptionEventKind.STOP_LINK_SENT, ip=ip, now=now)
    return "stop_link_sent"
