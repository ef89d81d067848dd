"""Build RFC 5322 messages: multipart/alternative (plain text + HTML), UTF-8, encoded headers,
Message-ID and Date, quoted-printable bodies (no line over 998 octets), CRLF line ends."""

from __future__ import annotations

import binascii
import functools
import re
import secrets
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import format_datetime, formataddr, make_msgid, parseaddr

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
# that carries one into a header could add headers of its own (Bcc:) to every copy. Spelt out as the
# code points of the categories Cc, Zl and Zp: a regular expression checks a header in microseconds,
# looking up each character's category took a sixth of a survey mail's time.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


class HeaderError(ValueError):
    """A text meant for a mail header holds a line break or another control character."""

    def __init__(self, header: str):
        super().__init__(f"the {header} header may not contain line breaks or control characters")
        self.header = header


def has_control_characters(text: str) -> bool:
    """True if ``text`` holds a character no header may carry (line breaks, tabs, NUL…)."""
    return _UNSAFE.search(text) is not None


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


class MessageWriter:
    """The same messages as ``build_message`` + ``as_wire_bytes`` for a fan-out, written as bytes
    directly: the email package's header objects are most of the time of a mail, which at 100 000
    recipients is minutes. What all mails share (sender, date, boundary) is prepared once."""

    def __init__(self, sender: str, language: str = "sv"):
        self.sender = f"From: {formataddr(parseaddr(sender), charset='utf-8')}\r\n".encode("ascii")
        self.domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
        self.date = f"Date: {format_datetime(utcnow())}\r\n".encode("ascii")
        self.boundary = "===============" + secrets.token_hex(12) + "=="  # never in quoted-printable text
        self.language = language

    def write(self, to_email: str, to_name: str, subject: str, text: str, html: str, headers: dict[str, str]) -> bytes:
        """One multipart/alternative message (plain text and HTML, quoted-printable), CRLF.

        Raises HeaderError, as ``build_message`` does, for a header text that could break out of its line.
        """
        for header, value in (("To", to_email), ("To", to_name), ("Subject", subject), *headers.items()):
            check_header(header, value)
        local, _at, domain = to_email.rpartition("@")
        address = f"{local}@{domain.encode('idna').decode('ascii')}"
        to = formataddr((" ".join(to_name.split()), address), charset="utf-8")
        parts = [
            self.sender,
            f"To: {to}\r\n".encode("ascii"),  # formataddr encodes the name
            _header("Subject", subject),
            self.date,
            f"Message-ID: {make_msgid(domain=self.domain)}\r\nMIME-Version: 1.0\r\n".encode("ascii"),
            *(f"{name}: {value}\r\n".encode("ascii") for name, value in headers.items()),
            f'Content-Type: multipart/alternative; boundary="{self.boundary}"\r\n'.encode("ascii"),
            f"Content-Language: {self.language}\r\n\r\n".encode("ascii"),
        ]
        for subtype, body in (("plain", text), ("html", html)):
            parts.append(
                f'--{self.boundary}\r\nContent-Type: text/{subtype}; charset="utf-8"\r\n'
                "Content-Transfer-Encoding: quoted-printable\r\n\r\n".encode("ascii")
            )
            parts.append(_quoted_printable(body))
        parts.append(f"--{self.boundary}--\r\n".encode("ascii"))
        return b"".join(parts)


# A fan-out's mails mostly share their subject, and encoding a non-ASCII one is most of a mail's time.
@functools.lru_cache(maxsize=256)
def _header(name: str, value: str) -> bytes:
    """A header, RFC 2047-encoded when it is not plain ASCII, folded, CRLF-terminated."""
    if value.isascii() and len(value) < 900:
        return f"{name}: {value}\r\n".encode("ascii")
    encoded = Header(value, "utf-8", header_name=name).encode(linesep="\r\n")
    return f"{name}: {encoded}\r\n".encode("ascii")


def _quoted_printable(text: str) -> bytes:
    """A body as quoted-printable with CRLF line ends (the C codec; lines at most 76 octets)."""
    text = text if text.endswith("\n") else text + "\n"  # as the email package ends every part
    data = text.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")
    encoded = binascii.b2a_qp(data, quotetabs=False, istext=True, header=False)
    return encoded + b"\r\n"  # the line end before the next boundary belongs to the boundary (RFC 2046)
