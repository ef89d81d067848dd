"""Readers' pages over HTTP: double opt-in through a real SMTP server, no enumeration, rate limits,
links that are expired, tampered or used, and stopping (page and RFC 8058 one-click)."""

from __future__ import annotations

import email as email_lib
import re
import time
from email.policy import default

import itsdangerous.timed
from sqlalchemy import func, select

from shared.models import OutboxMail, Subscriber, Subscription, SubscriptionEvent
from tests.mailer.conftest import link, mail_html, make_app, run_worker


def subscription_of(app, email: str) -> Subscription | None:
    with app.extensions["utskick"].db.sessions() as s:
        return s.scalar(select(Subscription).join(Subscriber).where(Subscriber.email == email))


def outbox_kinds(app, email: str) -> list[str]:
    with app.extensions["utskick"].db.sessions() as s:
        return list(s.scalars(select(OutboxMail.kind).where(OutboxMail.recipient == email).order_by(OutboxMail.id)))


def event_count(app) -> int:
    with app.extensions["utskick"].db.sessions() as s:
        return s.scalar(select(func.count()).select_from(SubscriptionEvent))


def form_token(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html
    )
    return match.group(1)


def test_double_opt_in_through_a_real_smtp_server(smtp_app, smtp_server):
    client = smtp_app.test_client()
    form = client.get("/subscribe")
    assert form.status_code == 200
    assert "Prenumerera" in form.text and "2026-11" in form.text  # consent text version shown

    response = client.post(
        "/subscribe",
        data={"email": "Asa.Oberg@Kommun.Example", "name": "Åsa Öberg"},
        headers={"Referer": "https://vastkom.example/nyhetsbrev"},
    )
    assert response.status_code == 303 and response.location.endswith("/check-inbox")
    assert "Titta i din inkorg" in client.get(response.location).text

    assert run_worker(smtp_app) == 1
    (received,) = smtp_server.wait_for(1)
    msg = received.message
    assert received.rcpt_tos == ("Asa.Oberg@kommun.example",)  # domain lower-cased, local part kept
    assert msg.get_content_type() == "multipart/alternative"
    assert "Bekräfta" in msg["Subject"]
    assert str(msg["To"]) == "Asa.Oberg@kommun.example"  # no name: a visitor typed it, nobody confirmed it
    confirm_path = link(msg, "confirm")
    assert confirm_path in mail_html(msg).replace("&amp;", "&")

    # Stop link and RFC 2369/8058 headers on the confirmation mail too.
    stop_path = link(msg, "unsubscribe")
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    urls = re.findall(r"<([^>]+)>", msg["List-Unsubscribe"])
    assert urls[0] == "http://mailer.test" + stop_path
    token = stop_path.rsplit("/", 1)[1]
    assert urls[1] == f"mailto:unsubscribe@utskick.example?subject=unsubscribe-{token}"
    assert b"=?utf-8?" not in received.raw.split(b"List-Unsubscribe:")[1].split(b"List-Unsubscribe-Post")[0]

    sub = subscription_of(smtp_app, "Asa.Oberg@kommun.example")
    assert sub.status == "pending"
    assert sub.source_url == "https://vastkom.example/nyhetsbrev"
    assert sub.request_ip == "127.0.0.1" and sub.consent_text_version == "2026-11"

    # Opening the link (as a mail scanner would) changes nothing.
    page = client.get(confirm_path)
    assert page.status_code == 200 and ">Bekräfta</button>" in page.text
    assert subscription_of(smtp_app, "Asa.Oberg@kommun.example").status == "pending"

    done = client.post(confirm_path)
    assert done.status_code == 200 and "Tack, du prenumererar nu" in done.text
    sub = subscription_of(smtp_app, "Asa.Oberg@kommun.example")
    assert sub.status == "active" and sub.confirmed_at is not None and sub.confirm_ip == "127.0.0.1"

    again = client.get(confirm_path)
    assert again.status_code == 410 and "redan använd" in again.text

    stop_page = client.get(stop_path)
    assert stop_page.status_code == 200 and ">Avsluta prenumerationen</button>" in stop_page.text
    assert subscription_of(smtp_app, "Asa.Oberg@kommun.example").status == "active"
    stopped = client.post(stop_path)
    assert stopped.status_code == 200 and "Prenumerera igen" in stopped.text
    sub = subscription_of(smtp_app, "Asa.Oberg@kommun.example")
    assert sub.status == "unsubscribed" and sub.unsubscribed_at is not None
    assert client.post(stop_path).status_code == 200  # idempotent


