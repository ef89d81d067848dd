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
