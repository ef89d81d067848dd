"""CSV import as Swedish Excel writes files."""

from __future__ import annotations

from services.mailer.subscriptions.csvio import parse_subscriber_csv


def parse(text: str, encoding="utf-8"):
    return parse_subscriber_csv(text.encode(encoding))


def test_excel_semicolon_file_with_bom_and_crlf():
    parsed = parse("\ufeffE-post;Namn\r\nasa@exempel.se;Åsa Öberg\r\nBo@Exempel.SE;Bo Ek\r\n")
    assert [(r.line, r.email, r.name) for r in parsed.rows] == [
        (2, "asa@exempel.se", "Åsa Öberg"),
        (3, "Bo@exempel.se", "Bo Ek"),
    ]
    assert parsed.invalid == [] and parsed.merged == []


def test_columns_by_header_in_any_order_and_case():
    parsed = parse("Namn,EMAIL,Övrigt\nKarin,karin@exempel.se,x\n")
    assert [(r.email, r.name) for r in parsed.rows] == [("karin@exempel.se", "Karin")]


def test_comma_without_header_and_international_domain():
    parsed = parse("anna@bücher.example,Anna\nbo@exempel.se\n")
    assert [(r.line, r.email, r.name) for r in parsed.rows] == [
        (1, "anna@bücher.example", "Anna"),
        (2, "bo@exempel.se", ""),
    ]


def test_invalid_rows_and_duplicates_are_reported_with_line_numbers():
    parsed = parse(
        "email;name\r\nett@exempel.se;\r\nfel@@x;Fel\r\n;Tom\r\nETT@exempel.se;Ett Namn\r\n\r\ntva@exempel.se;Två\r\n"
    )
    assert [(r.line, r.email, r.name) for r in parsed.rows] == [
        (2, "ett@exempel.se", "Ett Namn"),
        (7, "tva@exempel.se", "Två"),
    ]
    assert [(p.line, p.value) for p in parsed.invalid] == [(3, "fel@@x"), (4, "")]
    assert [(p.line, p.value, p.reason) for p in parsed.merged] == [(5, "ETT@exempel.se", "2")]


def test_control_characters_in_names_are_dropped():
    parsed = parse("email;name\nett@exempel.se;\nett@exempel.se;E\x00tt\x07\n")
    assert parsed.rows[0].name == "Ett"


def test_windows_1252_file_from_older_excel():
    parsed = parse("e-post;namn\r\nper@exempel.se;Per Åström\r\n", encoding="cp1252")
    assert parsed.encoding == "windows-1252" and parsed.rows[0].name == "Per Åström"


def test_files_that_cannot_be_read():
    assert parse("").error == "empty"
    assert parse("förnamn;efternamn\r\nAnna;Ek\r\n").error == "no_email_column"


def test_non_ascii_local_part_is_refused_with_a_reason():
    parsed = parse("email\nåsa@exempel.se\n")
    assert parsed.rows == [] and parsed.invalid[0].line == 2
