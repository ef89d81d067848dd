"""Build RFC 5322 messages: multipart/alternative (plain text + HTML), UTF-8, encoded headers,
Message-ID and Date, quoted-printable bodies (no line over 998 octets), CRLF line ends."""

from __future__ import annotations

import unicodedata
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import format_datetime, make_msgid, parseaddr

from shared.clock import utcnow


class _WirePolicy(EmailPolicy):
    """SMTP policy, except that List-Unsubscribe URLs are never turned into encoded-words.

    The standard folder encodes any word longer than a line (a long mailto: URL) as =?utf-8?q?…?=,
    which mail clients cannot use as a link; RFC 2369 lets us fold between the URLs instead.
    """

    def fold(self, name: str, value: str) -> str:
        if name.lower() == "list-unsubscribe":
            return f"{name}: " + str(value).replace(">, <", ">," + self.linesep + " <") + self.linesep
        # typeshed leaves EmailPolicy.fold's return type out (it is str, as in Policy.fold).
        return super().fold(name, value)  # type: ignore[no-any-return]

    def fold_binary(self, name: str, value: str) -> bytes:
        if name.lower() == "list-unsubscribe":
            return self.fold(name, value).encode("ascii")
        return super().fold_binary(name, value)


WIRE_POLICY = _WirePolicy(linesep="\r\n")

# Control characters (CR and LF among them) and the Unicode line and paragraph separators: a text
# that carries one into a header could add headers of its own (Bcc:) to every copy.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Zl", "Zp"})


class HeaderError(ValueError):
    """A text meant for a mail header holds a line break or another control character."""

    def __init__(self, header: str):
        super().__init__(f"the {header} header may not contain line breaks or control characters")
        self.header = header


def has_control_characters(text: str) -> bool:
    """True if ``text`` holds a character no header may carry (line breaks, tabs, NUL…)."""
    return any(unicodedata.category(c) in _UNSAFE_CATEGORIES for c in text)


def check_header(header: str, value: str) -> str:
    """``value`` unchanged, or ``HeaderError`` if it could break out of its header."""
    if has_control_characters(value):
        raise HeaderError(header)
    return value


def format_address(email: str, name: str = "") -> str:
    """'Åsa Öberg <asa@example.se>' with the name encoded as needed when serialised."""
    check_header("To", email)
    check_header("To", name)
    local, _, domain = email.rpartition("@")
    # International domains travel as punycode; SMTPUTF8 is not something every relay offers.
    domain = domain.encode("idna").decode("ascii")
    return str(Address(display_name=name or "", username=local, domain=domain))


def build_message(
    *,
    sender: str,
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    headers: dict[str, str] | None = None,
    language: str = "sv",
) -> EmailMessage:
    """A complete message, ready for ``as_bytes()``; ``sender``/``to`` may carry display names.

    Raises ``HeaderError`` if a header text holds a line break or another control character.
    """
    for header, value in (("From", sender), ("To", to), ("Subject", subject), *(headers or {}).items()):
        check_header(header, value)
    msg = EmailMessage(policy=WIRE_POLICY)
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(utcnow())
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    msg["Message-ID"] = make_msgid(domain=domain)
    msg["MIME-Version"] = "1.0"
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
    if html is not None:
        msg.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
    msg["Content-Language"] = language  # after the body: set_content moves Content-* headers
    return msg


def as_wire_bytes(msg: EmailMessage) -> bytes:
    """The message as it goes over SMTP: CRLF line ends, nothing over 998 octets."""
    return msg.as_bytes(policy=WIRE_POLICY)
