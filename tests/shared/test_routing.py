"""A strange value in a URL path (a NUL, an id no column can hold) is the friendly 404, in both services."""

import pytest

from tests.shared.test_web import FACTORIES, login

STRANGE_PATHS = {
    "mailer": ["/issues/2147483648", "/issues/99999999999999999999", "/subscribe/%00", "/confirm/%00"],
    "survey": ["/s/%00", "/s/%00/decline", "/s/abc%00def/tack"],
}
STAFF_PATHS = {
    "mailer": ["/admin/issues/99999999999999999999", "/admin/subscribers/2147483648", "/admin/jobs/2147483648"],
    "survey": ["/admin/surveys/99999999999999999999", "/admin/surveys/1/participants/2147483648"],
}


@pytest.mark.parametrize("service", ["mailer", "survey"])
def test_a_nul_or_an_id_out_of_range_is_a_404(config, db, service, passwords):
    from shared.accounts import create_admin

    with db.transaction() as session:
        create_admin(session, passwords, "admin@vastkom.example", "ett långt lösenord", "admin")
    client = FACTORIES[service](config).test_client()
    for path in STRANGE_PATHS[service]:
        response = client.get(path)
        assert response.status_code == 404, path
        assert "Sidan finns inte" in response.get_data(as_text=True)
    assert login(client, "admin@vastkom.example", "ett långt lösenord").status_code == 302
    for path in STAFF_PATHS[service]:
        assert client.get(path).status_code == 404, path
