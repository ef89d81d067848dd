"""Which responses a figure is about: the survey's complete responses, optionally only those with
one value of a report attribute (``Filter``), and the small-group rule for such filters.

The building blocks of every results statement are here too: the conditions on ``responses``, the
join of ``answers`` with ``responses``, a typed NULL for ``UNION`` columns.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import Float, Text, cast, func, null, select
from sqlalchemy.orm import Session

from services.survey.results.anonymity import threshold
from shared.models import Answer, Response, ResponseStatus, Survey


@dataclass(frozen=True)
class Filter:
    """Restrict results to responses whose report attribute has one value (empty: all responses)."""

    attribute: str | None = None
    value: str | None = None

    @property
    def selection(self) -> tuple[str, str] | None:
        """``(attribute, value)`` when the filter restricts anything, else None."""
        if self.attribute and self.value is not None:
            return self.attribute, self.value
        return None

    @property
    def active(self) -> bool:
        return self.selection is not None

    def as_args(self) -> dict:
        return {"filter": f"{self.attribute}:{self.value}"} if self.active else {}

    @classmethod
    def parse(cls, raw: str | None, allowed: list[str]) -> Filter:
        """``attribute:value`` from a query string; anything unknown means no filter."""
        if not raw or ":" not in raw:
            return cls()
        attribute, value = raw.split(":", 1)
        return cls(attribute, value) if attribute in allowed else cls()


NO_FILTER = Filter()  # the default argument of the results functions: all responses


def attribute_of(column, name: str):
    """The text value of one key of a JSON attributes column (``->>`` / ``json_extract``)."""
    return column[name].as_string()


def scope(survey_id: int, flt: Filter, include_partial: bool = False) -> list:
    """Conditions on ``responses`` for the responses a figure is about."""
    conditions = [Response.survey_id == survey_id]
    if not include_partial:
        conditions.append(Response.status == ResponseStatus.COMPLETE)
    if flt.selection is not None:
        attribute, value = flt.selection
        conditions.append(attribute_of(Response.attributes, attribute) == value)
    return conditions


def from_answers(*columns):
    """``SELECT columns FROM answers JOIN responses``: the start of every answer statement."""
    return select(*columns).select_from(Answer).join(Response, Response.id == Answer.response_id)


def response_count_stmt(survey_id: int, flt: Filter):
    return select(func.count()).select_from(Response).where(*scope(survey_id, flt))


def complete_count(session: Session, survey: Survey) -> int:
    """The survey's complete responses."""
    return session.scalar(response_count_stmt(survey.id, Filter())) or 0


def null_of(type_=Float):
    return cast(null(), type_)


def filter_allowed(
    session: Session, survey: Survey, flt: Filter, groups: dict[str, dict[str, int]] | None = None
) -> bool:
    """A filter may not single out a small group — nor leave one out, which the totals would reveal."""
    if flt.selection is None:
        return True
    attribute, value = flt.selection
    groups = groups if groups is not None else response_groups(session, survey)
    return value_allowed(groups.get(attribute, {}).get(value, 0), complete_count(session, survey), threshold(survey))


def value_allowed(picked: int, total: int, k: int) -> bool:
    """``picked`` of ``total`` responses may be shown apart: at least k, and so is the rest (or there is none)."""
    rest = total - picked
    return picked >= k and (rest == 0 or rest >= k)


def response_groups_stmt(survey_id: int):
    """Complete responses per distinct set of report attributes (a few dozen rows: the JSON text is
    grouped as it is, so no response's JSON is parsed)."""
    as_text = cast(Response.attributes, Text)
    return (
        select(as_text.label("attributes"), func.count().label("n"))
        .where(*scope(survey_id, Filter()))
        .group_by(as_text)
    )


def response_groups(session: Session, survey: Survey) -> dict[str, dict[str, int]]:
    """``{attribute: {value: responses}}`` for the survey's report attributes."""
    found: dict[str, dict[str, int]] = {name: {} for name in survey.report_attributes or []}
    for r in session.execute(response_groups_stmt(survey.id)):
        for name, value in (json.loads(r.attributes or "{}") or {}).items():
            if name in found and value is not None:
                found[name][str(value)] = found[name].get(str(value), 0) + int(r.n)
    return found


def report_attribute_values(groups: dict[str, dict[str, int]], total: int, k: int) -> dict[str, list[str]]:
    """The filter's choices: the values of each report attribute held by at least k of the ``total``
    complete responses (with at least k left out), from ``response_groups``; attributes with none
    are left out."""
    found = {
        name: sorted(v for v, n in values.items() if value_allowed(n, total, k)) for name, values in groups.items()
    }
    return {name: values for name, values in found.items() if values}
