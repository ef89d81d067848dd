"""Exports for statistics packages: a data CSV with numeric codes and, beside it, an SPSS syntax
file (``.sps``) or an R script (``.R``) that reads it with variable and value labels (as
LimeSurvey's SPSS export does). Neither needs anything installed beyond SPSS or base R.

The data is the ordinary export (``exports.rows``) with ``numeric`` codes: a `single` question's
options are 1, 2, … in the survey's order, "Vet inte" is ``DONT_KNOW_CODE`` (declared missing in
SPSS, NA in R), a `multiple` option is 1 chosen / 0 not chosen / empty when the question was not
answered. An anonymous survey's file has its periods and merged values, and both scripts say so.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

from flask_babel import lazy_gettext as _

from services.survey.results import exports
from services.survey.results.exports import DONT_KNOW_CODE, Column, ExportOptions, Progress, option_numbers
from services.survey.surveys.questions import POINT_TYPES, SINGLE_TYPES, QuestionType
from shared.models import Survey

FORMATS = {"spss": ".sps", "r": ".R"}
# SPSS keeps at most this many bytes of a variable label and of a value label.
SPSS_VARIABLE_LABEL, SPSS_VALUE_LABEL = 255, 120
SPSS_RESERVED = {"ALL", "AND", "BY", "EQ", "GE", "GT", "LE", "LT", "NE", "NOT", "OR", "TO", "WITH"}


@dataclass(frozen=True)
class Variable:
    name: str
    label: str
    numeric: bool
    width: int  # bytes of the longest value (strings)
    values: tuple[tuple[int, str], ...]  # value labels
    missing: tuple[int, ...]  # values that mean "no answer" (SPSS MISSING VALUES; NA in R)
    level: str  # SPSS measurement level: nominal, ordinal or scale
    factor: bool  # R: a factor of its value labels (`single` questions)


def _variable_name(column: Column, taken: set[str]) -> str:
    """An SPSS (and R) variable name: letters, digits and _, starting with a letter, unique."""
    name = re.sub(r"\W", "_", column.name.removeprefix("attr:"), flags=re.ASCII)[:60] or "v"
    if not name[0].isalpha() or name.upper() in SPSS_RESERVED:
        name = "v_" + name
    unique, n = name, 1
    while unique.lower() in taken:
        n += 1
        unique = f"{name}_{n}"
    taken.add(unique.lower())
    return unique


def _variable(column: Column, name: str, width: int, anonymous: bool, numbering: dict[str, dict[str, int]]) -> Variable:
    q = column.question
    label = exports.described(column)
    if column.name == "id":
        label = str(_("Svarets id (slumpat)"))
    elif column.name == "datum":
        label = str(_("Period då svaret skickades in") if anonymous else _("Dag då svaret skickades in"))
    elif column.name.startswith("attr:"):
        label = str(_("Bakgrund: %(a)s", a=label))
    text_types = (QuestionType.TEXT, QuestionType.LONGTEXT, QuestionType.DATE)  # dates as ÅÅÅÅ-MM-DD
    if q is None or column.sub == "other_text" or q.type in text_types:
        return Variable(name, label, False, width, (), (), "nominal", False)
    dont_know = ((DONT_KNOW_CODE, str(_("Vet inte"))),) if q.dont_know else ()
    missing = (DONT_KNOW_CODE,) if q.dont_know else ()
    if q.type in SINGLE_TYPES:
        labels = dict(column.codes)
        values = tuple((n, labels.get(key, key)) for key, n in numbering.get(q.key, option_numbers(q)).items())
        return Variable(name, label, True, width, values, (), "nominal", True)
    if q.type == QuestionType.MULTIPLE:
        values = tuple((int(code), text) for code, text in column.codes)
        return Variable(name, label, True, width, values, (), "nominal", False)
    if q.type == QuestionType.RANKING:  # the place, 1 = first
        return Variable(name, label, True, width, (), (), "ordinal", False)
    if q.type in POINT_TYPES or q.type == QuestionType.MATRIX:
        scale = q.required_scale
        ends = {scale.min: scale.min_label, scale.max: scale.max_label}
        values = tuple((v, f"{v} {ends[v]}") for v in scale.points if ends.get(v))
        return Variable(name, label, True, width, values + dont_know, missing, "ordinal", False)
    return Variable(name, label, True, width, dont_know, missing, "scale", False)  # number


@dataclass(frozen=True)
class Dataset:
    variables: list[Variable]
    rows: int
    notes: list[str]


def write_data(session, survey: Survey, out: IO[bytes], progress: Progress | None = None) -> Dataset:
    """The data CSV (UTF-8 with BOM, comma, one header row of variable names); what the scripts need to read it."""
    options = ExportOptions(numeric=True)
    anonymised = exports.anonymise(session, survey) if survey.anonymous else None
    cols = exports.columns(survey, options)
    taken: set[str] = set()
    names = [_variable_name(c, taken) for c in cols]
    widths = [1] * len(cols)
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="", write_through=True)
    writer = csv.writer(text, lineterminator="\r\n")
    numbering: dict[str, dict[str, int]] = {}
    rows = exports.rows(session, survey, options, anonymised, progress, numbering)
    next(rows)  # the export's own header: the scripts use the variable names
    writer.writerow(names)
    count = 0
    for row in rows:
        count += 1
        for i, value in enumerate(row):
            if isinstance(value, str):
                widths[i] = max(widths[i], len(value.encode("utf-8")))
        writer.writerow(["" if v is None else v for v in row])
    text.detach()  # the caller closes ``out``
    variables = [_variable(c, n, w, survey.anonymous, numbering) for c, n, w in zip(cols, names, widths, strict=True)]
    return Dataset(variables, count, exports.anonymity_notes(survey, anonymised))


def _spss_text(text: str, limit: int) -> str:
    """A quoted SPSS string of at most ``limit`` bytes (cut on a character boundary)."""
    data = text.replace("\r", " ").replace("\n", " ").encode("utf-8")[:limit]
    cut = data.decode("utf-8", errors="ignore")
    return '"' + cut.replace('"', '""') + '"'


def _comment_lines(lines: list[str], mark: str) -> list[str]:
    return [f"{mark} {line}".rstrip() for line in lines]


def _header(survey: Survey, dataset: Dataset, data_file: str) -> list[str]:
    return [
        str(_("Utskick: svaren på enkät %(id)s, ”%(title)s”.", id=survey.id, title=survey.title)),
        str(_("%(n)s svar i %(file)s.", n=dataset.rows, file=data_file)),
        *dataset.notes,
    ]


def _spss_format(x: Variable) -> str:
    if not x.numeric:
        return f"A{x.width}"
    return "F12.2" if x.level == "scale" else "F4.0"


def spss_syntax(survey: Survey, dataset: Dataset, data_file: str) -> str:
    """SPSS syntax that reads ``data_file`` and labels its variables and values."""
    v = dataset.variables
    # An SPSS comment runs on to the first line that ends in a full stop: each line gets one.
    comments = [
        *_header(survey, dataset, data_file),
        str(_("Ange hela sökvägen till datafilen om SPSS inte hittar den.")),
    ]
    out = [
        "* Encoding: UTF-8.",
        *(line if line.endswith(".") else line + "." for line in _comment_lines(comments, "*")),
    ]
    out += [
        "SET DECIMAL=DOT.",
        "GET DATA",
        "  /TYPE=TXT",
        f"  /FILE='{data_file}'",
        "  /ENCODING='UTF8'",
        "  /DELCASE=LINE",
        '  /DELIMITERS=","',
        "  /QUALIFIER='\"'",
        "  /ARRANGEMENT=DELIMITED",
        "  /FIRSTCASE=2",
        "  /VARIABLES=",
    ]
    out += [f"  {x.name} {_spss_format(x)}" for x in v]
    out += ["  .", "CACHE.", "EXECUTE.", "", "VARIABLE LABELS"]
    out += [f"  {x.name} {_spss_text(x.label, SPSS_VARIABLE_LABEL)}" for x in v]
    out += ["  ."]
    labelled = [x for x in v if x.values]
    if labelled:
        out += ["", "VALUE LABELS"]
        for i, x in enumerate(labelled):
            out.append(f"  {'/' if i else ''}{x.name}")
            out += [f"    {value} {_spss_text(text, SPSS_VALUE_LABEL)}" for value, text in x.values]
        out += ["  ."]
    for x in v:
        if x.missing:
            out.append(f"MISSING VALUES {x.name} ({', '.join(str(m) for m in x.missing)}).")
    for level in ("nominal", "ordinal", "scale"):
        names = [x.name for x in v if x.numeric and x.level == level]
        if names:
            out.append(f"VARIABLE LEVEL {' '.join(names)} ({level.upper()}).")
    out += ["EXECUTE.", ""]
    return "\n".join(out)


def _r_text(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "") + '"'


def r_script(survey: Survey, dataset: Dataset, data_file: str) -> str:
    """An R script (base R only) that reads ``data_file`` into ``data`` with labels: factors for
    `single` questions, ``label`` and ``labels`` attributes (as haven and labelled read them)."""
    v = dataset.variables
    classes = ", ".join(f"{_r_text(x.name)} = {_r_text('numeric' if x.numeric else 'character')}" for x in v)
    out = [
        *_comment_lines(_header(survey, dataset, data_file), "#"),
        "# " + str(_('Kör med arbetskatalogen där datafilen ligger, t.ex. setwd("…"); source("…").')),
        "",
        f'data <- read.csv({_r_text(data_file)}, fileEncoding = "UTF-8-BOM", check.names = FALSE,',
        '                 na.strings = "", stringsAsFactors = FALSE,',
        f"                 colClasses = c({classes}))",
        "",
    ]
    for x in v:
        column = f"data[[{_r_text(x.name)}]]"
        if x.missing:
            codes = ", ".join(str(m) for m in x.missing)
            out.append(f"{column}[{column} %in% c({codes})] <- NA  # " + str(_("Vet inte")))
        if x.factor:
            levels = ", ".join(str(value) for value, _text in x.values)
            labels = ", ".join(_r_text(text) for _value, text in x.values)
            out.append(f"{column} <- factor({column}, levels = c({levels}), labels = c({labels}))")
        elif x.values:
            pairs = ", ".join(f"{_r_text(text)} = {value}" for value, text in x.values if value not in x.missing)
            if pairs:
                out.append(f'attr({column}, "labels") <- c({pairs})')
        out.append(f'attr({column}, "label") <- {_r_text(x.label)}')
    out.append("")
    return "\n".join(out)


SCRIPTS: dict[str, Callable[[Survey, Dataset, str], str]] = {"spss": spss_syntax, "r": r_script}


def analyst_files(
    session, survey: Survey, fmt: str, name: str, data: IO[bytes], progress: Progress | None = None
) -> tuple[str, str]:
    """Write the data CSV to ``data``; the script's file name (``name`` + .sps or .R) and text."""
    dataset = write_data(session, survey, data, progress)
    return name + FORMATS[fmt], SCRIPTS[fmt](survey, dataset, name + ".csv")
