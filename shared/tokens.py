"""Signed tokens for links in mails. Each purpose has its own salt, so a token made for one
purpose (confirming) is refused for another (stopping)."""

from __future__ import annotations

from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeSerializer, URLSafeTimedSerializer

PURPOSES = ("confirm", "unsubscribe", "account", "click")  # survey links carry a random token of their own


class TokenInvalid(Exception):
    """Tampered, truncated, made for another purpose or with an unknown key."""


class TokenExpired(TokenInvalid):
    """Genuine, but older than the allowed age."""


class Tokens:
    """``dumps``/``loads`` per purpose. The first secret key signs; all keys verify (rotation)."""

    def __init__(self, secret_keys: tuple[str, ...] | list[str]):
        if not secret_keys:
            raise ValueError("at least one secret key is needed")
        # itsdangerous signs with the *last* key of the list and verifies with all of them.
        self._keys = list(reversed(secret_keys))

    def _check(self, purpose: str) -> str:
        if purpose not in PURPOSES:
            raise ValueError(f"unknown token purpose {purpose!r}")
        return f"utskick.{purpose}"

    def dumps(self, purpose: str, payload: Any, *, timed: bool = True) -> str:
        salt = self._check(purpose)
        serializer = URLSafeTimedSerializer if timed else URLSafeSerializer
        return serializer(self._keys, salt=salt).dumps(payload)

    def loads(self, purpose: str, token: str, *, max_age: int | None = None) -> Any:
        """Return the payload; a timed token is checked against ``max_age`` seconds when given."""
        salt = self._check(purpose)
        try:
            if max_age is None:
                return URLSafeSerializer(self._keys, salt=salt).loads(token)
            return URLSafeTimedSerializer(self._keys, salt=salt).loads(token, max_age=max_age)
        except SignatureExpired as exc:
            raise TokenExpired(str(exc)) from None
        except (BadSignature, ValueError, TypeError, UnicodeError) as exc:
            raise TokenInvalid(str(exc)) from None
