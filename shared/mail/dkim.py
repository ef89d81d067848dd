"""DKIM signatures (dkimpy) for every mail both services send, when DKIM_* are configured.

``sign`` works on finished message bytes; ``signing_transport`` wraps a transport so the outbox and
the issue pipeline sign in the same place, just before the bytes leave.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import dkim

from shared.config import Config
from shared.mail.transport import Transport

SIGNED_HEADERS = (
    b"from",
    b"to",
    b"subject",
    b"date",
    b"message-id",
    b"mime-version",
    b"content-type",
    b"list-unsubscribe",
    b"list-unsubscribe-post",
    b"list-id",
)


@lru_cache(maxsize=4)
def _key(path: Path) -> bytes:
    return path.read_bytes()


def _settings(config: Config) -> tuple[str, str, Path] | None:
    """Domain, selector and key file, or None when DKIM is not configured."""
    if config.dkim_domain and config.dkim_selector and config.dkim_key_file:
        return config.dkim_domain, config.dkim_selector, config.dkim_key_file
    return None


def enabled(config: Config) -> bool:
    return _settings(config) is not None


def sign(message: bytes, config: Config) -> bytes:
    """``message`` with a DKIM-Signature header prepended (unchanged when DKIM is not configured)."""
    settings = _settings(config)
    if settings is None:
        return message
    domain, selector, key_file = settings
    signature: bytes = dkim.sign(
        message,
        selector=selector.encode("ascii"),
        domain=domain.encode("ascii"),
        privkey=_key(key_file),
        include_headers=list(SIGNED_HEADERS),
        canonicalize=(b"relaxed", b"relaxed"),
        linesep=b"\r\n",
    )
    return signature + message


class SigningTransport:
    """A transport that DKIM-signs each message before handing it to the real one."""

    def __init__(self, inner: Transport, config: Config):
        self.inner = inner
        self.config = config

    def send(self, sender: str, recipient: str, message: bytes) -> None:
        self.inner.send(sender, recipient, sign(message, self.config))

    def close(self) -> None:
        self.inner.close()


def signing_transport(inner: Transport, config: Config) -> Transport:
    """``inner`` itself when DKIM is off, else wrapped so every mail is signed."""
    return SigningTransport(inner, config) if enabled(config) else inner
