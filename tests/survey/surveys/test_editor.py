"""The survey builder in the browser, without JavaScript: start a survey, add and change pages,
questions, options and conditions, errors in plain Swedish, versions, and what stays refused once
people have answered."""

from __future__ import annotations

import copy
import json

from sqlalchemy import func, select

from services.survey.surveys.definitions import parse_definition
from services.survey.surveys.domain import export_yaml
from services.survey.surveys.editor import form_values, key_from
from services.survey.surveys.questions import definition_of
from shared.models import Participant, Survey, SurveyVersion
from tests.survey.conftest import PAGE1, millennium, post, post_form, token_of


def stored(db, survey_id: int) -> dict:
    with db.sessions() as s:
        return s.get(Survey, survey_id).definition


def form_of(db, survey_id: int) -> dict[str, str]:
    """What the builder's form sends unchanged: every field, and the check boxes that are ticked."""
    with db.sessions() as s:
        definition = definition_of(s.get(Survey, survey_id))
    fields = form_values(definition)
    for p, page in enumerate(definition.pages):
        for i, q in enumerate(page.questions):
            for flag in ("required", "other", "dont_know"):
                if getattr(q, flag):
                    fields[f"pages.{p}.questions.{i}.{flag}"] = "on"
    return fields


def build(evaluator, db, survey_id: int, op: str = "", **changes):
    url = f"/admin/surveys/{survey_id}/edit"
    return post_form(evaluator, url, {**form_of(db, survey_id), **changes, **({"op": op} if op else {})})


def new_survey(evaluator, **data) -> int:
    response = post_form(evaluator, "/admin/surveys/new", data)
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.headers["Location"].split("/")[-2])


def test_key_from_text_is_short_plain_and_unique():
    assert key_from("Hur nöjd är du med stödet?", set()) == "hur_nojd_ar_du_med_stodet"
    assert key_from("Hur nöjd är du?", {"hur_nojd_ar_du"}) == "hur_nojd_ar_du_2"
    assert len(key_from("Ett mycket långt påstående " * 10, set())) <= 40


def test_new_survey_blank_from_template_or_as_a_copy(evaluator, db, make_survey):
    page = evaluator.get("/admin/surveys/new").get_data(as_text=True)
    assert "Mallen ”Utvärdering av Program Millennium”" in page
    refused = post_form(evaluator, "/admin/surveys/new", {"start": "blank", "title": ""})
    assert refused.status_code == 422 and "Skriv enkätens rubrik." in refused.get_data(as_text=True)

    blank = new_survey(evaluator, start="blank", title="Brukarenkät")
    definition = stored(db, blank)
    assert definition["title"] == "Brukarenkät" and len(definition["pages"]) == 1
    template = new_survey(evaluator, start="template:millennium", title="")
    assert stored(db, template)["title"].startswith("Utvärdering av Program Millennium")

    original = make_survey(participants="email,name\r\nanna@ale.example,Anna\r\n")
    copied = new_survey(evaluator, start="copy", copy_of=str(original), title="")
    with db.sessions() as s:
        copy = s.get(Survey, copied)
        assert copy.title.startswith("Kopia av Utvärdering") and copy.status == "draft"
        assert copy.contact_email == "eva@vastkom.example" and "closes" not in copy.definition
        assert s.scalar(select(func.count()).select_from(Participant).where(Participant.survey_id == copied)) == 0
    refused = post_form(evaluator, "/admin/surveys/new", {"start": "copy", "copy_of": "999"})
    assert refused.status_code == 422 and "Välj enkäten som ska kopieras." in refused.get_data(as_text=True)


