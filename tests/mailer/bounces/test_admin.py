"""The editors' suppression list."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import select

from services.mailer.bounces.domain import record_bounce
from shared.models import BounceEvent, Suppression
from tests.mailer.bounces.conftest import suppressed
from tests.mailer.conftest import sign_in


def test_editors_see_and_lift_suppressions_with_csrf(csrf_app, db):
    with db.transaction() as session:
        record_bounce(session, "borta@example.org", "hard", source="smtp", status_code="5.1.1", detail="User unknown")
        session.add(Suppression(email="annan@example.org", reason="manual"))
    client = sign_in(csrf_app, csrf_app.test_client())
    page = client.get("/admin/suppressions/?q=borta")
    assert page.status_code == 200
    assert "borta@example.org" in page.text and "annan@example.org" not in page.text
    assert "Permanent studs" in page.text and "hard_bounce" not in page.text  # the reason in words
    action = re.search(r'action="(/admin/suppressions/\d+/lift)"', page.text).group(1)
    assert client.post(action).status_code == 400  # no CSRF token
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    response = client.post(action, data={"csrf_token": token})
    assert response.status_code == 302
    assert suppressed(db) == {"annan@example.org": "manual"}
    with db.transaction() as session:
        assert session.scalars(select(BounceEvent.email)).all() == ["borta@example.org"]  # history kept for hard ones


def test_the_suppression_list_gives_the_reason_in_words_and_swedish_time(app, db, editor_client):
    with db.transaction() as session:
        session.add(
            Suppression(
                email="radera@example.org", reason="erasure", created_at=datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
            )
        )
    page = editor_client.get("/admin/suppressions/").text
    assert "<td>Raderad på begäran</td>" in page and "<td>2026-03-29 03:30</td>" in page and "erasure" not in page


def test_a_page_number_beyond_any_list_is_an_empty_page_not_an_error(editor_client):
    response = editor_client.get("/admin/suppressions/?page=99999999999999999999")
    assert response.status_code == 200
