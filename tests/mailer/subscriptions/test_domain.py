"""The subscription rules without HTTP: outcomes, windows of the rate limits, links and headers."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from services.mailer.subscriptions import domain, gdpr
from shared.clock import utcnow
from shared.models import OutboxMail


@pytest.fixture
def ctx(app):
    """An app context (mails are rendered with templates) and the app's services."""
    with app.app_context():
        yield app.extensions["utskick"]


def request(svc, email, now, ip="192.0.2.1", **kw):
    with svc.db.transaction() as s:
        return domain.request_subscription(s, svc.config, svc.tokens, domain.find_list(s), email, ip=ip, now=now, **kw)


def test_stop_link_headers(ctx):
    url, headers = domain.stop_link_headers(ctx.tokens, ctx.config, 42)
    token = url.rsplit("/", 1)[1]
    assert url == f"http://mailer.test/unsubscribe/{token}"
    assert ctx.tokens.loads("unsubscribe", token) == 42
    assert headers == {
        "List-Unsubscribe": f"<{url}>, <mailto:unsubscribe@utskick.example?subject=unsubscribe-{token}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    # The same subscription always gets the same link: it is printed in every mail and must keep working.
    assert domain.stop_link_headers(ctx.tokens, ctx.config, 42)[0] == url


def test_normalise_email():
    assert domain.normalise_email("  Karin.Ek@VÄSTKOM.Example ") == "Karin.Ek@västkom.example"
    for bad in ("", "karin", "karin@", "@x.se", "a b@x.se", "åsa@exempel.se", "x@localhost"):
        with pytest.raises(domain.InvalidAddress):
            domain.normalise_email(bad)


def test_address_limit_is_a_sliding_24_hours(ctx):
    start = utcnow()
    outcomes = [request(ctx, "fonster@exempel.se", start + timedelta(hours=h)) for h in (0, 1, 2, 3, 23.9)]
    assert outcomes == ["confirmation_sent"] * 3 + ["address_limited"] * 2
    assert request(ctx, "fonster@exempel.se", start + timedelta(hours=24.5)) == "confirmation_sent"


def test_case_of_the_address_does_not_make_a_second_person(ctx):
    now = utcnow()
    request(ctx, "Olle@exempel.se", now)
    assert request(ctx, "olle@EXEMPEL.se".lower(), now + timedelta(minutes=1)) == "confirmation_sent"
    with ctx.db.sessions() as s:
        assert s.scalar(select(domain.Subscriber.email)) == "Olle@exempel.se"
        assert len(s.scalars(select(domain.Subscription)).all()) == 1


def test_language_of_the_mail_follows_the_subscriber(ctx):
    request(ctx, "eng@exempel.se", utcnow(), language="en")
    with ctx.db.sessions() as s:
        raw = s.scalar(select(OutboxMail.message))
    assert b"Content-Language: en" in raw


def test_confirm_link_of_an_erased_person_is_used_not_an_error(ctx):
    request(ctx, "borta@exempel.se", utcnow())
    with ctx.db.transaction() as s:
        sub = s.scalar(select(domain.Subscription))
        token = domain.confirm_link_url(ctx.tokens, ctx.config, sub).rsplit("/", 1)[1]
        stop = domain.stop_link_url(ctx.tokens, ctx.config, sub.id).rsplit("/", 1)[1]
        gdpr.erase_subscriber(s, sub.subscriber_id, editor="test")
    with ctx.db.transaction() as s:
        assert domain.confirm_subscription(s, ctx.config, ctx.tokens, token).state == "used"
        assert domain.unsubscribe(s, ctx.tokens, stop).state == "used"


def test_stop_link_mail_lists_every_list(ctx):
    with ctx.db.transaction() as s:
        s.add(domain.NewsletterList(slug="forskning", name="Forskningsnytt", description="", language="sv"))
    now = utcnow()
    with ctx.db.transaction() as s:
        for slug in ("nyhetsbrev", "forskning"):
            domain.request_subscription(
                s, ctx.config, ctx.tokens, domain.find_list(s, slug), "tva.listor@exempel.se", now=now
            )
    with ctx.db.transaction() as s:
        assert domain.request_stop_link(s, ctx.config, ctx.tokens, "TVA.listor@exempel.se", now=now) == "stop_link_sent"
        assert domain.request_stop_link(s, ctx.config, ctx.tokens, "ingen@exempel.se", now=now) == "not_subscribed"
    with ctx.db.sessions() as s:
        raw = s.scalar(select(OutboxMail.message).where(OutboxMail.kind == "stop_link")).decode()
    assert len(set(re.findall(r"/unsubscribe/([A-Za-z0-9_.\-]+)", raw.replace("=\r\n", "")))) >= 2


def test_mails_a_stranger_can_cause_carry_nothing_they_typed(ctx):
    """Anyone can type someone else's address: the mails that follow greet nobody by the typed name,
    and an active subscriber's name is not changed by it."""
    import email as email_lib
    from email.policy import default

    spam = "Vinn 10000 kr! Gå till https://bedragare.example"
    now = utcnow()
    assert request(ctx, "ny@exempel.se", now, name=spam) == "confirmation_sent"
    with ctx.db.transaction() as s:
        s.add(domain.NewsletterList(slug="forskning", name="Forskningsnytt", description="", language="sv"))
        s.flush()
        subscription = s.scalar(select(domain.Subscription))
        subscription.status, subscription.subscriber.name = domain.SubscriptionStatus.ACTIVE, "Karin Ek"
    assert request(ctx, "ny@exempel.se", now, name=spam) == "already_subscribed_sent"
    with ctx.db.transaction() as s:
        other_list = domain.find_list(s, "forskning")
        assert (
            domain.request_subscription(
                s, ctx.config, ctx.tokens, other_list, "ny@exempel.se", spam, ip="192.0.2.1", now=now
            )
            == "confirmation_sent"
        )
        assert domain.request_stop_link(s, ctx.config, ctx.tokens, "ny@exempel.se", now=now) == "stop_link_sent"
    with ctx.db.sessions() as s:
        mails = s.scalars(select(OutboxMail).order_by(OutboxMail.id)).all()
        assert s.scalar(select(domain.Subscriber.name)) == "Karin Ek"
    assert [m.kind for m in mails] == ["confirmation", "already_subscribed", "confirmation", "stop_link"]
    for mail in mails:
        message = email_lib.message_from_bytes(mail.message, policy=default)
        text = message.get_body(preferencelist=("plain",)).get_content()
        html = message.get_body(preferencelist=("html",)).get_content()
        assert text.startswith("Hej!") and "Hej!" in html
        assert "Vinn" not in text + html + str(message["To"]) and "bedragare" not in text + html
        assert "Karin" not in text + html + str(message["To"])
