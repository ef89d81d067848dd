"""The evaluator's pages: list with response rate, upload, YAML editing with errors per path,
preview, mail texts, participants, sending."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from shared.accounts import create_admin
from shared.models import OutboxMail, Participant, Survey
from tests.survey.conftest import MILLENNIUM, PARTICIPANTS, csrf_from


@pytest.fixture
def evaluator(app, db):
    with db.transaction() as s:
        create_admin(s, "eva@vastkom.example", "ett-langt-losenord", role="evaluator")
    client = app.test_client()
    form = client.get("/admin/login").get_data(as_text=True)
    response = client.post(
        "/admin/login",
        data={"email": "eva@vastkom.example", "password": "ett-langt-losenord", "csrf_token": csrf_from(form)},
    )
    assert response.status_code == 302
    return client


def post_form(client, url, data, page_url=None, **kwargs):
    """POST the way a browser does: with the CSRF token read from the page first."""
    token = csrf_from(client.get(page_url or url).get_data(as_text=True))
    return client.post(url, data={**data, "csrf_token": token}, **kwargs)


def test_admin_needs_login(app):
    response = app.test_client().get("/admin/")
    assert response.status_code == 302 and "/admin/login" in response.headers["Location"]


def test_upload_list_and_response_rate(evaluator, db):
    upload = {"file": (io.BytesIO(MILLENNIUM.read_bytes()), "millennium.yaml")}
    response = post_form(evaluator, "/admin/surveys", upload, page_url="/admin/", content_type="multipart/form-data")
    assert response.status_code == 302
    with db.sessions() as s:
        survey = s.scalar(select(Survey))
    assert survey.status == "draft" and survey.anonymous
    listing = evaluator.get("/admin/").get_data(as_text=True)
    assert "Utvärdering av Program Millennium" in listing and "Utkast" in listing
    import_page = f"/admin/surveys/{survey.id}/participants"
    upload = {"file": (io.BytesIO(PARTICIPANTS.read_bytes()), "deltagare.csv")}
    report = post_form(evaluator, import_page + "/import", upload, page_url=import_page, content_type="multipart/form-data")
    assert "460 nya deltagare" in report.get_data(as_text=True)
    with db.transaction() as s:
        for p in s.scalars(select(Participant).limit(46)):
            p.completed_at = p.created_at
    listing = evaluator.get("/admin/").get_data(as_text=True)
    assert "<td>460</td>" in listing and "<td>46</td>" in listing and "10 %" in listing


def test_upload_with_errors_lists_them_and_keeps_input(evaluator, db):
    source = "title: Test\npages:\n  - title: P\n    questions:\n      - {key: a, type: single, text: A}\n"
    response = post_form(evaluator, "/admin/surveys", {"source": source}, page_url="/admin/")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "pages[0].questions[0].options: måste vara en lista med minst ett alternativ" in html
    assert "{key: a, type: single, text: A}" in html
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Survey)) == 0


def test_edit_definition_while_draft_only(evaluator, db, make_survey):
    survey_id = make_survey(open=False)
    url = f"/admin/surveys/{survey_id}/definition"
    source = evaluator.get(url).get_data(as_text=True)
    assert "delaktighet" in source
    with db.sessions() as s:
        yaml_text = __import__("services.survey.surveys", fromlist=["x"]).export_yaml(s.get(Survey, survey_id))
    bad = post_form(evaluator, url, {"source": yaml_text.replace("type: nps", "type: npx")})
    assert bad.status_code == 422 and "pages[2].questions[2].type" in bad.get_data(as_text=True)
    good = post_form(evaluator, url, {"source": yaml_text.replace("I mycket hög grad", "I mycket stor utsträckning")})
    assert good.status_code == 302
    with db.transaction() as s:
        survey = s.get(Survey, survey_id)
        assert survey.definition["pages"][0]["questions"][0]["options"][0]["label"] == "I mycket stor utsträckning"
        survey.status = "open"
    refused = post_form(evaluator, url, {"source": yaml_text})
    assert "kan bara ändras medan den är ett utkast" in refused.get_data(as_text=True)


def test_preview_is_the_respondents_view_and_stores_nothing(evaluator, db, make_survey):
    survey_id = make_survey(open=False)
    url = f"/admin/surveys/{survey_id}/preview"
    html = evaluator.get(url).get_data(as_text=True)
    assert "Förhandsvisning" in html and "Sida 1 av 3" in html and 'name="delaktighet"' in html
    nxt = post_form(evaluator, url, {"page": "0", "action": "next", "delaktighet": "hog"})
    assert "Sida 2 av 3" in nxt.get_data(as_text=True)
    missing = post_form(evaluator, url, {"page": "1", "action": "next"})
    assert missing.status_code == 422 and "Välj ett värde." in missing.get_data(as_text=True)
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Participant)) == 0


def test_open_refuses_past_closing_date_then_works(evaluator, db, make_survey):
    survey_id = make_survey(open=False, closes="2020-01-01")
    page = f"/admin/surveys/{survey_id}"
    response = post_form(evaluator, page + "/status", {"status": "open"}, page_url=page)
    assert "Stängningsdatumet har redan passerat" in evaluator.get(response.headers["Location"]).get_data(as_text=True)
    settings = f"/admin/surveys/{survey_id}/settings"
    form = evaluator.get(settings).get_data(as_text=True)
    assert "Inbjudan: {{ title }}" in form
    with db.sessions() as s:
        survey = s.get(Survey, survey_id)
        fields = {
            "invitation_subject": survey.invitation_subject, "invitation_text": survey.invitation_text,
            "reminder_subject": survey.reminder_subject, "reminder_text": survey.reminder_text,
            "contact_name": "Eva", "contact_email": "eva@vastkom.example", "max_reminders": "2",
            "reminder_interval_days": "7", "closes": "2099-06-30",
        }
    bad = post_form(evaluator, settings, {**fields, "reminder_text": "Hej {{ namn }}"})
    assert bad.status_code == 422 and "Okänd platshållare ”namn”" in bad.get_data(as_text=True)
    assert post_form(evaluator, settings, fields).status_code == 302
    post_form(evaluator, page + "/status", {"status": "open"}, page_url=page)
    with db.sessions() as s:
        survey = s.get(Survey, survey_id)
        assert survey.status == "open" and survey.definition["closes"] == "2099-06-30"


def test_send_invitations_button_and_mail_preview(evaluator, db, make_survey):
    survey_id = make_survey(participants="email,name\nanna@ale.example,Anna Ek\nbo@x.example,Bo\n")
    page = f"/admin/surveys/{survey_id}"
    assert "Skicka inbjudningar (2)" in evaluator.get(page).get_data(as_text=True)
    with db.sessions() as s:
        anna = s.scalar(select(Participant).where(Participant.email == "anna@ale.example"))
    preview = evaluator.get(f"{page}/mail-preview?kind=invitation&participant={anna.id}").get_data(as_text=True)
    assert "Hej Anna Ek!" in preview and f"/s/{anna.token}" in preview
    response = post_form(evaluator, page + "/send", {"kind": "invitations"}, page_url=page)
    assert "2 inbjudningar lades i utkorgen." in evaluator.get(response.headers["Location"]).get_data(as_text=True)
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(OutboxMail)) == 2
    overview = evaluator.get(page).get_data(as_text=True)
    assert "Inbjuden</a>: 2" in overview


def test_participant_add_edit_remove_pages(evaluator, db, make_survey):
    survey_id = make_survey()
    listing = f"/admin/surveys/{survey_id}/participants"
    bad = post_form(evaluator, listing + "/new", {"email": "inte en adress", "name": "X"}, page_url=listing)
    assert bad.status_code == 422 and "inte en giltig e-postadress" in bad.get_data(as_text=True)
    assert 'value="X"' in bad.get_data(as_text=True)
    ok = post_form(evaluator, listing + "/new", {"email": "ny@x.example", "name": "Ny", "attributes": "roll: chef"}, page_url=listing)
    assert ok.status_code == 302
    with db.sessions() as s:
        person = s.scalar(select(Participant))
    edit = f"{listing}/{person.id}"
    assert "roll: chef" in evaluator.get(edit).get_data(as_text=True)
    post_form(evaluator, edit, {"email": "ny@x.example", "name": "Ny Person", "attributes": ""})
    assert "Ny Person" in evaluator.get(listing).get_data(as_text=True)
    post_form(evaluator, edit + "/remove", {}, page_url=edit)
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Participant)) == 0


def test_export_gives_yaml_back(evaluator, make_survey):
    survey_id = make_survey()
    response = evaluator.get(f"/admin/surveys/{survey_id}/export")
    assert response.status_code == 200 and "key: pastaenden" in response.get_data(as_text=True)


def test_structured_editor_texts_required_and_order(evaluator, db, make_survey):
    survey_id = make_survey(open=False)
    url = f"/admin/surveys/{survey_id}/edit"
    html = evaluator.get(url).get_data(as_text=True)
    assert 'name="pages.0.questions.0.options.0.label" value="I mycket hög grad"' in html
    with db.sessions() as s:
        from services.survey.surveys import text_fields

        fields = dict(text_fields(s.get(Survey, survey_id).definition))
    fields["pages.0.questions.0.text"] = "Hur involverad har du varit?"
    fields["pages.1.questions.1.rows.1.label"] = "Jag hade mandat"
    fields["pages.0.questions.1.required"] = "on"  # omraden becomes required; delaktighet no longer is
    assert post_form(evaluator, url, fields).status_code == 302
    with db.sessions() as s:
        pages = s.get(Survey, survey_id).definition["pages"]
    assert pages[0]["questions"][0]["text"] == "Hur involverad har du varit?"
    assert pages[1]["questions"][1]["rows"][1] == {"key": "mandat", "label": "Jag hade mandat"}
    assert [q["required"] for q in pages[0]["questions"]] == [False, True, False]

    # Typed changes survive a move; moving a question above the one it depends on is refused.
    moved = post_form(evaluator, url, {**fields, "pages.0.title": "Om dig", "op": "down:0:0"})
    assert moved.status_code == 302
    with db.sessions() as s:
        pages = s.get(Survey, survey_id).definition["pages"]
    assert [q["key"] for q in pages[0]["questions"]] == ["omraden", "delaktighet", "ar"]
    assert pages[0]["title"] == "Om dig"
    refused = post_form(evaluator, url, {"op": "up:2:1"})
    assert refused.status_code == 422 and "show_if.question" in refused.get_data(as_text=True)

    empty = post_form(evaluator, url, {"pages.0.questions.0.text": ""})
    assert empty.status_code == 422 and "saknas" in empty.get_data(as_text=True)
    assert 'id="pages-0-questions-0-text-error"' in empty.get_data(as_text=True)


@pytest.mark.parametrize("anonymous", [False, True])
def test_participant_page_shows_answers_only_in_a_named_survey(evaluator, db, make_survey, anonymous):
    from services.survey.responses import store_complete_response
    from tests.survey.conftest import PAGE1, PAGE2, PAGE3

    survey_id = make_survey(participants="email,name\nanna@ale.example,Anna\n", anonymous=anonymous)
    with db.transaction() as s:
        person = s.scalar(select(Participant))
        store_complete_response(s, s.get(Survey, survey_id), {**PAGE1, **PAGE2, **PAGE3}, participant=person)
        person_id = person.id
    html = evaluator.get(f"/admin/surveys/{survey_id}/participants/{person_id}").get_data(as_text=True)
    if anonymous:
        assert "Samverka tidigt." not in html and "svaren kan inte kopplas till deltagaren" in html
    else:
        assert "Samverka tidigt." in html and "I ganska hög grad" in html and "Annat: Skolan" in html
        assert "Samverkan med regionen fungerade väl: Vet inte" in html