def test_build_a_survey_with_pages_questions_options_and_a_condition(evaluator, db):
    survey_id = new_survey(evaluator, start="blank", title="Brukarenkät")
    q = "pages.0.questions.1"
    assert build(evaluator, db, survey_id, "add_question:0", **{"new_type.0": "single"}).status_code == 302
    assert stored(db, survey_id)["pages"][0]["questions"][1]["options"] == [
        {"key": "alternativ_1", "label": "Alternativ 1"},
        {"key": "alternativ_2", "label": "Alternativ 2"},
    ]
    # The key follows the text, option keys follow their labels, a third option is added.
    changes = {f"{q}.text": "Hur nöjd är du?", f"{q}.options.0.label": "Nöjd", f"{q}.options.1.label": "Missnöjd"}
    assert build(evaluator, db, survey_id, "option_add:0:1", **changes).status_code == 302
    question = stored(db, survey_id)["pages"][0]["questions"][1]
    assert question["key"] == "hur_nojd_ar_du"
    assert [o["key"] for o in question["options"]] == ["nojd", "missnojd", "nytt_alternativ"]
    # An edited key stays as written.
    build(evaluator, db, survey_id, **{f"{q}.key": "nojdhet", f"{q}.other": "on", f"{q}.required": "on"})
    build(evaluator, db, survey_id, "option_up:0:1:1")
    question = stored(db, survey_id)["pages"][0]["questions"][1]
    assert question["key"] == "nojdhet" and question["other"] and question["required"]
    assert [o["key"] for o in question["options"]] == ["missnojd", "nojd", "nytt_alternativ"]

    # A second page whose question is shown only to the dissatisfied, chosen from the menu.
    assert build(evaluator, db, survey_id, "add_page").status_code == 302
    html = evaluator.get(f"/admin/surveys/{survey_id}/edit").get_data(as_text=True)
    assert '<option value="nojdhet=missnojd">Missnöjd</option>' in html
    follow_up = {"pages.1.questions.0.text": "Vad kan vi göra bättre?", "pages.1.questions.0.type": "longtext"}
    build(evaluator, db, survey_id, **follow_up, **{"pages.1.questions.0.show_if": "nojdhet=missnojd"})
    last = stored(db, survey_id)["pages"][1]["questions"][0]
    assert last["type"] == "longtext" and last["key"] == "vad_kan_vi_gora_battre"
    assert last["show_if"] == {"question": "nojdhet", "in": ["missnojd"]}
    # Renaming the key that a condition names carries the condition along.
    build(evaluator, db, survey_id, **{f"{q}.key": "nojd"})
    assert stored(db, survey_id)["pages"][1]["questions"][0]["show_if"]["question"] == "nojd"

    # A type change to a matrix gets statements and a scale; back to a scale keeps the scale.
    build(evaluator, db, survey_id, **{"pages.0.questions.0.type": "matrix"})
    matrix = stored(db, survey_id)["pages"][0]["questions"][0]
    assert matrix["type"] == "matrix" and len(matrix["rows"]) == 2 and matrix["scale"]["max"] == 5
    build(evaluator, db, survey_id, "row_remove:0:0:1")
    assert len(stored(db, survey_id)["pages"][0]["questions"][0]["rows"]) == 1


def test_round_trip_of_what_the_builder_makes(evaluator, db):
    survey_id = new_survey(evaluator, start="template:millennium", title="Runda två")
    build(evaluator, db, survey_id, "add_question:1", **{"new_type.1": "matrix"})
    build(evaluator, db, survey_id, "add_page")
    definition = stored(db, survey_id)
    with db.sessions() as s:
        exported = export_yaml(s.get(Survey, survey_id))
    assert parse_definition(exported) == definition
    assert parse_definition(json.dumps(definition, ensure_ascii=False)) == definition


def test_errors_name_the_question_in_plain_swedish(evaluator, db, make_survey):
    survey_id = make_survey(open=False)
    response = build(evaluator, db, survey_id, **{"pages.0.questions.0.options.1.label": ""})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Fråga 1 på sida 1, svarsalternativen (2), texten: saknas" in html
    assert 'href="#pages-0-questions-0-options-1-label"' in html and "pages[0]" not in html
    for _removed in range(2):
        build(evaluator, db, survey_id, "option_remove:0:0:0")
    two_left = build(evaluator, db, survey_id, "option_remove:0:0:0")
    assert "Fråga 1 på sida 1, svarsalternativen: lägg till minst två svarsalternativ" in two_left.get_data(
        as_text=True
    )
    bad_key = build(evaluator, db, survey_id, **{"pages.0.questions.1.key": "delaktighet"})
    assert "Fråga 2 på sida 1, nyckeln: nyckeln delaktighet används redan av en annan fråga" in bad_key.get_data(
        as_text=True
    )
    assert evaluator.post(f"/admin/surveys/{survey_id}/edit", data={"op": "up:x"}).status_code in (400, 422)