def _put_in_state(app, client, email, state):
    if state == "new":
        return
    client.post("/subscribe", data={"email": email})
    if state == "pending":
        return
    # Confirm through the link in the outbox mail, then stop if asked.
    with app.extensions["utskick"].db.sessions() as s:
        raw = s.scalar(select(OutboxMail.message).where(OutboxMail.recipient == email).order_by(OutboxMail.id.desc()))
    msg = email_lib.message_from_bytes(raw, policy=default)
    client.post(link(msg, "confirm"))
    if state == "unsubscribed":
        client.post(link(msg, "unsubscribe"))


def test_the_same_answer_whatever_the_address_state(app, client):
    states = {
        "new": "ny@exempel.se",
        "pending": "vantar@exempel.se",
        "active": "aktiv@exempel.se",
        "unsubscribed": "slutat@exempel.se",
    }
    for state, email in states.items():
        _put_in_state(app, client, email, state)
    kinds_before = {email: outbox_kinds(app, email) for email in states.values()}

    answers = []
    for email in states.values():
        response = client.post("/subscribe", data={"email": email})
        follow = client.get(response.location)
        answers.append((response.status_code, response.location, response.data, follow.data))
    assert all(a == answers[0] for a in answers)

    new_mails = {state: outbox_kinds(app, email)[len(kinds_before[email]) :] for state, email in states.items()}
    assert new_mails == {
        "new": ["confirmation"],
        "pending": ["confirmation"],
        "active": ["already_subscribed"],
        "unsubscribed": ["confirmation"],  # treated as new: must confirm again
    }
    assert subscription_of(app, states["unsubscribed"]).status == "pending"
    assert subscription_of(app, states["active"]).status == "active"


def test_a_new_request_makes_the_older_link_used(app, client):
    client.post("/subscribe", data={"email": "tva@exempel.se"})
    client.post("/subscribe", data={"email": "tva@exempel.se"})
    with app.extensions["utskick"].db.sessions() as s:
        first, second = [
            email_lib.message_from_bytes(raw, policy=default)
            for raw in s.scalars(select(OutboxMail.message).order_by(OutboxMail.id))
        ]
    assert client.get(link(first, "confirm")).status_code == 410
    assert client.post(link(first, "confirm")).status_code == 410
    assert subscription_of(app, "tva@exempel.se").status == "pending"
    assert client.post(link(second, "confirm")).status_code == 200
    assert subscription_of(app, "tva@exempel.se").status == "active"


def test_at_most_three_confirmation_mails_per_address_per_day(app, client):
    for _ in range(4):
        response = client.post("/subscribe", data={"email": "bombad@exempel.se"})
        assert response.status_code == 303 and response.location.endswith("/check-inbox")
    assert outbox_kinds(app, "bombad@exempel.se") == ["confirmation"] * 3
    # The active-address mail counts against the same limit.
    client.post("/subscribe", data={"email": "bombad2@exempel.se"})
    assert len(outbox_kinds(app, "bombad2@exempel.se")) == 1


