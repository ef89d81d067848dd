"""A real SMTP server for tests: aiosmtpd on 127.0.0.1, recording what it receives.

Tests send through the application's own SMTP code to ``smtp_server.url`` and then look at
``smtp_server.messages``. Failures are scripted per command, so retry and bounce handling is tested
against the SMTP conversation a real relay would have, not against a mock of smtplib.

Outside pytest (benchmarks run it in a separate process)::

    python tests/fixtures_smtp.py --port 2525 [--count-file PATH]

It prints nothing while running; on SIGTERM or SIGINT it prints the number of messages accepted
(and writes it to PATH if given), then exits.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import signal
import threading
import time
from dataclasses import dataclass
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller


@dataclass(frozen=True)
class ReceivedMessage:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes  # as received (CRLF line ends, dot-stuffing removed)
    message: EmailMessage


class _Controller(Controller):
    """Binds port 0 and learns the real port before aiosmtpd's start-up self-test connects to it.

    Asking the OS for the port inside the bind avoids the race of probing for a free port first.
    """

    def _trigger_server(self):
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class SMTPSink:
    """An SMTP server that accepts everything unless told otherwise. Safe to use from any thread."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, keep_messages: bool = True, pipelining: bool = True):
        self.host = host
        self._pipelining = pipelining  # offered as mail providers do (RFC 2920); aiosmtpd reads line by line
        self._keep = keep_messages  # benchmarks only count, parsing every message would skew them
        self._lock = threading.Condition()
        self._messages: list[ReceivedMessage] = []
        self._count = 0
        self._connections = 0
        self._scripted: list[tuple[str | None, str]] = []  # (command or None for either, reply)
        self._drop_next_data = False
        # server_hostname avoids a reverse DNS lookup per connection; SMTPUTF8 so that addresses
        # with å, ä, ö can be delivered if the sender asks for it.
        self._controller = _Controller(
            self, hostname=host, port=port, server_hostname="sink.test", enable_SMTPUTF8=True
        )

    # -- life cycle ----------------------------------------------------------------------------
    def start(self) -> SMTPSink:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> SMTPSink:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return self._controller.port

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    # -- what arrived --------------------------------------------------------------------------
    @property
    def messages(self) -> list[ReceivedMessage]:
        """A snapshot: the list keeps growing in the server thread."""
        with self._lock:
            return list(self._messages)

    @property
    def count(self) -> int:
        with self._lock:
            return self._count

    @property
    def connections(self) -> int:
        """SMTP sessions opened so far (each client greeting once per connection)."""
        with self._lock:
            return self._connections

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()
            self._count = 0

    def wait_for(self, count: int, timeout: float = 10) -> list[ReceivedMessage]:
        """Block until at least ``count`` messages were accepted; raise TimeoutError otherwise."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._count < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"SMTP sink got {self._count} message(s) in {timeout}s, expected {count}")
                self._lock.wait(remaining)
            return list(self._messages)

    # -- scripted failures ---------------------------------------------------------------------
    def respond_with(self, code: int, text: str, times: int = 1, on: str | None = None) -> None:
        """Answer the next ``times`` RCPT or DATA commands with ``code text`` instead of accepting.

        ``on="RCPT"`` or ``on="DATA"`` limits the script to one command, e.g. to reject the message
        after the recipients were accepted. Scripts are used in the order they were given.
        """
        if on not in (None, "RCPT", "DATA"):
            raise ValueError(f"on must be None, 'RCPT' or 'DATA', not {on!r}")
        with self._lock:
            self._scripted.extend([(on, f"{code} {text}")] * times)

    def drop_connection_next(self) -> None:
        """Close the connection after the next message's data arrived, before answering it.

        The message is not recorded: to the sender it is unknown whether it was delivered.
        """
        with self._lock:
            self._drop_next_data = True

    def _take_scripted(self, command: str) -> str | None:
        with self._lock:
            for i, (on, reply) in enumerate(self._scripted):
                if on in (None, command):
                    del self._scripted[i]
                    return reply
        return None

    # -- aiosmtpd handler hooks (run in the server thread) -------------------------------------
    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        with self._lock:
            self._connections += 1
        if self._pipelining:
            responses.insert(1, "250-PIPELINING")
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self._take_scripted("RCPT")
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self._lock:
            drop, self._drop_next_data = self._drop_next_data, False
        if drop:
            server.transport.close()
            return "421 4.4.2 connection dropped"  # never reaches the client: the transport is closed
        reply = self._take_scripted("DATA")
        if reply:
            return reply
        raw = bytes(envelope.original_content)
        received = None
        if self._keep:
            received = ReceivedMessage(
                mail_from=envelope.mail_from,
                rcpt_tos=tuple(envelope.rcpt_tos),
                raw=raw,
                message=email.message_from_bytes(raw, policy=email.policy.default),
            )
        with self._lock:
            if received:
                self._messages.append(received)
            self._count += 1
            self._lock.notify_all()
        return "250 OK"


@pytest.fixture
def smtp_server():
    """A running SMTPSink on a free port of 127.0.0.1; stopped after the test."""
    with SMTPSink() as sink:
        yield sink


def main() -> None:
    parser = argparse.ArgumentParser(description="Count messages sent to a local SMTP sink.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--count-file", help="also write the final count here")
    args = parser.parse_args()

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    with SMTPSink(args.host, args.port, keep_messages=False) as sink:
        while not stop.wait(0.5):  # a timed wait lets the signal handler run promptly
            pass
        count = sink.count
    if args.count_file:
        with open(args.count_file, "w") as fh:
            fh.write(f"{count}\n")
    print(count, flush=True)


if __name__ == "__main__":
    main()
