"""``utskick results …``: the export written to a file or standard output, and the small-group threshold."""

from __future__ import annotations

from openpyxl import load_workbook

from tests.survey.results.test_exports import ANSWERS, ATTRS
from tests.survey.results_data import add_response, make_survey


def test_cli_export_writes_the_file(db, config, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from services.cli import main

    with db.transaction() as s:
        survey = make_survey(s, anonymous=False)
        add_response(s, survey, ANSWERS, attributes=ATTRS)
        survey_id = survey.id
    monkeypatch.setenv("DATABASE_URL", config.database_url)
    monkeypatch.setenv("SECRET_KEYS", ",".join(config.secret_keys))
    monkeypatch.setenv("MAIL_URL", "file://" + str(tmp_path / "out"))
    monkeypatch.setenv("MAIL_FROM", "Test <t@example.org>")
    out = tmp_path / "svar.xlsx"
    result = CliRunner().invoke(main, ["results", "export", str(survey_id), "--format", "xlsx", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert load_workbook(out)["Svar"].max_row == 2
    csv_result = CliRunner().invoke(main, ["results", "export", str(survey_id), "--semicolon"])
    assert csv_result.exit_code == 0
    assert "Samverkan är svår" in csv_result.output and "delaktighet;" in csv_result.output
    missing = CliRunner().invoke(main, ["results", "export", "999"])
    assert missing.exit_code != 0 and "no survey" in missing.output


def test_cli_sets_the_minimum_group_size(db, config, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from services.cli import main
    from shared.models import Survey

    with db.transaction() as s:
        anonymous, named = make_survey(s).id, make_survey(s, anonymous=False).id
    monkeypatch.setenv("DATABASE_URL", config.database_url)
    monkeypatch.setenv("SECRET_KEYS", ",".join(config.secret_keys))
    monkeypatch.setenv("MAIL_URL", "file://" + str(tmp_path / "out"))
    monkeypatch.setenv("MAIL_FROM", "Test <t@example.org>")
    runner = CliRunner()
    assert runner.invoke(main, ["results", "min-group-size", str(named), "2"]).exit_code == 0
    refused = runner.invoke(main, ["results", "min-group-size", str(anonymous), "2"])
    assert refused.exit_code != 0 and "anonymous" in refused.output
    assert runner.invoke(main, ["results", "min-group-size", str(anonymous), "8"]).exit_code == 0
    with db.sessions() as s:
        assert (s.get(Survey, named).min_group_size, s.get(Survey, anonymous).min_group_size) == (2, 8)


def test_cli_writes_spss_syntax_and_r_script_beside_the_data(db, config, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from services.cli import main

    with db.transaction() as s:
        survey = make_survey(s)
        for _ in range(5):
            add_response(s, survey, ANSWERS, attributes=ATTRS)
        few = make_survey(s)
        add_response(s, few, ANSWERS, attributes=ATTRS)
        survey_id, few_id = survey.id, few.id
    monkeypatch.setenv("DATABASE_URL", config.database_url)
    monkeypatch.setenv("SECRET_KEYS", ",".join(config.secret_keys))
    monkeypatch.setenv("MAIL_URL", "file://" + str(tmp_path / "out"))
    runner = CliRunner()
    name = tmp_path / "millennium"
    spss = runner.invoke(main, ["results", "export", str(survey_id), "--format", "spss", "--out", str(name)])
    assert spss.exit_code == 0, spss.output
    assert "/FILE='millennium.csv'" in (tmp_path / "millennium.sps").read_text(encoding="utf-8")
    assert (tmp_path / "millennium.csv").read_text(encoding="utf-8-sig").count("\n") == 6
    r = runner.invoke(main, ["results", "export", str(survey_id), "--format", "r", "--out", str(tmp_path / "svar")])
    assert r.exit_code == 0 and 'read.csv("svar.csv"' in (tmp_path / "svar.R").read_text(encoding="utf-8")
    refused = runner.invoke(main, ["results", "export", str(few_id), "--format", "spss", "--out", str(name)])
    assert refused.exit_code != 0 and "4 more needed" in refused.output
    assert (tmp_path / "millennium.csv").read_text(encoding="utf-8-sig").count("\n") == 6  # left as it was
    no_name = runner.invoke(main, ["results", "export", str(survey_id), "--format", "r"])
    assert no_name.exit_code != 0 and "--out NAME" in no_name.output