def test_once_answered_texts_change_but_nothing_that_orphans_answers(evaluator, db, make_survey, client):
    survey_id = make_survey(participants="email,name\r\nanna@ale.example,Anna\r\n")
    post(client, token_of(db), PAGE1, "next")
    refused = build(evaluator, db, survey_id, "remove:0:1")
    assert refused.status_code == 422
    assert "Frågan ”Inom vilka områden har du deltagit? Välj alla som passar.” har svar" in refused.get_data(
        as_text=True
    )
    assert build(evaluator, db, survey_id, "option_remove:0:0:3").status_code == 422
    assert build(evaluator, db, survey_id, **{"pages.0.questions.0.type": "multiple"}).status_code == 422
    # A new text keeps its key once there are answers.
    assert build(evaluator, db, survey_id, **{"pages.0.questions.0.text": "Hur delaktig var du?"}).status_code == 302
    question = stored(db, survey_id)["pages"][0]["questions"][0]
    assert question["text"] == "Hur delaktig var du?" and question["key"] == "delaktighet"


def test_every_save_is_a_version_and_one_can_be_restored(evaluator, db, make_survey):
    survey_id = make_survey(open=False)
    build(evaluator, db, survey_id, title="Andra rubriken")
    build(evaluator, db, survey_id, "remove:0:2")
    page = evaluator.get(f"/admin/surveys/{survey_id}/versions").get_data(as_text=True)
    assert page.count("Återställ<") == 2 and "Andra rubriken" in page
    with db.sessions() as s:
        first = s.scalars(select(SurveyVersion.id).where(SurveyVersion.survey_id == survey_id)).first()
    url = f"/admin/surveys/{survey_id}/versions"
    assert post_form(evaluator, url, {"version": str(first)}).status_code == 302
    definition = stored(db, survey_id)
    assert definition["title"].startswith("Utvärdering") and len(definition["pages"][0]["questions"]) == 3
    with db.sessions() as s:
        assert s.scalar(select(func.count()).where(SurveyVersion.survey_id == survey_id)) == 4
    assert post_form(evaluator, url, {"version": "999999"}).status_code == 404


def test_new_types_in_the_builder_date_dropdown_and_info(evaluator, db):
    survey_id = new_survey(evaluator, start="blank", title="Typer")
    for kind in ("date", "dropdown", "info"):
        assert build(evaluator, db, survey_id, "add_question:0", **{"new_type.0": kind}).status_code == 302
    q = "pages.0.questions"
    changes = {f"{q}.1.min": "2026-01-01", f"{q}.1.max": "2025-01-01", f"{q}.3.text": "Tack för hjälpen!"}
    refused = build(evaluator, db, survey_id, **changes)
    assert "Fråga 2 på sida 1, högsta värdet: måste vara samma dag som min eller senare" in refused.get_data(
        as_text=True
    )
    assert build(evaluator, db, survey_id, **{**changes, f"{q}.1.max": "2026-12-31"}).status_code == 302
    questions = stored(db, survey_id)["pages"][0]["questions"]
    assert (questions[1]["type"], questions[1]["min"], questions[1]["max"]) == ("date", "2026-01-01", "2026-12-31")
    assert questions[2]["type"] == "dropdown" and len(questions[2]["options"]) == 2
    assert questions[3] == {"key": "tack_for_hjalpen", "type": "info", "text": "Tack för hjälpen!", "required": False}
    # A number question turned into a date question leaves its numbers behind.
    build(evaluator, db, survey_id, **{f"{q}.0.type": "number"})
    build(evaluator, db, survey_id, **{f"{q}.0.min": "3"})
    build(evaluator, db, survey_id, **{f"{q}.0.type": "date"})
    assert stored(db, survey_id)["pages"][0]["questions"][0] == {
        "key": "fraga_1",
        "type": "date",
        "text": "Ny fråga",
        "required": False,
    }


