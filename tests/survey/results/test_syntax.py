"""SPSS syntax and R script beside the data CSV, read back: every variable declared with its type and
label, every value label, and the data decoded through them equal to the labelled export."""

from __future__ import annotations

import csv
import io
import re

import pytest

from services.survey.results import exports, syntax
from services.survey.results.exports import DONT_KNOW_CODE, ExportOptions
from tests.survey.results.test_exports import ANSWERS, ATTRS
from tests.survey.results_data import add_response, make_survey

SECOND = {
    "delaktighet": "lag",
    "omraden": ["elevhalsa"],
    "information": "2",
    "lardomar": 'Han sa "nej" – två gånger\noch gick',
}


def files(s, survey, fmt):
    data = io.BytesIO()
    name, script = syntax.analyst_files(s, survey, fmt, "millennium", data)
    text = data.getvalue().decode("utf-8-sig")
    return name, script, list(csv.reader(io.StringIO(text)))


def spss_strings(text: str) -> list[str]:
    return [m.replace('""', '"') for m in re.findall(r'"((?:[^"]|"")*)"', text)]


def parse_spss(script: str) -> dict:
    """The commands of the syntax: variables with formats, variable labels, value labels, missing values."""
    commands = {}
    for command in re.split(r"^\s*\.\s*$|\.\s*$", script, flags=re.M):
        command = command.strip()
        for head in ("GET DATA", "VARIABLE LABELS", "VALUE LABELS", "MISSING VALUES", "VARIABLE LEVEL"):
            if re.search(rf"^{head}\b", command, re.M):
                commands.setdefault(head, []).append(command[command.index(head) + len(head) :])
    formats = dict(re.findall(r"^\s+(\w+) ([AF][\d.]+)$", commands["GET DATA"][0], re.M))
    labels = {
        m.group(1): m.group(2).replace('""', '"')
        for m in re.finditer(r'^\s+(\w+) "((?:[^"]|"")*)"$', commands["VARIABLE LABELS"][0], re.M)
    }
    values: dict[str, dict[int, str]] = {}
    for block in commands.get("VALUE LABELS", [""])[0].split("/"):
        lines = [line.strip() for line in block.strip().splitlines() if line.strip()]
        if lines:
            values[lines[0]] = {
                int(m.group(1)): m.group(2).replace('""', '"')
                for m in (re.match(r'(-?\d+) "((?:[^"]|"")*)"$', line) for line in lines[1:])
            }
    missing = dict(re.match(r" (\w+) \((.*)\)", m).groups() for m in commands.get("MISSING VALUES", []))
    return {"formats": formats, "labels": labels, "values": values, "missing": missing}


def test_spss_syntax_declares_and_labels_every_variable_of_the_data(db, app_ctx):
    with db.transaction() as s:
        survey = make_survey(s, anonymous=False)
        add_response(s, survey, ANSWERS, attributes=ATTRS)
        add_response(s, survey, SECOND, attributes=ATTRS)
        name, script, rows = files(s, survey, "spss")
        labelled = list(
            csv.DictReader(
                io.StringIO(b"".join(exports.csv_chunks(s, survey, ExportOptions(labels=True))).decode("utf-8-sig"))
            )
        )

    assert name == "millennium.sps" and "/FILE='millennium.csv'" in script and "/ENCODING='UTF8'" in script
    parsed = parse_spss(script)
    header, data = rows[0], rows[1:]
    assert list(parsed["formats"]) == header  # every column, in order
    assert set(parsed["labels"]) == set(header)
    assert parsed["labels"]["delaktighet"] == "I vilken utsträckning har du varit involverad i Program Millennium?"
    assert parsed["formats"]["delaktighet"] == "F4.0" and parsed["formats"]["lardomar"].startswith("A")
    width = int(parsed["formats"]["lardomar"][1:])
    assert width >= max(len(r[header.index("lardomar")].encode()) for r in data)  # no text cut off
    assert parsed["values"]["omraden_it"] == {1: "IT och teknisk infrastruktur", 0: "Inte valt"}
    assert parsed["missing"]["information"] == str(DONT_KNOW_CODE)
    # Reading the data through the value labels gives what the labelled export says.
    single = parsed["values"]["delaktighet"]
    by_text = {r[header.index("lardomar")][:3]: dict(zip(header, r, strict=True)) for r in data}
    first, second = by_text["Sam"], by_text["Han"]
    text_question = "Vad är den viktigaste lärdomen inför kommunernas fortsatta vägval?"
    labelled_first = next(r for r in labelled if r[text_question].startswith("Sam"))
    assert (
        single[int(first["delaktighet"])]
        == labelled_first["I vilken utsträckning har du varit involverad i Program Millennium?"]
    )
    assert first["information"] == str(DONT_KNOW_CODE) and parsed["values"]["information"][DONT_KNOW_CODE] == "Vet inte"
    assert first["omraden_elevhalsa"] == "0" and first["omraden_it"] == "1"
    assert second["omraden_it"] == "0" and second["pastaenden_tid"] == ""  # not answered: empty
    # Labels with quotes survive; SPSS commands stay one line each (a line break ends a label in SPSS).
    assert all(line.count('"') % 2 == 0 for line in script.splitlines() if "QUALIFIER" not in line)


