"""The typed reading of a definition: what answering, the editor, results and exports all read."""

from __future__ import annotations

from services.survey.surveys.domain import set_closes
from services.survey.surveys.questions import Choice, QuestionType, Scale, ShowIf, SurveyDefinition, definition_of
from shared.models import Survey
from tests.survey.conftest import millennium


def test_the_millennium_definition_as_typed_questions():
    definition = SurveyDefinition.from_dict(millennium())
    assert definition.pages[0].title == "Om dig och ditt deltagande"
    assert [q.key for q in definition.questions] == [
        "delaktighet",
        "omraden",
        "ar",
        "information",
        "pastaenden",
        "paus_paverkan",
        "paus_beskrivning",
        "rekommendera",
        "lardomar",
    ]
    q = {q.key: q for q in definition.questions}
    assert q["delaktighet"].type == QuestionType.SINGLE and q["delaktighet"].required
    assert q["delaktighet"].options[1] == Choice("hog", "I ganska hög grad")
    assert q["omraden"].other and not q["omraden"].required
    assert (q["ar"].min, q["ar"].max, q["ar"].scale) == (0, 15, None)
    assert q["information"].scale == Scale(1, 5, "Mycket dåligt", "Mycket väl") and q["information"].dont_know
    assert list(q["pastaenden"].scale.points) == [1, 2, 3, 4, 5] and q["pastaenden"].dont_know
    assert q["pastaenden"].rows[0] == Choice("tydliga_mal", "Programmets mål var tydliga för mig")
    assert q["paus_beskrivning"].show_if == ShowIf("paus_paverkan", ("4", "5"))
    assert q["rekommendera"].scale.points == range(11)  # NPS: 0–10, with the default end labels
    assert q["rekommendera"].scale.min_label == "Inte alls troligt"
    assert definition.closes == "2099-12-31"
    assert definition.report_attributes == ("organisationstyp", "delregion", "roll")


def test_allowed_values_labels_and_closed_items():
    definition = SurveyDefinition.from_dict(millennium())
    q = {q.key: q for q in definition.questions}
    assert q["delaktighet"].allowed_values() == {"mycket_hog", "hog", "lag", "mycket_lag"}
    assert "other" in q["omraden"].allowed_values()
    assert q["information"].allowed_values() == {"1", "2", "3", "4", "5", "dont_know"}
    assert q["paus_paverkan"].allowed_values() == {"1", "2", "3", "4", "5"}
    assert q["ar"].allowed_values() is None and q["lardomar"].allowed_values() is None
    assert q["omraden"].option_label("it") == "IT och teknisk infrastruktur"
    assert q["pastaenden"].row_label("mandat") == "Jag hade det mandat jag behövde"
    items = dict(definition.closed_items())
    assert "pastaenden.tid" in items and "pastaenden" not in items and "ar" not in items and "lardomar" not in items
    assert items["pastaenden.tid"].endswith("– Jag fick tillräckligt med tid för uppdraget")


def test_definition_of_reads_each_version_of_the_stored_definition_once():
    survey = Survey(definition=millennium())
    first = definition_of(survey)
    assert definition_of(survey) is first
    set_closes(None, survey, "2099-06-30")  # every change stores a new dict
    assert definition_of(survey) is not first and definition_of(survey).closes == "2099-06-30"
