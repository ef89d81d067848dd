"""The one reading of a survey definition: frozen, typed questions built from the normalised definition.

``Survey.definition`` stays the normalised dict (JSON) that ``definitions.normalise`` stores and
export gives back; everything that reads a survey — answering, the editor, results, exports — reads
it through ``definition_of(survey)``. Only what the normaliser stores is read here: options and rows
are ``{key, label}``, a condition is ``show_if.in``, "don't know" is the question's own flag.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import Any

from flask_babel import lazy_gettext as _l

from shared.models import Survey, Vocabulary

# The values a form sends for "Annat" (with its text under ``KEY.other``) and for "Vet inte".
OTHER = "other"
DONT_KNOW = "dont_know"


class QuestionType(Vocabulary):
    SINGLE = "single", _l("Ett svar")
    MULTIPLE = "multiple", _l("Flera svar")
    SCALE = "scale", _l("Skala")
    MATRIX = "matrix", _l("Matris")
    NUMBER = "number", _l("Tal")
    NPS = "nps", _l("Rekommendation 0–10 (NPS)")
    TEXT = "text", _l("Kort text")
    LONGTEXT = "longtext", _l("Lång text")
    DROPDOWN = "dropdown", _l("Ett svar i en lista")
    DATE = "date", _l("Datum")
    RANKING = "ranking", _l("Rangordning")
    INFO = "info", _l("Informationstext")


SINGLE_TYPES = (QuestionType.SINGLE, QuestionType.DROPDOWN)  # one option, stored alike
CHOICE_TYPES = (*SINGLE_TYPES, QuestionType.MULTIPLE)
POINT_TYPES = (QuestionType.SCALE, QuestionType.NPS)  # one point of a scale
CLOSED_TYPES = (*CHOICE_TYPES, *POINT_TYPES, QuestionType.MATRIX)  # what a breakdown can count
TEXT_TYPES = (QuestionType.TEXT, QuestionType.LONGTEXT)


def format_value(value) -> str:
    """A submitted or configured value as the text the form would send (4.0 → "4")."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@dataclass(frozen=True)
class Choice:
    """An option of a choice question, or a row (statement) of a matrix."""

    key: str
    label: str


@dataclass(frozen=True)
class Scale:
    """The points a scale, NPS or matrix question offers, and the words at its two ends."""

    min: int
    max: int
    min_label: str = ""
    max_label: str = ""

    @property
    def points(self) -> range:
        return range(self.min, self.max + 1)

    @cached_property
    def choices(self) -> tuple[tuple[str, str], ...]:
        """(value, label) of every point, the ends with their words: what a row of radio buttons shows."""
        words = {self.min: self.min_label, self.max: self.max_label}
        return tuple((str(n), f"{n} – {words[n]}" if words.get(n) else str(n)) for n in self.points)


@dataclass(frozen=True)
class ShowIf:
    """Ask the question only when an earlier question was answered with one of ``values``."""

    question: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Question:
    key: str
    type: QuestionType
    text: str
    help: str = ""
    required: bool = False
    options: tuple[Choice, ...] = ()  # single, dropdown, multiple, ranking
    rows: tuple[Choice, ...] = ()  # matrix
    scale: Scale | None = None  # scale, nps, matrix
    min: float | None = None  # number: the bounds, when given
    max: float | None = None
    other: bool = False  # single, dropdown, multiple: an "Annat" choice with a text
    dont_know: bool = False  # scale, matrix: a "Vet inte" choice
    show_if: ShowIf | None = None
    max_length: int | None = None  # text, longtext
    earliest: date | None = None  # date: the bounds, when given
    latest: date | None = None

    @classmethod
    def from_dict(cls, data: dict) -> Question:
        """One question of a normalised definition."""
        kind = QuestionType(data["type"])
        if kind == QuestionType.MATRIX:
            scale_data = data["scale"]
        elif kind in POINT_TYPES:
            scale_data = data
        else:
            scale_data = None
        rule = data.get("show_if")
        return cls(
            key=data["key"],
            type=kind,
            text=data["text"],
            help=data.get("help", ""),
            required=data["required"],
            options=tuple(Choice(o["key"], o["label"]) for o in data.get("options", ())),
            rows=tuple(Choice(r["key"], r["label"]) for r in data.get("rows", ())),
            scale=Scale(scale_data["min"], scale_data["max"], scale_data["min_label"], scale_data["max_label"])
            if scale_data is not None
            else None,
            min=data.get("min") if kind == QuestionType.NUMBER else None,
            max=data.get("max") if kind == QuestionType.NUMBER else None,
            other=data.get("other", False),
            dont_know=data.get("dont_know", False),
            show_if=ShowIf(rule["question"], tuple(rule["in"])) if rule else None,
            max_length=data.get("max_length"),
            earliest=date.fromisoformat(data["min"]) if kind == QuestionType.DATE and data.get("min") else None,
            latest=date.fromisoformat(data["max"]) if kind == QuestionType.DATE and data.get("max") else None,
        )

    @property
    def required_scale(self) -> Scale:
        """The scale of a scale, NPS or matrix question, which always has one (``from_dict``)."""
        if self.scale is None:
            raise ValueError(f"question {self.key!r} of type {self.type} has no scale")
        return self.scale

    def allowed_values(self) -> set[str] | None:
        """The values a choice or scale question accepts (None when any value within bounds will do)."""
        if self.type in CHOICE_TYPES:
            return {o.key for o in self.options} | ({OTHER} if self.other else set())
        if self.type in POINT_TYPES:
            return {str(v) for v in self.required_scale.points} | ({DONT_KNOW} if self.dont_know else set())
        return None

    def option_label(self, key: str) -> str:
        return next((o.label for o in self.options if o.key == key), key)

    def row_label(self, key: str) -> str:
        return next((r.label for r in self.rows if r.key == key), key)


