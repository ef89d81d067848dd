"""Mail templates: colours checked for contrast, an issue picks one, the mail shows its colours,
logo, header links (with the personal stop link) and footer text."""

from __future__ import annotations

from sqlalchemy import select

from services.mailer.delivery.pipeline import IssuePipeline
from services.mailer.issues import domain
from shared.models import MailTemplate
from tests.mailer.conftest import mail_html, mail_text
from tests.mailer.issue_fixtures import add_subscribers, default_list

GOOD = {
    "name": "VästKom",
    "header_colour": "#005a70",
    "text_colour": "#ffffff",
    "link_colour": "#8a1538",
    "header_links": "y",
    "footer_text": "Ansvarig utgivare: Anna Berg",
}


def test_low_contrast_is_refused_with_the_ratio(editor_client):
    refused = editor_client.post("/admin/templates/new", data={**GOOD, "text_colour": "#33aabb"})
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert "Texten i sidhuvudet mot sidhuvudets färg har kontrasten" in page and "minst 4,5:1" in page
    assert 'value="#33aabb"' in page  # the input stays
    bad = editor_client.post("/admin/templates/new", data={**GOOD, "link_colour": "röd"})
    assert "Skriv färgen som #rrggbb" in bad.get_data(as_text=True)


def test_an_issue_in_a_template(smtp_app, smtp_server):
    from tests.mailer.conftest import sign_in

    editor = sign_in(smtp_app, smtp_app.test_client())
    assert editor.post("/admin/templates/new", data=GOOD).status_code == 302
    db = smtp_app.extensions["utskick"].db
    with db.sessions() as s:
        template_id = s.scalar(select(MailTemplate.id))
    assert "Ledare" in editor.get(f"/admin/templates/{template_id}/preview.html").get_data(as_text=True)
    starter = editor.get("/admin/issues/new?starter=1").get_data(as_text=True)
    assert "[innehåll]" in starter and "```kalendarium" in starter
    with db.transaction() as s:
        add_subscribers(s, 1)
        list_id = default_list(s).id
    created = editor.post(
        "/admin/issues/new",
        data={
            "list_id": list_id,
            "subject": "Nytt",
            "source": "## Rubrik\n\n[Länk](https://example.org)",
            "template_id": template_id,
        },
    )
    assert created.status_code == 302
    with smtp_app.app_context(), db.transaction() as s:
        issue = s.scalars(select(domain.Issue)).one()
        assert issue.template_id == template_id
        domain.send_now(s, smtp_app.extensions["utskick"].config, issue)
    IssuePipeline(smtp_app.extensions["utskick"].config, db).run()
    message = smtp_server.wait_for(1)[0].message
    html = mail_html(message)
    assert "background:#005a70" in html.replace(" ", "")
    assert "#8a1538" in html  # headings and links in the template's colour
    assert "Starta prenumeration" in html and "Läs i webbläsaren" in html
    stop_links = [part for part in html.split('"') if "/unsubscribe/" in part]
    assert len(set(stop_links)) == 1 and len(stop_links) >= 2  # header and footer: the same personal link
    assert "Ansvarig utgivare: Anna Berg" in html and "Ansvarig utgivare: Anna Berg" in mail_text(message)
