"""A streaming XLSX writer for the exports: rows go straight into the zipped sheet XML as they come.

openpyxl's write-only mode took about 30 s for 100 000 responses (a Python object and an XML
element per cell); this writes each row as one string, so an XLSX costs little more than a CSV
(``benchmarks/results.py``). Only what the exports need: several sheets of text and numbers,
strings inline (no shared-string table, which would have to be held in memory), a bold header row.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable
from typing import IO
from xml.sax.saxutils import escape, quoteattr

# Control characters XML (and so XLSX) cannot hold.
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
MAX_CELL_TEXT = 32767  # Excel's limit; longer text makes Excel "repair" the file

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    "{sheets}</Types>"
)
_SHEET_TYPE = (
    '<Override PartName="/xl/worksheets/sheet{n}.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>{sheets}</sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{sheets}'
    '<Relationship Id="rIdStyles" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>'
    "</Relationships>"
)
_SHEET_REL = (
    '<Relationship Id="rId{n}" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet{n}.xml"/>'
)
# Style 0: normal; style 1: bold (the header row).
_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)
_SHEET_START = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<sheetViews><sheetView workbookViewId="0">{pane}</sheetView></sheetViews><sheetData>'
)
_FROZEN_HEADER = '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'


def column_letters(n: int) -> str:
    """``A`` for column 1, ``Z``, ``AA``, …"""
    letters = ""
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _cell(ref: str, value: object, style: str) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return f'<c r="{ref}"{style} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int | float):
        return f'<c r="{ref}"{style}><v>{value!r}</v></c>'
    text = _ILLEGAL_XML.sub("", str(value))[:MAX_CELL_TEXT]
    return f'<c r="{ref}"{style} t="inlineStr"><is><t xml:space="preserve">{escape(text)}</t></is></c>'


def write_workbook(out: IO[bytes], sheets: Iterable[tuple[str, Iterable[list]]], header_rows: bool = True) -> None:
    """Write the workbook: each sheet's name and rows (lists of text, numbers or None), streamed.

    With ``header_rows`` each sheet's first row is bold and stays in view when scrolling.
    """
    names: list[str] = []
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as book:
        for n, (name, rows) in enumerate(sheets, start=1):
            names.append(name)
            with book.open(f"xl/worksheets/sheet{n}.xml", "w", force_zip64=True) as raw:
                raw.write(_SHEET_START.format(pane=_FROZEN_HEADER if header_rows else "").encode())
                refs: list[str] = []
                buffer: list[str] = []
                for r, row in enumerate(rows, start=1):
                    while len(refs) < len(row):
                        refs.append(column_letters(len(refs) + 1))
                    style = ' s="1"' if header_rows and r == 1 else ""
                    cells = "".join(_cell(f"{ref}{r}", v, style) for ref, v in zip(refs, row, strict=False))
                    buffer.append(f'<row r="{r}">{cells}</row>')
                    if len(buffer) >= 500:
                        raw.write("".join(buffer).encode())
                        buffer.clear()
                buffer.append("</sheetData></worksheet>")
                raw.write("".join(buffer).encode())
        count = range(1, len(names) + 1)
        book.writestr(
            "[Content_Types].xml", _CONTENT_TYPES.format(sheets="".join(_SHEET_TYPE.format(n=n) for n in count))
        )
        book.writestr("_rels/.rels", _ROOT_RELS)
        sheet_list = "".join(
            f'<sheet name={quoteattr(_ILLEGAL_XML.sub("", name)[:31])} sheetId="{n}" r:id="rId{n}"/>'
            for n, name in zip(count, names, strict=True)
        )
        book.writestr("xl/workbook.xml", _WORKBOOK.format(sheets=sheet_list))
        book.writestr(
            "xl/_rels/workbook.xml.rels", _WORKBOOK_RELS.format(sheets="".join(_SHEET_REL.format(n=n) for n in count))
        )
        book.writestr("xl/styles.xml", _STYLES)
