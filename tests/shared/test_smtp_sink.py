"""The SMTP sink is a real server: prove it with the standard library's client."""

from __future__ import annotations

import os
import signal
import smtplib
import socket
import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.fixtures_smtp import SMTPSink
from tests.waiting import wait_until


def _message(to: str = "anna@example.se") -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Nyhetsbrevet <nyhetsbrev@utskick.example>"
    msg["To"] = to
    msg["Subject"] = "Hej från Utskick"
    msg.set_content("Första raden.\n.En rad som börjar med punkt.\n")
    return msg


def _send(sink: SMTPSink, msg: EmailMessage, to: list[str] | None = None):
    with smtplib.SMTP(sink.host, sink.port, timeout=5) as client:
        return client.send_message(msg, to_addrs=to)


def test_records_a_message_as_received(smtp_server):
    assert smtp_server.url == f"smtp://127.0.0.1:{smtp_server.port}"
    _send(smtp_server, _message())

    [received] = smtp_server.wait_for(1)
    assert received.mail_from == "nyhetsbrev@utskick.example"
    assert received.rcpt_tos == ("anna@example.se",)
    assert b"\r\n" in received.raw and b"\n.En rad" in received.raw  # CRLF kept, dot-stuffing undone
    assert received.message["Subject"] == "Hej från Utskick"
    assert received.message.get_content().startswith("Första raden.")


def test_scripted_temporary_failure_then_success(smtp_server):
    smtp_server.respond_with(451, "4.3.0 try again later")

    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        _send(smtp_server, _message())
    assert refused.value.recipients["anna@example.se"] == (451, b"4.3.0 try again later")
    assert smtp_server.messages == []

    _send(smtp_server, _message())  # the script is used up: the retry is accepted
    assert len(smtp_server.wait_for(1)) == 1


def test_scripted_permanent_rejection_of_one_recipient(smtp_server):
    smtp_server.respond_with(550, "5.1.1 user unknown", on="RCPT")

    refused = _send(smtp_server, _message(), to=["okand@example.se", "anna@example.se"])

    assert refused == {"okand@example.se": (550, b"5.1.1 user unknown")}
    [received] = smtp_server.wait_for(1)
    assert received.rcpt_tos == ("anna@example.se",)


def test_scripted_rejection_of_data(smtp_server):
    smtp_server.respond_with(554, "5.7.1 message refused", on="DATA")

    with pytest.raises(smtplib.SMTPDataError) as error:
        _send(smtp_server, _message())
    assert error.value.smtp_code == 554
    assert smtp_server.messages == []


def test_dropped_connection_during_data(smtp_server):
    smtp_server.drop_connection_next()

    with pytest.raises(smtplib.SMTPServerDisconnected):
        _send(smtp_server, _message())
    assert smtp_server.messages == []

    _send(smtp_server, _message())  # the sink is still up for the next connection
    assert len(smtp_server.wait_for(1)) == 1


def test_wait_for_times_out(smtp_server):
    with pytest.raises(TimeoutError):
        smtp_server.wait_for(1, timeout=0.2)


def test_standalone_mode_reports_count_on_sigterm(tmp_path):
    with socket.socket() as s:  # a port for the child; the small race is acceptable in a test
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    count_file = tmp_path / "count"
    script = Path(__file__).resolve().parents[1] / "fixtures_smtp.py"
    child = subprocess.Popen(
        [sys.executable, str(script), "--port", str(port), "--count-file", str(count_file)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(script.parents[1])},
    )

    def send_two() -> bool:
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=5) as client:
                client.send_message(_message())
                client.send_message(_message())
        except ConnectionRefusedError:
            return False  # not listening yet
        return True

    try:
        wait_until(send_two, what="the sink process to listen")
        child.send_signal(signal.SIGTERM)
        out, _ = child.communicate(timeout=10)
    finally:
        child.kill()
    assert child.returncode == 0
    assert out.strip() == "2"
    assert count_file.read_text().strip() == "2"
