"""Personal fields: {{ förnamn }} and {{ namn }} with fallbacks, refused when unknown, filled in per
recipient from the issue rendered once."""

from __future__ import annotations

from email import message_from_bytes
from email.policy import default

import pytest
from sqlalchemy import insert

from services.mailer.delivery.pipeline import IssuePipeline
from services.mailer.issues import domain, personal
from shared.models import Issue, Subscriber, Subscription
from tests.mailer.conftest import mail_html, mail_text
from tests.mailer.issue_fixtures import add_subscribers, default_list


def test_markers_carry_field_and_fallback():
    text = personal.to_markers("Hej {{ förnamn | default('du') }}! / {{namn}} / {{ förnamn|default(\"vän\") }}")
    assert "{{" not in text
    assert personal.fill(text, personal.Person("Anna Berg")) == "Hej Anna! / Anna Berg / Anna"
    assert personal.fill(text, personal.Person("")) == "Hej du! /  / vän"


def test_values_are_escaped_for_html():
    text = personal.to_markers("Hej {{ namn }}")
    assert personal.fill(text, personal.Person("<b>Eva</b>"), html=True) == "Hej &lt;b&gt;Eva&lt;/b&gt;"


@pytest.mark.parametrize("bad", ["{{ name }}", "{{ förnamn | upper }}", "{{ }}", "{{ förnamn | default(du) }}"])
def test_unknown_fields_are_refused(bad):
    with pytest.raises(personal.FieldError, match="Okänt personligt fält"):
        personal.check(f"Hej {bad}!")


def test_the_archive_shows_the_fallback():
    assert personal.generic("Hej {{ förnamn | default('du') }}{{ namn }}!") == "Hej du!"


def test_saving_an_issue_with_an_unknown_field_names_the_field(app, db):
    with app.app_context(), db.transaction() as session, pytest.raises(domain.IssueError) as caught:
        domain.create_issue(
            session, list_id=default_list(session).id, subject="Hej", preheader="", source="Hej {{ name }}!"
        )
    assert caught.value.field == "source"
    assert "{{ name }}" in caught.value.message


def test_the_edit_form_refuses_an_unknown_field(app, editor_client, db):
    with db.transaction() as session:
        list_id = default_list(session).id
    response = editor_client.post(
        "/admin/issues/new", data={"list_id": list_id, "subject": "Hej {{ namn }}", "source": "Hej {{ name }}!"}
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Okänt personligt fält {{ name }}" in page
    assert "Hej {{ name }}!" in page  # the editor's text stays in the box


def test_each_recipient_gets_their_own_name(smtp_app, smtp_server):
    svc = smtp_app.extensions["utskick"]
    with svc.db.transaction() as session:
        list_id = default_list(session).id
        session.execute(
            insert(Subscriber),
            [
                {"email": "anna@example.org", "name": "Anna Berg", "language": "sv"},
                {"email": "utan@example.org", "name": "", "language": "sv"},
                {"email": "elak@example.org", "name": "<script>Karl</script> Lund", "language": "sv"},
            ],
        )
    with svc.db.transaction() as session:
        for subscriber in session.query(Subscriber).all():
            session.add(
                Subscription(list_id=list_id, subscriber_id=subscriber.id, status="active", consent_method="import")
            )
    with smtp_app.app_context(), svc.db.transaction() as session:
        issue = domain.create_issue(
            session,
            list_id=list_id,
            subject="Till {{ förnamn | default('dig') }}",
            preheader="",
            source="Hej {{ förnamn | default('du') }}!\n\nDu heter {{ namn | default('okänt') }}.",
        )
        domain.send_now(session, svc.config, issue)
        html_once = issue.html
    assert html_once.count("UTSKICKPFN") == 1  # rendered once, with a marker, not per person
    IssuePipeline(svc.config, svc.db).run()
    messages = {m.rcpt_tos[0]: m.message for m in smtp_server.wait_for(3)}
    anna, utan, elak = messages["anna@example.org"], messages["utan@example.org"], messages["elak@example.org"]
    assert anna["Subject"] == "Till Anna"
    assert "Hej Anna!" in mail_text(anna) and "Du heter Anna Berg." in mail_text(anna)
    assert "Hej Anna!" in mail_html(anna)
    assert utan["Subject"] == "Till dig"
    assert "Hej du!" in mail_text(utan) and "Du heter okänt." in mail_text(utan)
    assert "&lt;script&gt;Karl&lt;/script&gt; Lund" in mail_html(elak)
    assert "<script>" not in mail_html(elak)
    for message in messages.values():
        assert "UTSKICKP" not in mail_text(message) and "UTSKICKP" not in mail_html(message)


def test_preview_and_test_mail_use_the_chosen_subscriber(app, editor_client, db):
    with db.transaction() as session:
        add_subscribers(session, 1, prefix="vald")
    with app.app_context(), db.transaction() as session:
        issue = domain.create_issue(
            session,
            list_id=default_list(session).id,
            subject="Hej {{ förnamn }}",
            preheader="",
            source="Hej {{ namn }}!",
        )
        issue_id = issue.id
    page = editor_client.get(f"/admin/issues/{issue_id}/preview?person=vald0@example.org").get_data(as_text=True)
    assert "Hej Person 0!" in page
    html = editor_client.get(f"/admin/issues/{issue_id}/preview.html?person=vald0@example.org").get_data(as_text=True)
    assert "Hej Person 0!" in html
    example = editor_client.get(f"/admin/issues/{issue_id}/preview").get_data(as_text=True)
    assert "Hej Exempel Exempelsson!" in example
    response = editor_client.post(
        f"/admin/issues/{issue_id}/test", data={"addresses": "prov@example.org", "person": "vald0@example.org"}
    )
    assert response.status_code == 302
    with db.transaction() as session:
        from shared.models import OutboxMail

        mail = session.query(OutboxMail).one()
        assert mail.subject == "[Test] Hej Person"
        message = message_from_bytes(mail.message, policy=default)
        assert "Hej Person 0!" in mail_text(message)
    with db.transaction() as session:
        assert session.get(Issue, issue_id).source == "Hej {{ namn }}!"


def test_a_draft_saved_before_the_check_is_not_sent_with_an_unknown_field(app, editor_client, db):
    with db.transaction() as session:
        add_subscribers(session, 1)
        issue = Issue(list_id=default_list(session).id, subject="Hej", source="Hej {{ name }}!")
        session.add(issue)
        session.flush()
        issue_id = issue.id
    preview = editor_client.get(f"/admin/issues/{issue_id}/preview")
    assert preview.status_code == 302  # back to the form, with the message
    assert editor_client.get(f"/admin/issues/{issue_id}/preview.html").status_code == 400
    sent = editor_client.post(f"/admin/issues/{issue_id}/send", data={"expected": "1"}, follow_redirects=True)
    assert "Okänt personligt fält {{ name }}" in sent.get_data(as_text=True)
    with db.sessions() as session:
        assert session.get(Issue, issue_id).status == "draft"