def test_a_type_change_keeps_what_was_typed_in_the_same_save(evaluator, db):
    survey_id = new_survey(evaluator, start="blank", title="Typbyte")
    build(evaluator, db, survey_id, "add_question:0", **{"new_type.0": "single"})
    q = "pages.0.questions.1"
    typed = {
        f"{q}.type": "multiple",
        f"{q}.text": "Vad använder du?",
        f"{q}.help": "Välj alla som passar.",
        f"{q}.options.0.label": "Bibliotek",
        f"{q}.options.1.label": "Simhall",
    }
    assert build(evaluator, db, survey_id, **typed).status_code == 302
    question = stored(db, survey_id)["pages"][0]["questions"][1]
    assert (question["type"], question["text"], question["help"]) == (
        "multiple",
        "Vad använder du?",
        "Välj alla som passar.",
    )
    assert question["options"] == [{"key": "bibliotek", "label": "Bibliotek"}, {"key": "simhall", "label": "Simhall"}]
    # Options typed for a choice go along to a ranking; to a short text only the texts go.
    build(evaluator, db, survey_id, **{f"{q}.type": "ranking", f"{q}.options.1.label": "Badhus"})
    assert [o["label"] for o in stored(db, survey_id)["pages"][0]["questions"][1]["options"]] == ["Bibliotek", "Badhus"]
    build(evaluator, db, survey_id, **{f"{q}.type": "text", f"{q}.text": "Vad saknar du?"})
    question = stored(db, survey_id)["pages"][0]["questions"][1]
    assert (question["type"], question["text"], "options" in question) == ("text", "Vad saknar du?", False)
    # A scale's words typed in the same save as the change to a matrix are its scale's words.
    build(evaluator, db, survey_id, **{f"{q}.type": "scale"})
    build(evaluator, db, survey_id, **{f"{q}.type": "matrix", f"{q}.min_label": "Inte alls", f"{q}.max_label": "Helt"})
    scale = stored(db, survey_id)["pages"][0]["questions"][1]["scale"]
    assert (scale["min_label"], scale["max_label"]) == ("Inte alls", "Helt")


def keys_by_page(db, survey_id: int) -> list[list[str]]:
    return [[q["key"] for q in page["questions"]] for page in stored(db, survey_id)["pages"]]


def test_dragged_order_is_what_the_save_stores(evaluator, db, make_survey):
    """The hidden order fields in the order the script left the boxes: questions across pages,
    options within their list; a button sent along acts on the box it was pressed in."""
    survey_id = make_survey(open=False)
    assert keys_by_page(db, survey_id)[:2] == [["delaktighet", "omraden", "ar"], ["information", "pastaenden"]]
    # "ar" dragged to the top of page 1, "information" from page 2 to the end of page 1, and the
    # fourth option of "omraden" to the top of its list; then "Ta bort" pressed on that option.
    order = ["0", "0:2", "0:0", "0:1", "1:0", "1", "1:1", "2", "2:0", "2:1", "2:2", "2:3"]
    options = {"order.0.1.options": ["3", "0", "1", "2", "4"]}
    response = build(evaluator, db, survey_id, "option_remove:0:1:3", order=order, **options)
    assert response.status_code == 302 and response.headers["Location"].endswith("#pages-0-questions-2")
    assert keys_by_page(db, survey_id)[:2] == [["ar", "delaktighet", "omraden", "information"], ["pastaenden"]]
    dragged = stored(db, survey_id)["pages"][0]["questions"][2]["options"]
    original = millennium()["pages"][0]["questions"][1]["options"]
    assert [o["key"] for o in dragged] == [original[n]["key"] for n in (0, 1, 2, 4)]
    # A question twice (or one left out) is no order the page can have sent.
    assert build(evaluator, db, survey_id, order=["0", "0:0", "0:0"]).status_code == 400


