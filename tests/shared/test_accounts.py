"""Admin accounts: a role is one of the known roles, and a password is long enough."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from shared.accounts import AccountError, authenticate, create_admin
from shared.models import AdminUser, Role


def test_an_account_gets_a_known_role(db):
    with db.transaction() as session:
        create_admin(session, "Redaktor@Vastkom.example", "ett långt lösenord", "editor")
    with db.transaction() as session:
        user = authenticate(session, "redaktor@vastkom.example", "ett långt lösenord")
        assert user is not None and user.role is Role.EDITOR
        assert user.may_use("mailer") and not user.may_use("survey")


@pytest.mark.parametrize("role, password", [("superuser", "ett långt lösenord"), (Role.ADMIN, "kort")])
def test_an_unknown_role_or_a_short_password_is_refused(db, role, password):
    with db.transaction() as session:
        with pytest.raises(AccountError):
            create_admin(session, "ny@vastkom.example", password, role)
        assert session.scalars(select(AdminUser)).all() == []
