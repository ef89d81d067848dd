"""Survey definitions: the fixture parses, every error is reported by path, export round-trips."""

from __future__ import annotations

import json

import pytest

from services.survey.surveys.definitions import DefinitionError, dump_yaml, moment_of, parse_definition
from tests.survey.conftest import MILLENNIUM

TYPE_NAMES = "single, multiple, scale, matrix, number, nps, text, longtext, dropdown, date, ranking, info"


def errors_of(text: str) -> list[str]:
    with pytest.raises(DefinitionError) as caught:
        parse_definition(text)
    return caught.value.errors


def test_millennium_fixture_is_valid_and_normalised():
    definition = parse_definition(MILLENNIUM.read_text(encoding="utf-8"))
    assert definition["anonymous"] is True and definition["closes"] == "2025-03-31"
    assert [len(p["questions"]) for p in definition["pages"]] == [3, 2, 4]
    omraden = definition["pages"][0]["questions"][1]
    assert omraden["options"][0] == {"key": "halso_sjukvard", "label": "Kommunal hälso- och sjukvård"}
    assert omraden["other"] is True
    beskrivning = definition["pages"][2]["questions"][1]
    assert beskrivning["show_if"] == {"question": "paus_paverkan", "in": ["4", "5"]}
    # A closing date means the whole day in Swedish time (CEST/CET): midnight after it.
    assert moment_of(definition, "closes").isoformat() == "2025-03-31T22:00:00+00:00"


def test_plain_string_options_get_keys_from_their_labels():
    definition = parse_definition(
        "title: T\npages:\n- title: P\n  questions:\n"
        "  - {key: q, type: single, text: Fråga, options: [Ja, Nej, Vet ej – kanske]}\n"
    )
    assert definition["pages"][0]["questions"][0]["options"] == [
        {"key": "ja", "label": "Ja"},
        {"key": "nej", "label": "Nej"},
        {"key": "vet_ej_kanske", "label": "Vet ej – kanske"},
    ]


def test_every_error_is_listed_by_path():
    errors = errors_of(
        """
title: ""
language: fi
pages:
  - title: Sida
    questions:
      - {key: a, type: single, text: A, options: []}
      - {key: a, type: scale, text: B, min: 5, max: 1, requird: true}
  - title: Två
    questions:
      - {key: m, type: matrix, text: M, rows: [x, x]}
      - {key: c, type: text, text: C, show_if: {question: zz, equals: 1}}
      - {key: d, type: text, type2: x, text: D}
      - {key: e, type: radio, text: E}
      - {key: f, type: single, text: F, options: [{key: ja, label: Ja}], show_if: {question: a, in: [nej]}}
"""
    )
    assert errors == [
        "title: saknas",
        "language: måste vara ett av: sv, en",
        "pages[0].questions[0].options: måste vara en lista med minst ett alternativ",
        "pages[0].questions[1].requird: okänd nyckel",
        "pages[0].questions[1].key: nyckeln a används redan av en annan fråga",
        "pages[0].questions[1].max: måste vara större än min och högst min + 20",
        "pages[1].questions[0].rows[1].key: nyckeln x finns redan",
        "pages[1].questions[1].show_if.question: måste vara nyckeln till en fråga som kommer tidigare",
        "pages[1].questions[2].type2: okänd nyckel",
        "pages[1].questions[3].type: måste vara en av: " + TYPE_NAMES,
        "pages[1].questions[4].show_if.in[0]: nej är inte ett möjligt svar på frågan a",
    ]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("title: [\n", "rad 1, kolumn 9"),
        ('{"title": "x", ', "rad 1"),
        ("", "Definitionen är tom."),
        ("- a\n- b\n", "Definitionen måste vara en samling nycklar"),
        ("title: x\n", "pages: måste vara en lista med minst en sida"),
        (
            "title: x\nopens: 2025-05-01\ncloses: 2025-04-01\n"
            "pages: [{title: p, questions: [{key: a, type: text, text: t}]}]",
            "closes: måste vara efter opens",
        ),
    ],
)
def test_broken_input_is_explained_not_raised(text, expected):
    assert any(expected in error for error in errors_of(text))


def test_json_is_accepted_and_export_round_trips():
    definition = parse_definition(MILLENNIUM.read_text(encoding="utf-8"))
    assert parse_definition(json.dumps(definition)) == definition
    exported = dump_yaml(definition)
    assert "intro: |" in exported
    assert parse_definition(exported) == definition


def test_a_condition_on_a_question_of_unknown_type_is_reported_not_raised():
    errors = errors_of(
        "title: T\npages:\n- title: P\n  questions:\n  - {key: a, type: radio, text: A}\n"
        "  - {key: b, type: text, text: B, show_if: {question: a, in: [x]}}\n"
    )
    assert errors == ["pages[0].questions[0].type: måste vara en av: " + TYPE_NAMES]


DEEP_YAML = "title: x\npages: " + "[" * 5000 + "]" * 5000 + "\n"
DEEP_JSON = '{"title": "x", "pages": ' + "[" * 100_000 + "]" * 100_000 + "}"


@pytest.mark.parametrize("text", [DEEP_YAML, "pages:\n" + "- " * 3000 + "x\n", DEEP_JSON])
def test_deep_nesting_is_an_error_with_its_place_not_a_crash(text):
    (error,) = errors_of(text)
    assert "för djupt nästlad: högst 20 nivåer" in error


@pytest.mark.parametrize(
    "text, expected",
    [
        ("title: Första\npages: []\ntitle: Andra\n", "rad 3, kolumn 1: nyckeln ”title” står två gånger"),
        ('{"title": "Första", "pages": [], "title": "Andra"}', "nyckeln ”title” står två gånger"),
        (
            "title: t\npages:\n  - title: p\n    questions:\n      - {key: a, type: text, text: A, text: B}\n",
            "rad 5, kolumn 39: nyckeln ”text” står två gånger",
        ),
    ],
)
def test_a_key_given_twice_is_refused_rather_than_the_last_one_winning(text, expected):
    assert errors_of(text) == [expected]


def test_a_merge_key_may_be_overridden():
    text = (
        "title: t\npages:\n  - title: p\n    questions:\n"
        "      - &first {key: a, type: text, text: A}\n      - {<<: *first, key: b}\n"
    )
    assert [q["key"] for q in parse_definition(text)["pages"][0]["questions"]] == ["a", "b"]


def test_a_definition_over_2_mb_is_refused_with_one_message():
    text = MILLENNIUM.read_text(encoding="utf-8") + "\n# " + "x" * (2 * 1024 * 1024) + "\n"
    assert errors_of(text) == ["Definitionen är för stor. Den får vara högst 2 MB."]
