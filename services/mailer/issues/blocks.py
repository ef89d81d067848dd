"""The blocks the seed newsletters use, written in Markdown and expanded into plain Markdown before
rendering (so the HTML and the plain-text part get them alike):

- ``[innehåll]`` on a line of its own: the contents list, "Innehåll", linking every ``##`` heading;
- a fenced ``kalendarium`` block, one event a line, ``datum | vad | var``: the calendar table;
- a fenced ``signatur`` block, ``Namn | titel`` and optionally ``| bildadress``: a byline with
  photo, for an editorial or an article (put it under the article's heading).

Example::

    ```signatur
    Anna Berg | Direktör | https://…/media/3/anna.jpg
    ```
"""

from __future__ import annotations

import re
from collections.abc import Callable

from flask_babel import gettext as _
from markdown_it import MarkdownIt

CONTENTS = re.compile(r"^\[innehåll\][ \t]*$", re.M | re.I)
FENCE = re.compile(r"^```[ \t]*(kalendarium|signatur)[ \t]*\n(.*?)^```[ \t]*$", re.M | re.S | re.I)


def _cells(line: str) -> list[str]:
    # A "|" inside a cell would start a new column in the table: the editor writes it as "/".
    return [cell.strip().replace("|", "/") for cell in line.split("|")]


def _calendar(body: str) -> str:
    rows = [_cells(line) for line in body.splitlines() if line.strip()]
    header = f"| {_('Datum')} | {_('Vad')} | {_('Var')} |\n|---|---|---|"
    lines = [f"| {' | '.join(([*row, '', '', ''])[:3])} |" for row in rows]
    return "\n".join([header, *lines])


def _byline(body: str) -> str:
    lines = [line for line in body.splitlines() if line.strip()]
    if not lines:
        return ""
    cells = [*_cells(lines[0]), "", "", ""]
    name, title, photo = cells[0], cells[1], cells[2]
    # Escaped: the name is text, never Markdown (a "*" in a name must not start emphasis).
    who = re.sub(r"([\\`*_\[\]()#!<>])", r"\\\1", ", ".join(part for part in (name, title) if part))
    picture = f"![{who}]({photo})\n\n" if photo.startswith(("https://", "http://", "/")) else ""
    return f"{picture}*{who}*"


def expand(source: str, headings: Callable[[str], list[tuple[str, str]]]) -> str:
    """The source with every block replaced by the Markdown it stands for."""

    def fenced(match: re.Match[str]) -> str:
        kind, body = match.group(1).lower(), match.group(2)
        return _calendar(body) if kind == "kalendarium" else _byline(body)

    source = FENCE.sub(fenced, source)
    if CONTENTS.search(source):
        items = "\n".join(f"- [{title}](#{anchor})" for title, anchor in headings(source))
        source = CONTENTS.sub(lambda _m: f"**{_('Innehåll')}**\n\n{items}\n", source, count=1)
    return source


def second_level_headings(markdown: MarkdownIt) -> Callable[[str], list[tuple[str, str]]]:
    """(title, anchor) of each ``##`` heading as ``markdown`` renders it (the anchors the list links to)."""

    def find(source: str) -> list[tuple[str, str]]:
        tokens = markdown.parse(source, {})
        found = []
        for n, token in enumerate(tokens):
            if token.type == "heading_open" and token.tag == "h2" and isinstance(token.attrs.get("id"), str):
                title = "".join(c.content for c in tokens[n + 1].children or [] if c.type in ("text", "code_inline"))
                found.append((title.strip(), str(token.attrs["id"])))
        return found

    return find
