"""Who runs the services: settings edited once, shown in both services' public footers and in mails,
with the privacy notice and accessibility statement pages (Swedish defaults, editable), and a favicon."""

from __future__ import annotations

import pytest

from services.mailer import create_app as create_mailer
from services.survey import create_app as create_survey
from shared import organisation
from tests.mailer.conftest import sign_in


@pytest.fixture
def apps(config):
    made = [create_mailer(config), create_survey(config)]
    for app in made:
        app.config["WTF_CSRF_ENABLED"] = False
    yield made
    for app in made:
        app.extensions["utskick"].db.dispose()


def test_settings_show_in_both_services_footers(apps):
    mailer, survey = apps
    editor = sign_in(mailer, mailer.test_client())
    saved = editor.post(
        "/admin/organisation",
        data={
            "name": "VästKom",
            "address": "Box 123\n461 23 Trollhättan",
            "contact_email": "info@vastkom.example",
            "website": "https://vastkom.example",
            "links": "Om oss | https://vastkom.example/om\nfelaktig rad",
        },
    )
    assert saved.status_code == 302
    for app, path in ((mailer, "/subscribe"), (survey, "/privacy"), (mailer, "/issues")):
        page = app.test_client().get(path).get_data(as_text=True)
        assert "VästKom" in page and "461 23 Trollhättan" in page and "info@vastkom.example" in page
        assert 'href="https://vastkom.example/om">Om oss</a>' in page
        assert 'href="/privacy"' in page and 'href="/accessibility"' in page
        assert "favicon.svg" in page


def test_the_logo_shows_in_the_footer(apps, db):
    from shared.models import MediaFile

    with db.transaction() as s:
        logo = MediaFile(filename="logo.png", content_type="image/png", data=b"x", width=1, height=1, alt_text="VK")
        s.add(logo)
        s.flush()
        logo_id = logo.id
    editor = sign_in(apps[0], apps[0].test_client())
    assert editor.post("/admin/organisation", data={"name": "VästKom", "logo_id": str(logo_id)}).status_code == 302
    assert f'src="/bilder/{logo_id}/logo"' in apps[1].test_client().get("/privacy").get_data(as_text=True)
    editor.post("/admin/organisation", data={"name": "VästKom", "logo_id": "999"})  # no such image: no logo
    # The service that saved shows it at once; the other within a minute (each process keeps a copy).
    assert "/bilder/" not in apps[0].test_client().get("/privacy").get_data(as_text=True)


def test_bad_settings_are_refused_with_the_input_kept(apps):
    editor = sign_in(apps[0], apps[0].test_client())
    refused = editor.post(
        "/admin/organisation", data={"name": "X", "contact_email": "inte en adress", "website": "vk.se"}
    )
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert "Skriv adressen i formatet namn@exempel.se." in page and "Skriv hela adressen, med https://." in page
    assert 'value="inte en adress"' in page


def test_default_privacy_notice_and_accessibility_statement(apps):
    mailer, survey = apps
    privacy = mailer.test_client().get("/privacy").get_data(as_text=True)
    assert "personuppgiftsansvarig" in privacy and "Integritetsskyddsmyndigheten" in privacy
    statement = survey.test_client().get("/accessibility").get_data(as_text=True)
    assert "delvis förenlig" in statement and "https://www.digg.se/tdosanmalan" in statement
    editor = sign_in(mailer, mailer.test_client())
    editor.post("/admin/organisation", data={"name": "VästKom", "privacy_notice": "## Egen text\n\n<script>x</script>"})
    own = mailer.test_client().get("/privacy").get_data(as_text=True)
    assert "Egen text" in own and "<script>x" not in own


def test_favicon(apps):
    response = apps[0].test_client().get("/favicon.ico")
    assert response.status_code == 301 and response.headers["Location"].endswith("/static/favicon.svg")


def test_contrast_ratio():
    assert round(organisation.contrast_ratio("#ffffff", "#000000")) == 21
    assert organisation.contrast_ratio("#ffffff", "#1d4e6e") > 4.5
    assert organisation.contrast_ratio("#ffffff", "#ffff00") < 4.5


def test_the_footer_is_rendered_once_per_settings_and_language(apps):
    from flask import template_rendered

    mailer = apps[0]
    rendered: list[str] = []

    def record(_sender, template, context, **_extra):
        rendered.append(template.name)

    template_rendered.connect(record, mailer)
    try:
        visitor = mailer.test_client()
        for _ in range(3):
            assert "Tillgänglighet</a>" in visitor.get("/privacy").get_data(as_text=True)
        english = mailer.test_client().get("/accessibility?lang=en").get_data(as_text=True)
        assert "Accessibility</a>" in english and "Tillgänglighet</a>" not in english
        assert rendered.count("_footer.html") == 2  # the same footer for every page in one language
        editor = sign_in(mailer, mailer.test_client())
        assert editor.post("/admin/organisation", data={"name": "VästKom Ny"}).status_code == 302
        assert "VästKom Ny</p>" in visitor.get("/privacy").get_data(as_text=True)  # saved: rendered again
        assert rendered.count("_footer.html") == 3
    finally:
        template_rendered.disconnect(record, mailer)