def test_preview_shows_the_unsaved_form_as_respondents_see_it(evaluator, db, make_survey):
    survey_id = make_survey(open=False)
    with db.sessions() as s:
        versions = s.scalar(select(func.count()).where(SurveyVersion.survey_id == survey_id))
    changes = {"pages.0.questions.0.text": "Hur delaktig var du egentligen?"}
    # Without JavaScript: the button shows the whole builder again with the preview beside it.
    page = build(evaluator, db, survey_id, "preview", **changes)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'aria-labelledby="preview-heading"' in html
    assert 'value="Hur delaktig var du egentligen?"' in html  # the form keeps what was typed
    assert "<legend>Hur delaktig var du egentligen?" in html  # the respondent's fieldset, as answered
    # With JavaScript: the fragment alone, from the same form.
    url = f"/admin/surveys/{survey_id}/edit/preview"
    fragment = post_form(evaluator, url, {**form_of(db, survey_id), **changes}, page_url=url.removesuffix("/preview"))
    body = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<legend>Hur delaktig var du egentligen?" in body and "<html" not in body
    assert "Sida 3 av 3" in body and "Besvara bara om du svarade" in body  # every page, follow-ups too
    broken = post_form(evaluator, url, {**form_of(db, survey_id), "pages.0.questions.0.text": ""}, page_url=url[:-8])
    assert "Fråga 1 på sida 1, frågetexten: saknas" in broken.get_data(as_text=True)
    with db.sessions() as s:
        assert s.scalar(select(func.count()).where(SurveyVersion.survey_id == survey_id)) == versions
    assert stored(db, survey_id)["pages"][0]["questions"][0]["text"] != changes["pages.0.questions.0.text"]


MUNICIPALITIES = [f"Kommun {n}" for n in range(1, 50)]


def test_condition_menus_offer_every_earlier_answer_and_say_what_cannot(evaluator, db):
    survey_id = new_survey(evaluator, start="blank", title="Villkor")
    for kind in ("dropdown", "date", "ranking", "scale", "text"):
        build(evaluator, db, survey_id, "add_question:0", **{"new_type.0": kind})
    with db.sessions() as s:
        survey = s.get(Survey, survey_id)
        definition = copy.deepcopy(survey.definition)
    dropdown = definition["pages"][0]["questions"][1]
    dropdown["options"] = [{"key": f"kommun_{n}", "label": label} for n, label in enumerate(MUNICIPALITIES, 1)]
    with db.transaction() as s:
        s.get(Survey, survey_id).definition = definition
    html = evaluator.get(f"/admin/surveys/{survey_id}/edit").get_data(as_text=True)
    last = html[html.index('id="pages-0-questions-5-show_if"') :]
    last = last[: last.index("</select>")]
    assert last.count('<option value="ny_fraga=kommun_') == 49 and '"ny_fraga=kommun_49">Kommun 49<' in last
    assert '"ny_fraga_4=1">1<' in last and '"ny_fraga_4=5">5<' in last  # the scale's points
    assert "kan inte styra ett villkor" in last and "(Datum)</option>" in last and "(Rangordning)</option>" in last
    assert "datum, rangordning, tal, text och matris kan inte det" in html
    # Chosen in the menu, saved, exported and imported again: the same condition.
    assert build(evaluator, db, survey_id, **{"pages.0.questions.5.show_if": "ny_fraga=kommun_49"}).status_code == 302
    definition = stored(db, survey_id)
    assert definition["pages"][0]["questions"][5]["show_if"] == {"question": "ny_fraga", "in": ["kommun_49"]}
    with db.sessions() as s:
        assert parse_definition(export_yaml(s.get(Survey, survey_id))) == definition
    # A date or ranking question named in YAML is refused in plain words.
    definition["pages"][0]["questions"][5]["show_if"] = {"question": "ny_fraga_2", "equals": "2026-01-01"}
    refused = post_form(evaluator, f"/admin/surveys/{survey_id}/definition", {"source": json.dumps(definition)})
    assert "kan inte bero på en fråga av typen date" in refused.get_data(as_text=True)
