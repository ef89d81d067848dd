"""CSV import as Swedish Excel writes files."""

from __future__ import annotations

from dataclasses import dataclass, field

from services.mailer.subscriptions.csvio import Line, read_subscriber_csv


@dataclass
class Parsed:
    rows: list[Line] = field(default_factory=list)
    invalid: list[Line] = field(default_factory=list)
    encoding: str = ""
    error: str | None = None


def parse(text: str, encoding="utf-8") -> Parsed:
    csv_file = read_subscriber_csv(text.encode(encoding))
    parsed = Parsed(encoding=csv_file.encoding, error=csv_file.error)
    for line in csv_file.lines():
        (parsed.invalid if line.problem else parsed.rows).append(line)
    return parsed


def test_excel_semicolon_file_with_bom_and_crlf():
    parsed = parse("\ufeffE-post;Namn\r\nasa@exempel.se;Åsa Öberg\r\nBo@Exempel.SE;Bo Ek\r\n")
    assert [(r.line, r.email, r.name) for r in parsed.rows] == [
        (2, "asa@exempel.se", "Åsa Öberg"),
        (3, "Bo@exempel.se", "Bo Ek"),
    ]
    assert parsed.invalid == []


def test_columns_by_header_in_any_order_and_case():
    parsed = parse("Namn,EMAIL,Övrigt\nKarin,karin@exempel.se,x\n")
    assert [(r.email, r.name) for r in parsed.rows] == [("karin@exempel.se", "Karin")]


def test_comma_without_header_and_international_domain():
    parsed = parse("anna@bücher.example,Anna\nbo@exempel.se\n")
    assert [(r.line, r.email, r.name) for r in parsed.rows] == [
        (1, "anna@bücher.example", "Anna"),
        (2, "bo@exempel.se", ""),
    ]


def test_invalid_rows_are_reported_with_line_numbers():
    parsed = parse(
        "email;name\r\nett@exempel.se;\r\nfel@@x;Fel\r\n;Tom\r\nETT@exempel.se;Ett Namn\r\n\r\ntva@exempel.se;Två\r\n"
    )
    assert [(r.line, r.email, r.name) for r in parsed.rows] == [
        (2, "ett@exempel.se", ""),
        (5, "ETT@exempel.se", "Ett Namn"),  # merged into line 2 when imported
        (7, "tva@exempel.se", "Två"),
    ]
    assert [(p.line, p.email) for p in parsed.invalid] == [(3, "fel@@x"), (4, "")]


def test_other_columns_become_attributes():
    parsed = parse("e-post;namn;Kommun;Roll;\r\nasa@exempel.se;Åsa;Ale;IT-chef;\r\nbo@exempel.se;Bo;;Chef\r\n")
    assert [r.attributes for r in parsed.rows] == [{"Kommun": "Ale", "Roll": "IT-chef"}, {"Roll": "Chef"}]


def test_control_characters_in_names_are_dropped():
    parsed = parse("email;name\nett@exempel.se;E\x00tt\x07\r\n")
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


def test_a_line_csv_cannot_read_is_reported_and_the_rest_is_read():
    parsed = parse("email\n" + "x" * 200_000 + "\nq@exempel.se\rr@exempel.se\r")
    assert [(p.line, p.problem) for p in parsed.invalid] == [(2, "Raden kunde inte läsas som CSV.")]
    assert [r.email for r in parsed.rows] == ["q@exempel.se", "r@exempel.se"]
