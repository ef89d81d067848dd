"""Admin accounts: creating them, checking passwords (argon2)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.clock import utcnow
from shared.models import AdminUser, Role

hasher = PasswordHasher()
# Checked against when the email is unknown, so a wrong address takes as long as a wrong password.
_DUMMY_HASH = hasher.hash("not a real password")


class AccountError(ValueError):
    pass


def create_admin(session: Session, email: str, password: str, role: Role | str = Role.ADMIN) -> AdminUser:
    """A new account, or a new password and role for the one with this address."""
    email = email.strip().lower()
    try:
        role = Role(role)
    except ValueError:
        raise AccountError(f"role must be one of {', '.join(Role)}") from None
    if len(password) < 10:
        raise AccountError("the password must be at least 10 characters long")
    existing = session.scalar(select(AdminUser).where(AdminUser.email == email))
    if existing is not None:
        existing.password_hash, existing.role = hasher.hash(password), role
        return existing
    user = AdminUser(email=email, password_hash=hasher.hash(password), role=role)
    session.add(user)
    return user


def authenticate(session: Session, email: str, password: str) -> AdminUser | None:
    user = session.scalar(select(AdminUser).where(func.lower(AdminUser.email) == email.strip().lower()))
    try:
        hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None:
        return None
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    user.last_login_at = utcnow()
    return user
