"""The evaluator's survey pages: list with response rate, upload, YAML editing with errors per path,
the structured editor, opening (after fixing the closing date), export."""

from __future__ import annotations

import io

from sqlalchemy import func, select

from services.survey.surveys.domain import export_yaml
from services.survey.surveys.editor import form_values
from services.survey.surveys.questions import definition_of
from shared.models import Participant, Survey
from tests.survey.conftest import MILLENNIUM, PARTICIPANTS, post_form


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
    report = post_form(
        evaluator, import_page + "/import", upload, page_url=import_page, content_type="multipart/form-data"
    )
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


def test_edit_definition_as_yaml(evaluator, db, make_survey):
    survey_id = make_survey(open=False)
    url = f"/admin/surveys/{survey_id}/definition"
    source = evaluator.get(url).get_data(as_text=True)
    assert "delaktighet" in source
    with db.sessions() as s:
        yaml_text = export_yaml(s.get(Survey, survey_id))
    bad = post_form(evaluator, url, {"source": yaml_text.replace("type: nps", "type: npx")})
    assert bad.status_code == 422 and "pages[2].questions[2].type" in bad.get_data(as_text=True)
    good = post_form(evaluator, url, {"source": yaml_text.replace("I mycket hög grad", "I mycket stor utsträckning")})
    assert good.status_code == 302
    with db.transaction() as s:
        survey = s.get(Survey, survey_id)
        assert survey.definition["pages"][0]["questions"][0]["options"][0]["label"] == "I mycket stor utsträckning"
        survey.status = "open"
    assert post_form(evaluator, url, {"source": yaml_text}).status_code == 302  # open, nobody has answered


def test_open_refuses_past_closing_date_then_works(evaluator, db, make_survey):
    survey_id = make_survey(open=False, closes="2020-01-01")
    page = f"/admin/surveys/{survey_id}"
    response = post_form(evaluator, page + "/status", {"status": "open"}, page_url=page)
    assert "Stängningsdatumet har redan passerat" in evaluator.get(response.headers["Location"]).get_data(as_text=True)
    settings = f"/admin/surveys/{survey_id}/settings"
    form = evaluator.get(settings).get_data(as_text=True)
    assert "Inbjudan: {enkät}" in form
    with db.sessions() as s:
        survey = s.get(Survey, survey_id)
        fields = {
            "invitation_subject": survey.invitation_subject,
            "invitation_text": survey.invitation_text,
            "reminder_subject": survey.reminder_subject,
            "reminder_text": survey.reminder_text,
            "contact_name": "Eva",
            "contact_email": "eva@vastkom.example",
            "max_reminders": "2",
            "reminder_interval_days": "7",
            "closes": "2099-06-30",
        }
    bad = post_form(evaluator, settings, {**fields, "reminder_text": "Hej {namm}"})
    assert bad.status_code == 422 and "Okänd platshållare {namm}" in bad.get_data(as_text=True)
    assert post_form(evaluator, settings, fields).status_code == 302
    post_form(evaluator, page + "/status", {"status": "open"}, page_url=page)
    with db.sessions() as s:
        survey = s.get(Survey, survey_id)
        assert survey.status == "open" and survey.definition["closes"] == "2099-06-30"


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
        fields = form_values(definition_of(s.get(Survey, survey_id)))
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
    assert refused.status_code == 422
    assert (
        "Fråga 1 på sida 3, villkoret, frågan: måste vara nyckeln till en fråga som kommer tidigare"
        in refused.get_data(as_text=True)
    )

    empty = post_form(evaluator, url, {"pages.0.questions.0.text": ""})
    assert empty.status_code == 422 and "saknas" in empty.get_data(as_text=True)
    assert 'id="pages-0-questions-0-text-error"' in empty.get_data(as_text=True)


def test_survey_page_gives_the_closing_date_in_the_evaluators_language(evaluator, make_survey):
    survey_id = make_survey(language="en")  # an English survey, a Swedish evaluator
    html = evaluator.get(f"/admin/surveys/{survey_id}").get_data(as_text=True)
    assert "Stänger: 31 december 2099" in html and "December" not in html


def test_structured_editor_names_question_types_in_words(evaluator, make_survey):
    html = evaluator.get(f"/admin/surveys/{make_survey(open=False)}/edit").get_data(as_text=True)
    assert '<span class="muted">(Ett svar)</span>' in html and '<span class="muted">(Matris)</span>' in html
    assert "(single)" not in html


def test_one_size_limit_and_one_message_for_upload_and_pasted_text(evaluator, db):
    too_large = MILLENNIUM.read_text(encoding="utf-8") + "\n# " + "x" * (5 * 1024 * 1024) + "\n"
    upload = {"file": (io.BytesIO(too_large.encode()), "stor.yaml")}
    pasted = {"source": too_large}
    for data in (upload, pasted):
        response = post_form(evaluator, "/admin/surveys", data, page_url="/admin/", content_type="multipart/form-data")
        assert response.status_code == 422
        assert "Definitionen är för stor. Den får vara högst 2 MB." in response.get_data(as_text=True)
    deep = post_form(evaluator, "/admin/surveys", {"source": "pages: " + "[" * 5000 + "]" * 5000}, page_url="/admin/")
    assert deep.status_code == 422 and "för djupt nästlad" in deep.get_data(as_text=True)
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Survey)) == 0
