"""Mail texts: plain text with placeholders in braces, unknown ones explained, the personal link
always there (a line in the text, a button in the branded HTML)."""

from __future__ import annotations

from services.survey.mailings import rendering
from services.survey.mailings.rendering import MailTemplate
from shared.models import MailKind, Survey


def test_unknown_placeholders_are_explained():
    assert rendering.text_error("Hej {förnamn}! Svara på {enkät} senast {sista_dag}. {kontaktperson} {namn}") is None
    problem = rendering.text_error("Hej {{ name }}")
    assert problem is not None and problem.startswith("Okänd platshållare { name }")
    assert "{förnamn}, {namn}, {enkät}, {sista_dag}, {kontaktperson}" in problem
    assert "{link}" in rendering.text_error("{link}")
    assert rendering.text_error("Pris: 100 kr {inte ett namn med\nradbrytning}") is None


def test_every_mail_has_the_personal_link_even_when_the_text_does_not(app, config, db, make_survey):
    survey_id = make_survey()
    with app.test_request_context(), db.transaction() as s:
        survey = s.get(Survey, survey_id)
        survey.invitation_text = "Hej {förnamn}, svara gärna. Frågor: {kontaktperson}."
        survey.contact_phone = "031-123 45 67"
        subject, text, html = MailTemplate(config, survey, MailKind.SURVEY_INVITATION).render("Anna Ek", "TOKEN")
    assert subject == "Inbjudan: Utvärdering av Program Millennium – kommunernas erfarenheter"
    assert text.startswith("Hej Anna, svara gärna. Frågor: Eva Utvärderare, eva@vastkom.example, 031-123 45 67.")
    assert "Din personliga länk till enkäten:\nhttp://survey.test/s/TOKEN\n" in text
    assert "/s/TOKEN/decline" in text
    assert 'href="http://survey.test/s/TOKEN"' in html and "Svara på enkäten</a>" in html
    assert 'href="http://survey.test/s/TOKEN/decline"' in html and "#1d4e6e" in html  # the newsletter's layout
    assert "\x00" not in html


def test_a_name_missing_from_the_list_reads_naturally(app, config, db, make_survey):
    survey_id = make_survey()
    with app.test_request_context(), db.transaction() as s:
        survey = s.get(Survey, survey_id)
        _subject, text, _html = MailTemplate(config, survey, MailKind.SURVEY_REMINDER).render("", "T")
    assert text.startswith("Hej du!")
    assert "Sista dag att svara: 31 december 2099." in text
