"""SMTP transport: one reused connection, MAIL/RCPT/DATA pipelined when the server offers it, and the
server's refusals as temporary or permanent failures — the same with and without PIPELINING."""

from __future__ import annotations

import pytest

from shared.config import parse_mail_url
from shared.mail.transport import PermanentFailure, SMTPTransport, TemporaryFailure
from tests.fixtures_smtp import SMTPSink

MESSAGE = b"Subject: Hej\r\n\r\n.En rad som b\xc3\xb6rjar med punkt\r\n..och tv\xc3\xa5\r\nsist utan radslut"


@pytest.fixture(params=[True, False], ids=["pipelining", "one command at a time"])
def sink(request):
    with SMTPSink(pipelining=request.param) as server:
        yield server


@pytest.fixture
def transport(sink, tmp_path):
    smtp = SMTPTransport(parse_mail_url(sink.url, tmp_path))
    yield smtp
    smtp.close()


def test_a_message_arrives_as_sent_lines_starting_with_a_dot_included(sink, transport):
    transport.send("nyhetsbrev@utskick.example", "anna@example.se", MESSAGE)
    transport.send("nyhetsbrev@utskick.example", "bo@example.se", MESSAGE)

    first, second = sink.wait_for(2)
    assert (first.mail_from, first.rcpt_tos, second.rcpt_tos) == (
        "nyhetsbrev@utskick.example",
        ("anna@example.se",),
        ("bo@example.se",),
    )
    assert first.raw == MESSAGE + b"\r\n"  # dot-stuffing undone by the server; a last line end added
    assert sink.connections == 1


@pytest.mark.parametrize(
    ("command", "reply", "failure"),
    [
        ("RCPT", "550 5.1.1 no such user", PermanentFailure),
        ("RCPT", "450 4.2.0 mailbox busy", TemporaryFailure),
        ("DATA", "554 5.6.0 message refused", PermanentFailure),
        ("DATA", "451 4.3.0 try again later", TemporaryFailure),
    ],
)
def test_a_refusal_fails_that_mail_and_the_connection_goes_on(sink, transport, command, reply, failure):
    sink.respond_with(int(reply[:3]), reply[4:], on=command)
    with pytest.raises(failure) as refused:
        transport.send("nyhetsbrev@utskick.example", "anna@example.se", MESSAGE)
    assert refused.value.code == int(reply[:3]) and refused.value.text == reply[4:]

    transport.send("nyhetsbrev@utskick.example", "bo@example.se", MESSAGE)
    [received] = sink.wait_for(1)
    assert received.rcpt_tos == ("bo@example.se",)
    assert sink.connections == 1


def test_a_dropped_connection_is_a_temporary_failure_and_the_next_mail_reconnects(sink, transport):
    transport.send("nyhetsbrev@utskick.example", "anna@example.se", MESSAGE)
    sink.drop_connection_next()
    with pytest.raises(TemporaryFailure):
        transport.send("nyhetsbrev@utskick.example", "bo@example.se", MESSAGE)
    transport.send("nyhetsbrev@utskick.example", "cecilia@example.se", MESSAGE)
    assert [m.rcpt_tos for m in sink.wait_for(2)] == [("anna@example.se",), ("cecilia@example.se",)]
    assert sink.connections == 2
