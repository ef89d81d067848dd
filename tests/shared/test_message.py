"""Messages as mail clients need them: multipart, UTF-8, encoded headers, short lines, CRLF."""

import email
from email.policy import default

from shared.mail.message import as_wire_bytes, build_message, format_address

LONG_LINE = "Kommunalförbundens samverkan " * 200  # one paragraph, ~6 000 characters


def make():
    return build_message(
        sender=format_address("nyhetsbrev@vastkom.example", "VästKom Nyhetsbrev"),
        to=format_address("asa@göteborg.example", "Åsa Öberg"),
        subject="Bekräfta din prenumeration – Nyhetsbrevet",
        text="Hej Åsa!\n\n" + LONG_LINE,
        html="<p>Hej Åsa!</p><p>" + LONG_LINE + "</p>",
        headers={"List-Unsubscribe": "<https://x.example/unsubscribe/t>"},
    )


def test_wire_format_is_crlf_and_no_line_over_998_octets():
    raw = as_wire_bytes(make())
    assert raw.count(b"\n") == raw.count(b"\r\n")
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    raw.decode("ascii")  # everything non-ASCII is encoded


def test_a_mail_client_reads_back_names_subject_and_both_parts():
    parsed = email.message_from_bytes(as_wire_bytes(make()), policy=default)
    assert parsed["Subject"] == "Bekräfta din prenumeration – Nyhetsbrevet"
    assert parsed["From"].addresses[0].display_name == "VästKom Nyhetsbrev"
    assert parsed["To"].addresses[0].display_name == "Åsa Öberg"
    assert parsed["To"].addresses[0].domain == "xn--gteborg-90a.example"
    assert parsed.get_content_type() == "multipart/alternative"
    plain = parsed.get_body(("plain",)).get_content()
    html = parsed.get_body(("html",)).get_content()
    assert LONG_LINE.strip() in plain and "<p>Hej Åsa!</p>" in html
    assert parsed["Message-ID"].endswith("@vastkom.example>")
    assert parsed["Date"] and parsed["Content-Language"] == "sv"
    assert parsed["List-Unsubscribe"] == "<https://x.example/unsubscribe/t>"
