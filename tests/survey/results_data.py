"""Survey results test data: the Millennium survey with responses written straight into the tables.

Answers are given as the answer form would send them (``{"delaktighet": "hog", "omraden": ["it"],
"pastaenden.mandat": "4"}``), so a test reads like what respondents did.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import yaml

from services.demo import DEMO_DATA
from services.survey.surveys.definitions import normalise
from services.survey.surveys.questions import definition_of
from shared.models import Answer, Participant, Response, Survey

FIXTURE = DEMO_DATA / "survey-millennium.yaml"
DAY = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)


def millennium() -> dict:
    """The fixture definition as stored: normalised (the YAML dates become ISO strings)."""
    return normalise(yaml.safe_load(FIXTURE.read_text(encoding="utf-8")))


def make_survey(session, *, anonymous: bool = True, min_group_size: int = 5, **changes) -> Survey:
    definition = millennium()
    survey = Survey(
        title=definition["title"],
        language="sv",
        anonymous=anonymous,
        status="open",
        definition=definition,
        report_attributes=list(definition["report_attributes"]),
        min_group_size=min_group_size,
        **changes,
    )
    session.add(survey)
    session.flush()
    return survey


def answer_rows(survey: Survey, values: dict) -> list[Answer]:
    """Answer rows for form-like values, laid out as docs/surveys.md describes."""
    types = {q.key: q.type for q in definition_of(survey).questions}
    rows = []
    for name, value in values.items():
        key, _dot, sub = name.partition(".")
        kind = types[key]
        if sub == "other":
            rows.append(Answer(question_key=key, option_key="other", text_value=value))
        elif kind == "matrix":
            rows.append(
                Answer(question_key=key, row_key=sub, option_key="dont_know")
                if value == "dont_know"
                else Answer(question_key=key, row_key=sub, number_value=float(value))
            )
        elif kind == "multiple":
            rows.extend(Answer(question_key=key, option_key=v) for v in value if v != "other")
        elif kind == "single":
            if value != "other":
                rows.append(Answer(question_key=key, option_key=value))
        elif kind in ("scale", "nps", "number"):
            rows.append(
                Answer(question_key=key, option_key="dont_know")
                if value == "dont_know"
                else Answer(question_key=key, number_value=float(value))
            )
        else:
            rows.append(Answer(question_key=key, text_value=value))
    return rows


def add_response(
    session,
    survey: Survey,
    values: dict,
    *,
    attributes: dict | None = None,
    status: str = "complete",
    participant: Participant | None = None,
    completed_at: datetime = DAY,
) -> Response:
    response = Response(
        id=uuid.uuid4().hex,
        survey_id=survey.id,
        participant_id=participant.id if participant is not None and not survey.anonymous else None,
        status=status,
        started_at=completed_at,
        updated_at=completed_at,
        completed_at=completed_at if status == "complete" else None,
        attributes=dict(attributes or {}),
        answers=answer_rows(survey, values),
    )
    session.add(response)
    session.flush()
    return response


def add_participant(session, survey: Survey, email: str, **fields) -> Participant:
    participant = Participant(survey_id=survey.id, email=email, **fields)
    session.add(participant)
    session.flush()
    return participant


def make_regions(s, survey: Survey, sizes: dict[str, int]) -> None:
    """``sizes[region]`` complete responses from each region, alternating a few answers."""
    for region, n in sizes.items():
        for i in range(n):
            add_response(
                s,
                survey,
                {"delaktighet": "hog" if i % 2 else "lag", "information": str(1 + i % 5)},
                attributes={"delregion": region, "organisationstyp": "kommun", "roll": "IT-chef"},
            )


def by_key(results) -> dict:
    """A results page's question results by question key."""
    return {r.question.key: r for r in results.questions}
