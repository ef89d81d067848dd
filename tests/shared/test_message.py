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


def test_the_fan_out_writer_gives_what_build_message_gives():
    """``MessageWriter`` (survey invitations by the thousand) and ``build_message`` read the same."""
    from email import message_from_bytes
    from email.policy import default

    from shared.mail.message import MessageWriter

    text = "Hej Åsa!\n\nSvara här: https://enkat.example.se/s/" + "x" * 90 + "\n\nRad med  mellanslag  \nSlut.\n"
    html = "<p>Hej Åsa – " + "lång rad " * 40 + '</p>\n<p><a href="https://enkat.example.se/s/abc">Svara</a></p>'
    headers = {
        "List-Unsubscribe": "<https://enkat.example.se/s/abc/decline>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    args = (
        "Västkom Enkät <enkat@vastkom.example>",
        "asa@öberg.example",
        "Åsa Öberg",
        "Inbjudan: Utvärdering – kommunernas erfarenheter",
    )
    fast = MessageWriter(args[0], "sv").write(args[1], args[2], args[3], text, html, headers)
    slow = as_wire_bytes(
        build_message(
            sender=args[0], to=format_address(args[1], args[2]), subject=args[3], text=text, html=html, headers=headers
        )
    )
    assert all(len(line) <= 998 for line in fast.split(b"\r\n")) and b"\n" not in fast.replace(b"\r\n", b"")
    a, b = message_from_bytes(fast, policy=default), message_from_bytes(slow, policy=default)
    for name in (
        "From",
        "To",
        "Subject",
        "List-Unsubscribe",
        "List-Unsubscribe-Post",
        "MIME-Version",
        "Content-Language",
    ):
        assert str(a[name]) == str(b[name]), name
    assert a["Message-ID"] and a["Date"]
    for subtype in ("plain", "html"):
        assert a.get_body((subtype,)).get_content() == b.get_body((subtype,)).get_content()