def test_form_posts_per_ip_are_limited(config):
    app = make_app(config.with_(subscribe_posts_per_ip_per_hour=2))
    client = app.test_client()
    answers = [client.post("/subscribe", data={"email": f"p{i}@exempel.se"}) for i in range(3)]
    assert [a.location for a in answers] == [answers[0].location] * 3
    assert outbox_kinds(app, "p0@exempel.se") == ["confirmation"]
    assert outbox_kinds(app, "p2@exempel.se") == []  # limit hit: same page, no mail
    # Another IP is not affected.
    other = client.post("/subscribe", data={"email": "p3@exempel.se"}, environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other.status_code == 303 and outbox_kinds(app, "p3@exempel.se") == ["confirmation"]
    app.extensions["utskick"].db.dispose()


def test_invalid_address_keeps_the_input_and_ties_the_error_to_the_field(client):
    response = client.post("/subscribe", data={"email": "åsa@@exempel", "name": "Åsa"})
    assert response.status_code == 400
    html = response.text
    assert 'value="åsa@@exempel"' in html and 'value="Åsa"' in html
    assert 'aria-describedby="email-hint email-error"' in html and 'id="email-error"' in html
    assert 'href="#email"' in html  # error summary links to the field
    assert "<title>Fel:" in html


def test_the_form_goes_through_csrf_for_real(csrf_app):
    client = csrf_app.test_client()
    assert client.post("/subscribe", data={"email": "utan@exempel.se"}).status_code == 400
    token = form_token(client.get("/subscribe").text)
    response = client.post("/subscribe", data={"email": "med@exempel.se", "csrf_token": token})
    assert response.status_code == 303
    assert outbox_kinds(csrf_app, "med@exempel.se") == ["confirmation"]
    assert outbox_kinds(csrf_app, "utan@exempel.se") == []


def _old_token(app, monkeypatch, purpose, payload, seconds_ago):
    now = time.time()
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: now - seconds_ago)
    token = app.extensions["utskick"].tokens.dumps(purpose, payload)
    monkeypatch.undo()
    return token


