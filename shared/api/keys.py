"""API keys: created per account with a name, scopes and an optional expiry; shown once, stored as
SHA-256; revocable. Both services' admin pages and ``utskick api-keys`` use these functions, each in
the caller's transaction."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, cast

from flask_babel import gettext as _
from sqlalchemy import CursorResult, delete, select
from sqlalchemy.orm import Session

from shared.clock import utcnow
from shared.i18n import LOCAL_ZONE
from shared.models import AccountStatus, AdminUser, ApiKey, ApiScope, IdempotentCall

KEY_PREFIX = "utk_"  # lets secret scanners and people recognise a leaked key
MAX_NAME_LENGTH = 100


class ApiKeyError(ValueError):
    """A key that cannot be made as asked; ``str(exc)`` is for the person, ``field`` the form field."""

    def __init__(self, message: str, field: str = ""):
        super().__init__(message)
        self.field = field


def key_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def parse_scopes(values: Iterable[str]) -> list[ApiScope]:
    """Known scopes, once each, in the vocabulary's order."""
    wanted = {v.strip() for v in values if v.strip()}
    unknown = sorted(wanted - {s.value for s in ApiScope})
    if unknown:
        raise ApiKeyError(_("Okänd behörighet: %(scopes)s", scopes=", ".join(unknown)), "scopes")
    if not wanted:
        raise ApiKeyError(_("Välj minst en behörighet."), "scopes")
    return [s for s in ApiScope if s.value in wanted]


@dataclass(frozen=True)
class NewKey:
    key: ApiKey
    secret: str  # the whole key: shown once, never stored


def create_key(
    session: Session,
    account: AdminUser,
    name: str,
    scopes: Iterable[str],
    expires_at: datetime | None = None,
    now: datetime | None = None,
) -> NewKey:
    """A new key for the account; the caller shows ``secret`` once."""
    now = now or utcnow()
    name = (name or "").strip()
    if not name:
        raise ApiKeyError(_("Ge nyckeln ett namn, till exempel systemet som ska använda den."), "name")
    if len(name) > MAX_NAME_LENGTH:
        raise ApiKeyError(_("Namnet får vara högst %(n)s tecken.", n=MAX_NAME_LENGTH), "name")
    chosen = parse_scopes(scopes)
    # A key does no more than its account may: an editor's key cannot reach the surveys.
    refused = [s.value for s in chosen if not account.may_use(s.service)]
    if refused:
        raise ApiKeyError(
            _("Kontot har inte behörighet till: %(scopes)s", scopes=", ".join(refused)),
            "scopes",
        )
    if expires_at is not None and expires_at <= now:
        raise ApiKeyError(_("Sista giltighetsdag måste ligga i framtiden."), "expires")
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(
        account_id=account.id,
        name=name,
        prefix=secret[:12],
        key_hash=key_hash(secret),
        scopes=[s.value for s in chosen],
        created_at=now,
        expires_at=expires_at,
    )
    session.add(key)
    session.flush()
    return NewKey(key, secret)


def expiry_after_day(day: date) -> datetime:
    """A key given a last day works through that day in Swedish time."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=LOCAL_ZONE).astimezone(UTC)


def keys_of(session: Session, account_id: int | None = None) -> list[ApiKey]:
    """Keys, newest first; one account's, or everyone's."""
    query = select(ApiKey).order_by(ApiKey.id.desc())
    if account_id is not None:
        query = query.where(ApiKey.account_id == account_id)
    return list(session.scalars(query))


def revoke(key: ApiKey, now: datetime | None = None) -> None:
    """Stop the key at once; revoking twice keeps the first time."""
    key.revoked_at = key.revoked_at or now or utcnow()


def usable_key(session: Session, raw: str, service: str, now: datetime | None = None) -> ApiKey | None:
    """The key ``raw`` names, if it works now in this service: not revoked, not expired, and its
    account active and allowed there."""
    now = now or utcnow()
    key = session.scalar(select(ApiKey).where(ApiKey.key_hash == key_hash(raw)))
    if key is None or key.revoked_at is not None or (key.expires_at is not None and key.expires_at <= now):
        return None
    account = key.account
    if account.status != AccountStatus.ACTIVE or not account.may_use(service):
        return None
    return key


def forget_idempotent_calls(session: Session, cutoff: datetime) -> int:
    """Housekeeping for the worker: stored answers of calls made before ``cutoff``."""
    # A DELETE's result is a CursorResult, which Session.execute's typing does not promise.
    result = cast(CursorResult[Any], session.execute(delete(IdempotentCall).where(IdempotentCall.created_at < cutoff)))
    return result.rowcount or 0
