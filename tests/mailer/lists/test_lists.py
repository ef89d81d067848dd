"""Lists made by editors: create, change (consent text versioned), archive, add one person by hand,
several lists on the start page with one confirmation mail, and the command line."""

from __future__ import annotations

import re
from email import message_from_bytes
from email.policy import default

from click.testing import CliRunner
from sqlalchemy import select

from services.cli import main
from shared.models import NewsletterList, OutboxMail, Subscriber, Subscription, SubscriptionEvent
from tests.mailer.conftest import mail_text


def _list(db, slug: str) -> NewsletterList | None:
    with db.sessions() as s:
        return s.scalar(select(NewsletterList).where(NewsletterList.slug == slug))


def _outbox(db) -> list[OutboxMail]:
    with db.sessions() as s:
        return list(s.scalars(select(OutboxMail).order_by(OutboxMail.id)))


def _create(client, slug: str, name: str, **extra) -> None:
    data = {"name": name, "slug": slug, "language": "sv", "public": "y", **extra}
    response = client.post("/admin/lists/new", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)


def test_editor_creates_changes_and_archives_a_list(editor_client, db, client):
    _create(editor_client, "kommunchefer", "Kommunchefsbrevet", description="För kommunchefer", consent_text="Text 1")
    created = _list(db, "kommunchefer")
    assert created.name == "Kommunchefsbrevet" and created.public and not created.click_statistics
    first_version = created.consent_version
    assert first_version
    page = client.get("/subscribe/kommunchefer").get_data(as_text=True)
    assert "Text 1" in page and first_version in page

    changed = editor_client.post(
        f"/admin/lists/{created.id}",
        data={"name": "Kommunchefsbrevet", "slug": "kommunchefer", "language": "sv", "consent_text": "Text 2"},
    )
    assert changed.status_code == 302
    after = _list(db, "kommunchefer")
    assert after.consent_version != first_version and not after.public
    assert client.get("/subscribe/kommunchefer").status_code == 404  # not public any more

    duplicate = editor_client.post("/admin/lists/new", data={"name": "X", "slug": "kommunchefer", "language": "sv"})
    assert duplicate.status_code == 200
    assert "Det finns redan en lista med adressen kommunchefer" in duplicate.get_data(as_text=True)
    bad = editor_client.post("/admin/lists/new", data={"name": "X", "slug": "Stora Bokstäver", "language": "sv"})
    assert "Adressen får bara ha små bokstäver" in bad.get_data(as_text=True)

    assert editor_client.post(f"/admin/lists/{created.id}/archive").status_code == 302
    assert _list(db, "kommunchefer").archived_at is not None
    assert "Kommunchefsbrevet" in editor_client.get("/admin/lists/").get_data(as_text=True)


def test_adding_one_person_mails_a_confirmation_unless_consent_is_noted(app, editor_client, db):
    nyhetsbrev = _list(db, "nyhetsbrev")
    url = f"/admin/lists/{nyhetsbrev.id}/add"
    assert editor_client.post(url, data={"email": "ny@kommun.example", "name": "Ny Person"}).status_code == 302
    mails = _outbox(db)
    assert [m.recipient for m in mails] == ["ny@kommun.example"]
    assert mails[0].subject.startswith("Bekräfta din prenumeration")

    missing_note = editor_client.post(url, data={"email": "klar@kommun.example", "consented": "y"})
    assert missing_note.status_code == 400
    assert "Skriv var och när personen gav sitt samtycke" in missing_note.get_data(as_text=True)
    ok = editor_client.post(url, data={"email": "klar@kommun.example", "consented": "y", "note": "Dialogdagen"})
    assert ok.status_code == 302
    assert len(_outbox(db)) == 1  # no mail for a consented person
    with db.sessions() as s:
        sub = s.scalar(select(Subscription).join(Subscriber).where(Subscriber.email == "klar@kommun.example"))
        assert sub.status == "active" and sub.consent_method == "editor"
        details = list(s.scalars(select(SubscriptionEvent.detail).where(SubscriptionEvent.subscription_id == sub.id)))
        assert any("Dialogdagen" in d for d in details)
    again = editor_client.post(url, data={"email": "klar@kommun.example"})
    assert "Personen prenumererar redan på listan" in again.get_data(as_text=True)


def test_several_lists_on_the_start_page_get_one_confirmation_mail(app, editor_client, db, client):
    _create(editor_client, "kalender", "Kalenderbrevet")
    _create(editor_client, "intern", "Internt", public="")  # not offered
    page = client.get("/").get_data(as_text=True)
    assert "Kalenderbrevet" in page and "Nyhetsbrevet" in page and "Internt" not in page
    none_chosen = client.post("/", data={"email": "läsare@kommun.example"})
    assert none_chosen.status_code == 400 and "Välj minst ett nyhetsbrev" in none_chosen.get_data(as_text=True)
    response = client.post("/", data={"email": "lasare@kommun.example", "lists": ["nyhetsbrev", "kalender"]})
    assert response.status_code == 303
    mails = _outbox(db)
    assert len(mails) == 1
    text = mail_text(message_from_bytes(mails[0].message, policy=default))
    path = re.search(r"https?://\S+(/confirm/\S+)", text).group(1)
    assert "Kalenderbrevet" in text and "Nyhetsbrevet" in text
    assert "Kalenderbrevet" in client.get(path).get_data(as_text=True)
    assert client.post(path).status_code == 200
    with db.sessions() as s:
        statuses = dict(
            s.execute(
                select(NewsletterList.slug, Subscription.status)
                .join(NewsletterList, NewsletterList.id == Subscription.list_id)
                .join(Subscriber)
                .where(Subscriber.email == "lasare@kommun.example")
            ).all()
        )
    assert statuses == {"nyhetsbrev": "active", "kalender": "active"}
    assert client.post(path).status_code == 410  # used


def test_lists_from_the_command_line(db, cli_env):
    runner = CliRunner()
    created = runner.invoke(main, ["lists", "create", "kalender", "--name", "Kalenderbrevet", "--click-statistics"])
    assert created.exit_code == 0, created.output
    assert _list(db, "kalender").click_statistics
    assert runner.invoke(main, ["lists", "create", "kalender", "--name", "Igen"]).exit_code != 0
    listed = runner.invoke(main, ["lists", "list"])
    assert listed.exit_code == 0
    assert "kalender\t0 active, 0 pending, 0 stopped\tpublic,click-statistics\tKalenderbrevet" in listed.output