@dataclass(frozen=True)
class Page:
    title: str
    questions: tuple[Question, ...]


@dataclass(frozen=True)
class SurveyDefinition:
    title: str
    language: str
    anonymous: bool
    opens: str | None  # as written: a date (the whole day, Swedish time) or a date and time
    closes: str | None
    report_attributes: tuple[str, ...]
    intro: str  # Markdown
    thanks: str  # Markdown
    pages: tuple[Page, ...]

    @classmethod
    def from_dict(cls, data: dict) -> SurveyDefinition:
        """A normalised definition (``definitions.normalise``) as typed pages and questions."""
        return cls(
            title=data["title"],
            language=data["language"],
            anonymous=data["anonymous"],
            opens=data.get("opens"),
            closes=data.get("closes"),
            report_attributes=tuple(data["report_attributes"]),
            intro=data["intro"],
            thanks=data["thanks"],
            pages=tuple(
                Page(page["title"], tuple(Question.from_dict(q) for q in page["questions"])) for page in data["pages"]
            ),
        )

    @cached_property
    def questions(self) -> tuple[Question, ...]:
        """Every question, in order (information texts too)."""
        return tuple(q for page in self.pages for q in page.questions)

    @cached_property
    def answered_questions(self) -> tuple[Question, ...]:
        """The questions that take an answer: what results, exports and reports go through."""
        return tuple(q for q in self.questions if q.type != QuestionType.INFO)

    @cached_property
    def blank_questions(self) -> dict[tuple[str, str], Any]:
        """The respondent's page keeps here each question's HTML while unanswered, per language
        (``services.survey.responses.public.questions_html``): as long-lived as this reading."""
        return {}

    def question(self, key: str) -> Question | None:
        return next((q for q in self.questions if q.key == key), None)

    def closed_items(self) -> list[tuple[str, str]]:
        """What a breakdown can use: closed questions and each matrix row, as (id, label) pairs.

        A matrix row is ``KEY.ROWKEY`` — the same spelling as the answer form.
        """
        items: list[tuple[str, str]] = []
        for q in self.questions:
            if q.type == QuestionType.MATRIX:
                items.extend((f"{q.key}.{row.key}", f"{q.text} – {row.label}") for row in q.rows)
            elif q.type in CLOSED_TYPES:
                items.append((q.key, q.text))
        return items


# Each process reads a survey's definition once per version: a respondent's page needs it on every
# request. Keyed by survey id; a stored definition equal to the one read is the same version (a dict
# comparison, done in C, costs a fraction of reading it again).
_READ_DEFINITIONS: dict[int, tuple[dict[str, Any], SurveyDefinition]] = {}
READ_DEFINITIONS_KEPT = 256


def definition_of(survey: Survey) -> SurveyDefinition:
    """The survey's definition, read once per version of ``survey.definition`` (which every change
    replaces with a new dict, so the object itself tells whether the reading is still current)."""
    stored = survey.definition
    read = survey.__dict__.get("_definition_read")
    if read is None or read[0] is not stored:
        kept = _READ_DEFINITIONS.get(survey.id) if survey.id is not None else None
        if kept is not None and kept[0] == stored:
            read = (stored, kept[1])
        else:
            read = (stored, SurveyDefinition.from_dict(stored))
            if survey.id is not None:
                if len(_READ_DEFINITIONS) >= READ_DEFINITIONS_KEPT:
                    _READ_DEFINITIONS.pop(next(iter(_READ_DEFINITIONS)))
                _READ_DEFINITIONS[survey.id] = (copy.deepcopy(stored), read[1])
        vars(survey)["_definition_read"] = read  # beside the mapped columns, never stored
    return read[1]
