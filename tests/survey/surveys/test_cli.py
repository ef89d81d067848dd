"""``utskick surveys …``: a definition with errors is explained, not a traceback."""

from __future__ import annotations


def test_import_with_errors_lists_them_without_a_traceback(run, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "title: x\npages:\n  - title: p\n    questions:\n      - {key: a, type: scale, text: t, min: 3, max: 2}\n"
    )
    result = run("surveys", "import", bad)
    assert result.exit_code == 1
    assert "pages[0].questions[0].max: måste vara större än min" in result.output
    assert "Traceback" not in result.output


def surveys_in(db) -> int:
    from sqlalchemy import func, select

    from shared.models import Survey

    with db.sessions() as s:
        return s.scalar(select(func.count()).select_from(Survey))


def test_deep_nesting_or_a_file_over_2_mb_is_explained_and_creates_nothing(run, tmp_path, db):
    from tests.survey.conftest import MILLENNIUM

    deep = tmp_path / "djup.yaml"
    deep.write_text("title: x\npages: " + "[" * 5000 + "]" * 5000 + "\n")
    large = tmp_path / "stor.yaml"
    large.write_text(MILLENNIUM.read_text(encoding="utf-8") + "\n# " + "x" * (5 * 1024 * 1024) + "\n")
    for path, message in ((deep, "för djupt nästlad"), (large, "Definitionen är för stor. Den får vara högst 2 MB.")):
        result = run("surveys", "import", path, "--open")
        assert result.exit_code == 1 and message in result.output
        assert "Traceback" not in result.output
    assert surveys_in(db) == 0


def test_an_id_no_column_can_hold_is_refused_by_the_command(run):
    result = run("surveys", "export", "99999999999999999999")
    assert result.exit_code == 2 and "is not in the range 0<=x<=2147483647" in result.output


def test_copy_prints_the_new_id_and_takes_no_participants(run, db, make_survey):
    from shared.models import Participant, Survey

    survey_id = make_survey(participants="email,name\r\nanna@ale.example,Anna\r\n")
    result = run("surveys", "copy", survey_id, "--title", "Millennium 2027")
    assert result.exit_code == 0, result.output
    new_id = int(result.output.strip())
    with db.sessions() as s:
        copy, original = s.get(Survey, new_id), s.get(Survey, survey_id)
        assert copy.title == "Millennium 2027" and copy.status == "draft"
        assert copy.definition["pages"] == original.definition["pages"]
        assert copy.contact_name == "Eva Utvärderare" and copy.invitation_text == original.invitation_text
        assert s.query(Participant).filter_by(survey_id=new_id).count() == 0
    assert run("surveys", "copy", 999).exit_code == 1
