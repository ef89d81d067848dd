"""CSV import/export as Swedish Excel writes files, and the command line around it."""
from __future__ import annotations

import csv
import io

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from services.cli import main
from services.mailer.subscriptions.csvio import parse_subscriber_csv
from shared.models import OutboxMail, Subscription, Suppression


def parse(text: str, encoding="utf-8"):
    return parse_subscriber_csv(text.encode(encoding))


def test_excel_semicolon_file_with_bom_and_crlf():
    parsed = parse("\ufeffE-post;Namn\r\nasa@exempel.se;Åsa Öberg\r\nBo@Exempel.SE;Bo Ek\r\n")
    assert [(r.line, r.email, r.name) for r in parsed.rows] == [(2, "asa@exempel.se", "Åsa Öberg"), (3, "Bo@exempel.se", "Bo Ek")]
    assert parsed.invalid == [] and parsed.merged == []


def test_columns_by_header_in_any_order_and_case():
    parsed = parse("Namn,EMAIL,Övrigt\nKarin,karin@exempel.se,x\n")
    assert [(r.email, r.name) for r in parsed.rows] == [("karin@exempel.se", "Karin")]


def test_comma_without_header_and_international_domain():
    parsed = parse("anna@bücher.example,Anna\nbo@exempel.se\n")
    assert [(r.line, r.email, r.name) for r in parsed.rows] == [(1, "anna@bücher.example", "Anna"), (2, "bo@exempel.se", "")]


def test_invalid_rows_and_duplicates_are_reported_with_line_numbers():
    parsed = parse("email;name\r\nett@exempel.se;\r\nfel@@x;Fel\r\n;Tom\r\nETT@exempel.se;Ett Namn\r\n\r\ntva@exempel.se;Två\r\n")
    assert [(r.line, r.email, r.name) for r in parsed.rows] == [(2, "ett@exempel.se", "Ett Namn"), (7, "tva@exempel.se", "Två")]
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


@pytest.fixture
def cli_env(config, monkeypatch):
    env = {
        "DATABASE_URL": config.database_url,
        "MAIL_URL": f"file://{config.mail_url.directory}",
        "SECRET_KEYS": ",".join(config.secret_keys),
        "MAILER_URL": config.mailer_url,
        "SURVEY_URL": config.survey_url,
        "UTSKICK_VAR_DIR": str(config.var_dir),
    }
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    return env


def test_cli_import_without_consent_mails_each_new_row(db, cli_env, tmp_path):
    with db.transaction() as s:
        s.add(Suppression(email="studsar@exempel.se", reason="hard_bounce"))
    path = tmp_path / "lista.csv"
    path.write_bytes("\ufeffe-post;namn\r\nny@exempel.se;Ny Person\r\nstudsar@exempel.se;X\r\ninte-en-adress;Y\r\nny@exempel.se;\r\n".encode())
    result = CliRunner().invoke(main, ["subscribers", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "imported: 1 (pending, confirmation mailed)" in result.output
    assert "line 3: studsar@exempel.se (suppressed)" in result.output
    assert "line 4: 'inte-en-adress'" in result.output
    assert "line 5: ny@exempel.se (same as line 2)" in result.output
    with db.sessions() as s:
        assert s.scalar(select(Subscription.status)) == "pending"
        assert list(s.scalars(select(OutboxMail.recipient))) == ["ny@exempel.se"]

    again = CliRunner().invoke(main, ["subscribers", "import", str(path), "--consented"])
    assert "imported: 0" in again.output and "line 2: ny@exempel.se (already on the list: pending)" in again.output


def test_cli_import_consented_then_export(db, cli_env, tmp_path):
    path = tmp_path / "lista.csv"
    path.write_text("email,name\nanna@exempel.se,Anna Ek\nbo@exempel.se,\"Bo, med komma\"\n")
    result = CliRunner().invoke(main, ["subscribers", "import", str(path), "--list", "nyhetsbrev", "--consented"])
    assert result.exit_code == 0 and "imported: 2 (active" in result.output
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(OutboxMail)) == 0
        assert set(s.scalars(select(Subscription.consent_method))) == {"import"}

    out = CliRunner().invoke(main, ["subscribers", "export"])
    assert out.exit_code == 0
    rows = list(csv.reader(io.StringIO(out.output)))
    assert rows[0] == ["email", "name", "status", "requested_at", "confirmed_at", "unsubscribed_at"]
    assert rows[1][:3] == ["anna@exempel.se", "Anna Ek", "active"] and rows[1][4] and not rows[1][5]
    assert rows[2][:2] == ["bo@exempel.se", "Bo, med komma"]

    missing = CliRunner().invoke(main, ["subscribers", "export", "--list", "finns-inte"])
    assert missing.exit_code != 0 and "no list 'finns-inte'" in missing.output
