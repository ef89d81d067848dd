"""Free texts: the answers to text questions and the "other" texts of choice questions, a page at a
time, searchable."""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.survey.results.scope import Filter, from_answers, scope
from shared.models import Answer, Survey

TEXTS_PER_PAGE = 25


def text_answers_stmt(survey_id: int, flt: Filter, question_key: str, search: str | None):
    """Free texts of one question (text answers, or the "other" texts of a choice question)."""
    stmt = from_answers(Answer.text_value).where(
        *scope(survey_id, flt),
        Answer.question_key == question_key,
        Answer.text_value.is_not(None),
        Answer.text_value != "",
    )
    if search:
        stmt = stmt.where(func.lower(Answer.text_value).contains(search.lower(), autoescape=True))
    return stmt


def first_texts(session: Session, survey: Survey, question_key: str, flt: Filter, limit: int) -> list[str]:
    """The first few free texts of a question (the results page shows a handful, then links on)."""
    stmt = text_answers_stmt(survey.id, flt, question_key, None)
    return list(session.scalars(stmt.order_by(Answer.response_id, Answer.id).limit(limit)))


@dataclass
class TextPage:
    items: list[str]
    total: int
    page: int
    pages: int
    per_page: int
    search: str | None = None
    withheld: bool = False  # fewer texts than the small-group rule lets be shown


def text_answers(
    session: Session,
    survey: Survey,
    question_key: str,
    flt: Filter,
    search: str | None,
    page: int,
    per_page: int = TEXTS_PER_PAGE,
    k: int = 1,
) -> TextPage:
    """One page of the free texts of a question, optionally only those containing ``search``;
    nothing when the question has fewer than ``k`` texts (a search may narrow a set of k down)."""

    def count(stmt) -> int:
        return session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()

    if k > 1 and count(text_answers_stmt(survey.id, flt, question_key, None)) < k:
        return TextPage(items=[], total=0, page=1, pages=1, per_page=per_page, search=search, withheld=True)
    stmt = text_answers_stmt(survey.id, flt, question_key, search)
    total = count(stmt)
    pages = max(1, math.ceil(total / per_page))
    page = min(max(1, page), pages)
    # Ordered by the (random) response id: stable for paging, and not the order people answered in.
    items = list(
        session.scalars(stmt.order_by(Answer.response_id, Answer.id).limit(per_page).offset((page - 1) * per_page))
    )
    return TextPage(items=items, total=total, page=page, pages=pages, per_page=per_page, search=search)
