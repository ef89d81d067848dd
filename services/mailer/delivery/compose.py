"""Per-recipient mail from an issue rendered once: fill in name and stop link, add the
List-Unsubscribe headers, and assemble the MIME bytes directly (no email.message per mail —
that is the slow part at 100 000 recipients)."""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from dataclasses import dataclass
from email.policy import SMTP
from email.utils import format_datetime, parseaddr
from typing import Any, ClassVar

from itsdangerous import Serializer, Signer, URLSafeSerializer, URLSafeTimedSerializer
from itsdangerous.encoding import base64_encode
from markupsafe import escape

from services.mailer.issues import personal
from services.mailer.issues.rendering import RECIPIENT, STOP_URL
from services.mailer.subscriptions.domain import stop_link_headers
from shared.clock import utcnow
from shared.config import Config
from shared.mail.message import check_header
from shared.tokens import Tokens


@dataclass(frozen=True)
class Recipient:
    delivery_id: int
    subscription_id: int
    email: str
    name: str = ""


def _header(name: str, value: str) -> bytes:
    """One header, RFC 2047-encoded where needed and folded, CRLF-terminated."""
    check_header(name, value)
    return SMTP.header_factory(name, value).fold(policy=SMTP).encode("ascii")


def _to_header(email: str, name: str) -> bytes:
    """``To:`` without the email package's header parser (the slowest part of building a mail)."""
    check_header("To", email)
    local, _, domain = email.rpartition("@")
    address = f"{local}@{domain.encode('idna').decode('ascii')}"
    name = check_header("To", " ".join(name.split()))
    if not name:
        return f"To: {address}\r\n".encode("ascii")
    if name.isascii() and name.isprintable():
        quoted = name.replace("\\", "\\\\").replace('"', '\\"')
        return f'To: "{quoted}" <{address}>\r\n'.encode("ascii")
    encoded = name.encode("utf-8")
    if len(encoded) <= 45:  # one encoded word (RFC 2047: at most 75 characters)
        return f"To: =?utf-8?b?{base64.b64encode(encoded).decode('ascii')}?= <{address}>\r\n".encode("ascii")
    # Long names are rare: let the email package split them into words correctly.
    return SMTP.header_factory("To", f"{name} <{address}>").fold(policy=SMTP).encode("ascii")


class _KeyCachingSigner(Signer):
    """itsdangerous' signer, deriving each (salt, key) pair's signing key once instead of per token."""

    # Shared by all instances on purpose: itsdangerous makes a new signer for every token it signs.
    _derived: ClassVar[dict[tuple[bytes, str | bytes, str], bytes]] = {}

    def derive_key(self, secret_key: str | bytes | None = None) -> bytes:
        cache_key = (self.salt, secret_key if secret_key is not None else self.secret_keys[-1], self.key_derivation)
        key = self._derived.get(cache_key)
        if key is None:
            key = self._derived[cache_key] = super().derive_key(secret_key)
        return key


# zlib's output is never under 8 bytes, and itsdangerous keeps it only when it is 2 shorter than the
# JSON: a payload this short (a subscription id) is never sent compressed.
_NEVER_COMPRESSED = 9


class _ShortPayloadSerializer(URLSafeSerializer):
    """itsdangerous' URL-safe tokens, byte for byte, without trying zlib on payloads too short to
    gain from it (setting up zlib per stop link was a tenth of a mail's CPU)."""

    def dump_payload(self, obj: Any) -> bytes:
        data = Serializer.dump_payload(self, obj)
        if len(data) <= _NEVER_COMPRESSED:
            return base64_encode(data)
        return super().dump_payload(obj)


class _SignerCache(Tokens):
    """Same tokens as ``Tokens``; keeps one serializer per purpose instead of building one per mail."""

    def __init__(self, tokens: Tokens):
        self._keys = tokens._keys
        self._serializers: dict[tuple[str, bool], Serializer[str]] = {}

    def dumps(self, purpose: str, payload: Any, *, timed: bool = True) -> str:
        serializer = self._serializers.get((purpose, timed))
        if serializer is None:
            kind: type[Serializer[str]] = URLSafeTimedSerializer if timed else _ShortPayloadSerializer
            serializer = self._serializers[(purpose, timed)] = kind(
                self._keys, salt=self._check(purpose), signer=_KeyCachingSigner
            )
        return serializer.dumps(payload)


def _qp(text: str) -> bytes:
    # binascii's encoder is C code; CRLF line ends as the wire wants them.
    return binascii.b2a_qp(text.encode("utf-8"), istext=True).replace(b"\n", b"\r\n")


_PLACEHOLDERS = re.compile(f"({STOP_URL}|{RECIPIENT}|{personal.MARKER.pattern.replace('(', '(?:')})")
_SOFT_BREAK = b"=\r\n"