def test_bad_links_get_a_friendly_page_not_an_error(app, client, monkeypatch):
    client.post("/subscribe", data={"email": "lank@exempel.se"})
    sub = subscription_of(app, "lank@exempel.se")
    tokens = app.extensions["utskick"].tokens
    stamp = int(sub.requested_at.timestamp() * 1_000_000)
    good = tokens.dumps("confirm", [sub.id, stamp])
    expired = _old_token(app, monkeypatch, "confirm", [sub.id, stamp], 8 * 24 * 3600)
    stop = tokens.dumps("unsubscribe", sub.id, timed=False)

    tampered = client.get("/confirm/" + good[:-3] + ("aaa" if not good.endswith("aaa") else "bbb"))
    assert tampered.status_code == 400 and "Länken fungerar inte" in tampered.text
    assert client.get("/confirm/" + good[: len(good) // 2]).status_code == 400
    assert client.get("/confirm/" + stop).status_code == 400  # a stop token is not a confirm token
    assert client.get("/unsubscribe/" + good).status_code == 400
    gone = client.get("/confirm/" + expired)
    assert gone.status_code == 410 and "Länken har gått ut" in gone.text
    assert 'name="email"' in gone.text  # a way on: ask for a new link
    assert client.post("/confirm/" + expired).status_code == 410
    assert subscription_of(app, "lank@exempel.se").status == "pending"
    assert client.get("/confirm/" + good).status_code == 200


def test_get_never_changes_state(app, client):
    client.post("/subscribe", data={"email": "titta@exempel.se"})
    sub = subscription_of(app, "titta@exempel.se")
    tokens = app.extensions["utskick"].tokens
    confirm = tokens.dumps("confirm", [sub.id, int(sub.requested_at.timestamp() * 1_000_000)])
    stop = tokens.dumps("unsubscribe", sub.id, timed=False)
    before = event_count(app)
    for path in ("/confirm/" + confirm, "/unsubscribe/" + stop, "/subscribe", "/unsubscribe", "/check-inbox", "/"):
        for _ in range(2):
            assert client.get(path).status_code == 200, path
    assert subscription_of(app, "titta@exempel.se").status == "pending"
    assert event_count(app) == before


def test_one_click_unsubscribe_needs_no_csrf_and_is_idempotent(csrf_app):
    client = csrf_app.test_client()
    token = form_token(client.get("/subscribe").text)
    client.post("/subscribe", data={"email": "klick@exempel.se", "csrf_token": token})
    sub = subscription_of(csrf_app, "klick@exempel.se")
    stop = "/unsubscribe/" + csrf_app.extensions["utskick"].tokens.dumps("unsubscribe", sub.id, timed=False)

    # The ordinary form POST without a CSRF token is refused…
    assert client.post(stop).status_code == 400
    assert subscription_of(csrf_app, "klick@exempel.se").status == "pending"
    # …but what a mail client sends is accepted, from a client with no cookies at all.
    bare = csrf_app.test_client()
    for _ in range(2):
        response = bare.post(stop, data={"List-Unsubscribe": "One-Click"})
        assert response.status_code == 200 and response.data == b""
    assert subscription_of(csrf_app, "klick@exempel.se").status == "unsubscribed"
    with csrf_app.extensions["utskick"].db.sessions() as s:
        kinds = list(s.scalars(select(SubscriptionEvent.kind).where(SubscriptionEvent.subscription_id == sub.id)))
    assert kinds.count("unsubscribed") == 1
    # A forged token is still refused.
    assert bare.post(stop[:-2] + "xx", data={"List-Unsubscribe": "One-Click"}).status_code == 400


def test_stop_link_request_does_not_reveal_subscribers(app, client):
    _put_in_state(app, client, "finns@exempel.se", "active")
    known = client.post("/unsubscribe", data={"email": "finns@exempel.se"})
    unknown = client.post("/unsubscribe", data={"email": "finns.inte@exempel.se"})
    assert (known.status_code, known.location, known.data) == (unknown.status_code, unknown.location, unknown.data)
    assert outbox_kinds(app, "finns@exempel.se")[-1] == "stop_link"
    assert outbox_kinds(app, "finns.inte@exempel.se") == []
    bad = client.post("/unsubscribe", data={"email": "inte en adress"})
    assert bad.status_code == 400 and 'value="inte en adress"' in bad.text


def test_several_lists_get_a_choice_and_their_own_pages(app, client):
    from shared.models import NewsletterList

    with app.extensions["utskick"].db.transaction() as s:
        s.add(NewsletterList(slug="forskning", name="Forskningsnytt", description="", language="sv"))
    start = client.get("/")
    assert "Forskningsnytt" in start.text and "/subscribe/forskning" in start.text
    assert client.get("/subscribe/forskning").status_code == 200
    assert client.get("/subscribe/finns-inte").status_code == 404


def test_expired_link_page_sends_a_new_link_through_csrf(csrf_app, monkeypatch):
    client = csrf_app.test_client()
    token = form_token(client.get("/subscribe").text)
    client.post("/subscribe", data={"email": "ny.lank@exempel.se", "csrf_token": token})
    sub = subscription_of(csrf_app, "ny.lank@exempel.se")
    expired = _old_token(
        csrf_app, monkeypatch, "confirm", [sub.id, int(sub.requested_at.timestamp() * 1_000_000)], 30 * 24 * 3600
    )
    page = client.get("/confirm/" + expired)
    assert page.status_code == 410
    assert page.headers["Referrer-Policy"] == "no-referrer"  # the token must not leak onwards
    action = re.search(r'<form method="post" action="([^"]+)"', page.text).group(1)
    response = client.post(action, data={"email": "ny.lank@exempel.se", "csrf_token": form_token(page.text)})
    assert response.status_code == 303
    assert outbox_kinds(csrf_app, "ny.lank@exempel.se") == ["confirmation", "confirmation"]


def test_subscribe_page_links_to_the_archive_of_sent_issues(client):
    page = client.get("/subscribe").get_data(as_text=True)
    assert 'href="/issues?list=nyhetsbrev"' in page and "Läs tidigare nummer" in page


def test_a_huge_post_is_refused_before_any_check_reads_it(app, client):
    response = client.post("/subscribe", data={"email": "stor@exempel.se", "name": "x" * 10_000_000})
    assert response.status_code == 413 and "Det du skickade är för stort" in response.text
    assert outbox_kinds(app, "stor@exempel.se") == []
    # Signing in is a public form too.
    assert client.post("/admin/login", data={"email": "a@b.se", "password": "x" * 100_000}).status_code == 413


def test_a_failed_length_check_ends_the_name_checks(client):
    response = client.post("/subscribe", data={"email": "namn@exempel.se", "name": "\x01" + "x" * 300})
    assert response.status_code == 400
    assert "Skriv högst 200 tecken." in response.text
    assert "tecken som inte går att använda" not in response.text  # the next check did not run
