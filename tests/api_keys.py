"""Helpers for the API tests: an account with a key of the given scopes, and the header to send it."""

from __future__ import annotations

from shared.accounts import create_admin
from shared.api.keys import create_key

PASSWORD = "ett långt lösenord för api"


def new_key(app, scopes, *, role: str = "admin", email: str = "integration@vastkom.example") -> str:
    """A fresh key (creating the account if needed); returns the secret."""
    from shared.accounts import find_account

    svc = app.extensions["utskick"]
    with app.test_request_context(), svc.db.transaction() as session:
        account = find_account(session, email) or create_admin(session, svc.passwords, email, PASSWORD, role)
        return create_key(session, account, "test", scopes).secret


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}
