"""Whatever a visitor types (any unicode, control characters, huge strings) never gives a 500."""

from __future__ import annotations

import io
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.mailer.conftest import make_app, sign_in

# Text a browser can send: anything but lone surrogates (not encodable as UTF-8).
typed = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=400)
fuzz = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture
def fuzz_app(config):
    app = make_app(config.with_(subscribe_posts_per_ip_per_hour=100_000, confirmations_per_address_per_day=100_000))
    yield app
    app.extensions["utskick"].db.dispose()


@fuzz
@given(email=typed, name=typed, slug=st.sampled_from(["", "/nyhetsbrev"]))
def test_subscribe_form(fuzz_app, email, name, slug):
    response = fuzz_app.test_client().post("/subscribe" + slug, data={"email": email, "name": name})
    assert response.status_code in (303, 400)


@fuzz
@given(email=typed)
def test_stop_link_form(fuzz_app, email):
    assert fuzz_app.test_client().post("/unsubscribe", data={"email": email}).status_code in (303, 400)


@fuzz
@given(token=typed, one_click=st.booleans())
def test_links_with_any_token(fuzz_app, token, one_click):
    client = fuzz_app.test_client()
    path = quote(token, safe="")
    # 400/404/410, or 308 when the text makes a path werkzeug tidies up ("//"): never 200, never 500.
    for url in (f"/confirm/{path}", f"/unsubscribe/{path}"):
        assert client.get(url).status_code in (308, 400, 404, 410)
        data = {"List-Unsubscribe": "One-Click"} if one_click else {}
        assert client.post(url, data=data).status_code in (308, 400, 404, 405, 410)


@pytest.fixture
def fuzz_editor(fuzz_app):
    """Signed in once for all examples: an argon2 hash per example was most of this test's time."""
    return sign_in(fuzz_app, fuzz_app.test_client())


@fuzz
@given(content=st.binary(max_size=2000) | typed.map(lambda t: t.encode("utf-8")), consented=st.booleans(), q=typed)
def test_editor_import_and_search(fuzz_editor, content, consented, q):
    client = fuzz_editor
    data = {"file": (io.BytesIO(content), "fil.csv"), "list_id": "1"}
    if consented:
        data["consented"] = "y"
    response = client.post("/admin/subscribers/import", data=data, content_type="multipart/form-data")
    assert response.status_code in (200, 400)
    assert (
        client.get("/admin/subscribers/", query_string={"q": q, "status": q, "page": q, "list": q}).status_code == 200
    )