R_STRING = r'"((?:[^"\\]|\\.)*)"'


def r_unquote(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"n": "\n"}.get(m.group(1), m.group(1)), text)


def test_r_script_reads_the_csv_with_labels_and_factors(db, app_ctx):
    with db.transaction() as s:
        survey = make_survey(s, anonymous=False)
        add_response(s, survey, ANSWERS, attributes=ATTRS)
        add_response(s, survey, SECOND, attributes=ATTRS)
        name, script, rows = files(s, survey, "r")

    assert name == "millennium.R"
    assert 'read.csv("millennium.csv", fileEncoding = "UTF-8-BOM"' in script
    assert "library(" not in script and "require(" not in script  # base R only
    header = rows[0]
    classes = dict(re.findall(rf"{R_STRING} = \"(numeric|character)\"", script))
    assert list(classes) == header
    labels = {
        r_unquote(n): r_unquote(t)
        for n, t in re.findall(rf'attr\(data\[\[{R_STRING}\]\], "label"\) <- {R_STRING}', script)
    }
    assert set(labels) == set(header)
    assert labels["lardomar"] == "Vad är den viktigaste lärdomen inför kommunernas fortsatta vägval?"
    factor = re.search(
        r'data\[\["delaktighet"\]\] <- factor\(.*levels = c\(([^)]*)\), labels = c\((.*)\)\)$', script, re.M
    )
    levels = [int(v) for v in factor.group(1).split(", ")]
    names = [r_unquote(t) for t in re.findall(R_STRING, factor.group(2))]
    assert dict(zip(levels, names, strict=True))[2] == "I ganska hög grad"
    assert f'data[["information"]][data[["information"]] %in% c({DONT_KNOW_CODE})] <- NA' in script
    # Strings closed on their line, brackets balanced in every statement.
    code = [re.sub(R_STRING, '""', line).split("#")[0] for line in script.splitlines()]
    assert all(line.count('"') % 2 == 0 for line in code)
    depth = 0
    for line in code:
        depth += line.count("(") - line.count(")")
        assert depth >= 0
    assert depth == 0


@pytest.mark.parametrize("fmt", ["spss", "r"])
def test_anonymous_survey_files_say_how_they_were_made_anonymous(db, app_ctx, fmt):
    with db.transaction() as s:
        survey = make_survey(s)
        for _ in range(5):
            add_response(s, survey, ANSWERS, attributes=ATTRS)
        _name, script, rows = files(s, survey, fmt)
    assert "Inget som visas eller exporteras pekar ut färre än 5 svarande" in script
    assert "varje period har minst 5 svar" in script
    assert len(rows) == 6 and "email" not in rows[0]


def test_a_stored_option_the_definition_no_longer_has_gets_the_next_number_and_its_key_as_label(db, app_ctx):
    with db.transaction() as s:
        survey = make_survey(s, anonymous=False)
        add_response(s, survey, ANSWERS, attributes=ATTRS)
        add_response(s, survey, {**SECOND, "delaktighet": "borttaget_alternativ"}, attributes=ATTRS)
        _name, script, rows = files(s, survey, "spss")
        _name, r_script, _rows = files(s, survey, "r")
    header = rows[0]
    codes = {r[header.index("delaktighet")] for r in rows[1:]}
    assert codes == {"2", "5"}  # "hog" is 2 of 4; the unknown key is numbered after them
    assert parse_spss(script)["values"]["delaktighet"][5] == "borttaget_alternativ"
    assert 'levels = c(1, 2, 3, 4, 5), labels = c("I mycket hög grad"' in r_script
