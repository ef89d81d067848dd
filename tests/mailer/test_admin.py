"""The editors' overview."""

from __future__ import annotations

from tests.mailer.conftest import subscribe


def test_overview_counts_per_list(app, client, editor_client):
    subscribe(client, "a@exempel.se")
    page = editor_client.get("/admin/")
    assert page.status_code == 200 and "Nyhetsbrevet" in page.text and "1 mejl i kö" in page.text
