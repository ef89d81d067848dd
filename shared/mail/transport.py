"""Transports: the one narrow interface through which mail leaves. SMTP for real, files for development.

``send`` raises ``TemporaryFailure`` (4xx, lost connection: try again later) or ``PermanentFailure``
(5xx: the server's answer is final) so callers never need to know smtplib's exceptions.
"""

from __future__ import annotations

import contextlib
import smtplib
import ssl
import time
import uuid
from pathlib import Path
from typing import Protocol

from shared.config import MailURL


class DeliveryFailure(Exception):
    def __init__(self, code: int | None, text: str):
        super().__init__(f"{code} {text}" if code else text)
        self.code = code
        self.text = text


class TemporaryFailure(DeliveryFailure):
    """Worth trying again: a 4xx answer or a connection that went away."""


class PermanentFailure(DeliveryFailure):
    """Final: a 5xx answer. ``text`` holds what the server said."""


class Transport(Protocol):
    def send(self, sender: str, recipient: str, message: bytes) -> None: ...

    def close(self) -> None: ...


def _smtp_text(raw: bytes | str) -> str:
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)


class SMTPTransport:
    """One SMTP connection, opened on first use and reused until closed or broken."""

    def __init__(self, url: MailURL, timeout: float = 30.0):
        self.url = url
        self.timeout = timeout
        self._conn: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        try:
            conn: smtplib.SMTP
            if self.url.scheme == "smtps":
                conn = smtplib.SMTP_SSL(
                    self.url.host, self.url.port, timeout=self.timeout, context=ssl.create_default_context()
                )
            else:
                conn = smtplib.SMTP(self.url.host, self.url.port, timeout=self.timeout)
                if self.url.scheme == "smtp+starttls":
                    conn.starttls(context=ssl.create_default_context())
                    conn.ehlo()
            if self.url.username:
                conn.login(self.url.username, self.url.password or "")
            conn.ehlo_or_helo_if_needed()  # what the server offers (PIPELINING, SIZE) decides how we send
        except smtplib.SMTPAuthenticationError as exc:
            raise TemporaryFailure(exc.smtp_code, "authentication refused: " + _smtp_text(exc.smtp_error)) from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise TemporaryFailure(None, f"cannot connect to {self.url.host}:{self.url.port}: {exc}") from exc
        return conn

    def send(self, sender: str, recipient: str, message: bytes) -> None:
        if self._conn is None:
            self._conn = self._connect()
        conn = self._conn
        try:
            self._transaction(conn, sender, recipient, message)
        except (smtplib.SMTPServerDisconnected, OSError, smtplib.SMTPException) as exc:
            self.close()
            raise TemporaryFailure(None, f"connection lost: {exc}") from exc

    def _transaction(self, conn: smtplib.SMTP, sender: str, recipient: str, message: bytes) -> None:
        """MAIL, RCPT, DATA and the message, as ``sendmail`` does for one recipient, but: with PIPELINING
        (RFC 2920) the three commands go in one write, saving two round trips per mail; and the
        addresses, ours and already checked, are not parsed again per mail (``email.utils`` in smtplib)."""
        size = f" SIZE={len(message)}" if conn.has_extn("size") else ""
        commands = [f"MAIL FROM:<{sender}>{size}", f"RCPT TO:<{recipient}>", "DATA"]
        accepted = ({250}, {250, 251}, {354})
        replies: list[tuple[int, bytes]] = []
        if conn.has_extn("pipelining"):
            conn.send("".join(command + "\r\n" for command in commands))
            replies = [conn.getreply() for _ in commands]
        else:
            for command in commands:
                conn.putcmd(command)
                replies.append(conn.getreply())
                if replies[-1][0] not in accepted[len(replies) - 1]:
                    break
        refusal = next((reply for reply, ok in zip(replies, accepted, strict=False) if reply[0] not in ok), None)
        if refusal is not None:
            if replies[-1][0] == 354:  # DATA accepted after all (a server at odds with RFC 2920): end it empty
                conn.send(b".\r\n")
                conn.getreply()
            self._refused(conn, *refusal)
        # Dot-stuffing (RFC 5321 4.5.2) as smtplib does it, with bytes.replace instead of a regex.
        data = message.replace(b"\n.", b"\n..")
        if data.startswith(b"."):
            data = b"." + data
        if not data.endswith(b"\r\n"):
            data += b"\r\n"
        conn.send(data + b".\r\n")
        code, text = conn.getreply()
        if code != 250:
            self._refused(conn, code, text)

    def _refused(self, conn: smtplib.SMTP, code: int, text: bytes) -> None:
        self._reset(conn)
        raise (PermanentFailure if code >= 500 else TemporaryFailure)(code, _smtp_text(text))

    def _reset(self, conn: smtplib.SMTP) -> None:
        """After a refusal the connection is still good; RSET clears the transaction."""
        try:
            conn.rset()
        except (smtplib.SMTPException, OSError):
            self.close()

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self._conn.quit()
            self._conn = None


class FileTransport:
    """Development: each mail becomes an .eml file the admin's Outbox page can show."""

    def __init__(self, directory: Path):
        self.directory = directory

    def send(self, sender: str, recipient: str, message: bytes) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}.eml"
        tmp = self.directory / (name + ".tmp")
        envelope = f"X-Envelope-From: {sender}\r\nX-Envelope-To: {recipient}\r\n".encode()
        tmp.write_bytes(envelope + message)
        tmp.rename(self.directory / name)  # readers never see half a file

    def close(self) -> None:
        pass


def open_transport(url: MailURL) -> Transport:
    if url.is_file:
        if url.directory is None:  # parse_mail_url always gives one; a hand-made MailURL might not
            raise ValueError("a file: mail URL needs a folder")
        return FileTransport(url.directory)
    return SMTPTransport(url)