class _EncodedTemplate:
    """A body quoted-printable-encoded once, with holes for the per-recipient values.

    Each static piece is encoded on its own and ends in a soft line break, so a value encoded
    separately always starts at the beginning of a line: line lengths stay within 76.
    """

    def __init__(self, text: str):
        self.pieces: list[bytes | str] = []
        for n, piece in enumerate(_PLACEHOLDERS.split(text)):
            if n % 2:
                self.pieces.append(piece)  # a placeholder's name
            elif piece:
                self.pieces.append(_qp(piece) + _SOFT_BREAK)

    def fill(self, values: dict[str, str]) -> bytes:
        return b"".join(p if isinstance(p, bytes) else _qp(values[p]) + _SOFT_BREAK for p in self.pieces)


class IssueMail:
    """An issue ready to be sent to many people; ``build(recipient)`` gives one mail's bytes."""

    def __init__(
        self,
        *,
        issue_id: int,
        subject: str,
        html: str,
        text: str,
        language: str,
        list_name: str,
        list_slug: str,
        config: Config,
        tokens: Tokens,
        sender: str = "",
    ):
        self.issue_id = issue_id
        self.config = config
        self.tokens = _SignerCache(tokens)
        self.html = _EncodedTemplate(html)
        self.text = _EncodedTemplate(text)
        # Personal fields: the markers are found once; each mail only looks up its person's values.
        self.fields = personal.Filler(html, text)
        subject = personal.to_markers(subject)
        self.personal_subject = subject if personal.markers(subject) else None
        self.envelope_from = parseaddr(config.mail_from)[1]
        self.domain = self.envelope_from.rpartition("@")[2] or "localhost"
        list_id = f"{list_slug}.{self.domain}"
        # "=_" never occurs in quoted-printable, so one boundary serves every mail of the issue.
        self.boundary = ("=_utskick_" + secrets.token_hex(12)).encode("ascii")
        self._id_prefix = f"utskick.{issue_id}.{secrets.token_hex(6)}"
        self._date: tuple[int, bytes] = (0, b"")
        self._fixed = b"".join(
            [
                _header("From", sender or config.mail_from),
                b"" if self.personal_subject else _header("Subject", subject),
                _header("List-Id", f"{list_name} <{list_id}>"),
                b"MIME-Version: 1.0\r\n",
                _header("Content-Language", language),
            ]
        )

    def build(self, recipient: Recipient, *, headers: dict[str, str] | None = None) -> bytes:
        """The complete message (CRLF) for one recipient, stop link and headers filled in."""
        stop_url, stop_headers = stop_link_headers(self.tokens, self.config, recipient.subscription_id)
        return self._assemble(
            recipient.email,
            recipient.name,
            stop_url,
            {**stop_headers, **(headers or {})},
            message_id=f"<{self._id_prefix}.{recipient.delivery_id}@{self.domain}>",
        )

    def _date_header(self) -> bytes:
        now = utcnow()
        second = int(now.timestamp())
        if self._date[0] != second:  # formatting a date costs more than the rest of the headers
            self._date = (second, f"Date: {format_datetime(now.replace(microsecond=0))}\r\n".encode("ascii"))
        return self._date[1]

    def _assemble(self, email: str, name: str, stop_url: str, extra: dict[str, str], *, message_id: str) -> bytes:
        who = f"{name} ({email})" if name else email
        person = personal.Person(name)
        html = self.html.fill(
            {
                STOP_URL: str(escape(stop_url)),
                RECIPIENT: str(escape(who)),
                **self.fields.values(person, html=True),
            }
        )
        text = self.text.fill({STOP_URL: stop_url, RECIPIENT: who, **self.fields.values(person)})
        head = [
            self._fixed,
            _header("Subject", personal.fill(self.personal_subject, person)) if self.personal_subject else b"",
            _to_header(email, name),
            self._date_header(),
            f"Message-ID: {message_id}\r\n".encode("ascii"),
        ]
        for key, value in extra.items():
            check_header(key, value)
            # List-Unsubscribe must not be RFC 2047-encoded: URLs are ASCII; long lines are fine (< 998).
            head.append(f"{key}: {value}\r\n".encode("ascii"))
        b = self.boundary
        head.append(b'Content-Type: multipart/alternative; boundary="' + b + b'"\r\n\r\n')
        return b"".join(
            [
                *head,
                b"--",
                b,
                b'\r\nContent-Type: text/plain; charset="utf-8"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n',
                text,
                b"\r\n--",
                b,
                b'\r\nContent-Type: text/html; charset="utf-8"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n',
                html,
                b"\r\n--",
                b,
                b"--\r\n",
            ]
        )
