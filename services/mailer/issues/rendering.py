"""Markdown → mail: sanitised HTML with inlined CSS in the mail layout, and a plain-text part
from the same source. Rendered once per issue; the per-recipient parts stay as placeholders that
``fill_in`` replaces for each mail (see ``services.mailer.delivery.compose``)."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import css_inline
import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token
from markdown_it.tree import SyntaxTreeNode
from markupsafe import Markup
from mdit_py_plugins.anchors import anchors_plugin

from services.mailer.issues import blocks

# Placeholders are plain ASCII words: they survive sanitising, CSS inlining and HTML serialising.
STOP_URL = "UTSKICKSTOPURLPLACEHOLDER"
RECIPIENT = "UTSKICKRECIPIENTPLACEHOLDER"

ALLOWED_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "code",
    "del",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "li",
    "ol",
    "p",
    "pre",
    "s",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "ul",
}
ALLOWED_ATTRIBUTES = {
    "*": {"id"},
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "th": {"align", "colspan", "rowspan"},
    "td": {"align", "colspan", "rowspan"},
    "ol": {"start"},
}
URL_SCHEMES = {"http", "https", "mailto"}

# Styles for what Markdown produces; css-inline moves them onto each element because many mail
# clients (Outlook, Gmail in some modes) ignore <style> blocks.
CONTENT_CSS = """
.issue-body h1, .issue-body h2, .issue-body h3, .issue-body h4 {
  font-family: Arial, Helvetica, sans-serif; color: #1d4e6e; line-height: 1.3; margin: 24px 0 8px;
}
.issue-body h1 { font-size: 26px; } .issue-body h2 { font-size: 22px; }
.issue-body h3 { font-size: 18px; } .issue-body h4 { font-size: 16px; }
.issue-body p { margin: 0 0 16px; }
.issue-footer p { margin: 0 0 8px; }
.issue-body a { color: #1d4e6e; text-decoration: underline; }
.issue-body ul, .issue-body ol { margin: 0 0 16px; padding-left: 24px; }
.issue-body li { margin: 0 0 4px; }
.issue-body table { border-collapse: collapse; width: 100%; margin: 0 0 16px; }
.issue-body th, .issue-body td {
  border: 1px solid #d9d9d6; padding: 6px 8px; text-align: left; vertical-align: top; font-size: 15px;
}
.issue-body th { background: #eef3f6; }
.issue-body img { max-width: 100%; height: auto; border: 0; }
.issue-body blockquote {
  margin: 0 0 16px; padding-left: 12px; border-left: 4px solid #d9d9d6; color: #4a4a4a;
}
.issue-body pre, .issue-body code { font-family: Consolas, Menlo, monospace; font-size: 14px; }
.issue-body hr { border: 0; border-top: 1px solid #d9d9d6; margin: 24px 0; }
.issue-footer a { color: #1d4e6e; }
"""

DEFAULT_LINK_COLOUR = "#1d4e6e"  # headings and links in CONTENT_CSS; a template may change it

_EXPLICIT_ID = re.compile(r"\s*\{#([A-Za-z][\w-]*)\}\s*$")


def _explicit_heading_ids(state) -> None:
    """``## Title {#id}`` (the syntax the editors use) → <h2 id="id">Title</h2>."""
    tokens = state.tokens
    for i, token in enumerate(tokens):
        if token.type != "heading_open" or i + 1 >= len(tokens):
            continue
        inline = tokens[i + 1]
        match = _EXPLICIT_ID.search(inline.content)
        if not match:
            continue
        token.attrSet("id", match.group(1))
        inline.content = inline.content[: match.start()]
        if inline.children:
            last = inline.children[-1]
            if last.type == "text":
                last.content = _EXPLICIT_ID.sub("", last.content)


def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
        ["table", "strikethrough"]
    )
    md.core.ruler.push("explicit_heading_ids", _explicit_heading_ids)
    anchors_plugin(md, min_level=1, max_level=3)
    return md


MARKDOWN = _markdown()
_HEADINGS = blocks.second_level_headings(MARKDOWN)


def _tokens(source: str, links: Callable[[str], str] | None) -> list[Token]:
    """The parsed Markdown, blocks expanded, each link's address passed through ``links`` (the
    click-count redirect)."""
    tokens = MARKDOWN.parse(blocks.expand(source, _HEADINGS), {})
    if links is not None:
        for token in tokens:
            for child in token.children or []:
                if child.type == "link_open" and isinstance(href := child.attrs.get("href"), str):
                    child.attrSet("href", links(href))
    return tokens


def body_html(source: str, links: Callable[[str], str] | None = None) -> str:
    """The Markdown as sanitised HTML: no scripts, no event handlers, no javascript: links."""
    raw = MARKDOWN.renderer.render(_tokens(source, links), MARKDOWN.options, {})
    return nh3.clean(
        raw,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener",
    )


@dataclass(frozen=True)
class RenderedIssue:
    html: str  # the complete mail HTML, CSS inlined, with placeholders
    text: str  # the plain-text part, with placeholders


def mail_html(
    *,
    subject: str,
    preheader: str,
    body: str,
    footer: str,
    organisation_name: str,
    language: str,
    look: Any = None,
    header_links: list[tuple[str, str]] | None = None,
) -> str:
    """Put sanitised body HTML and the footer into the shared mail layout (with the issue's template:
    ``look``) and inline the CSS."""
    from flask import render_template

    # Both are HTML already safe to show: ``body`` comes from ``body_html`` (nh3-sanitised), ``footer``
    # from an autoescaping template.
    page = render_template(
        "mail/layout.html",
        subject=subject,
        preheader=preheader,
        body=Markup('<div class="issue-body">') + Markup(body) + Markup("</div>"),  # noqa: S704
        footer=Markup('<div class="issue-footer">') + Markup(footer) + Markup("</div>"),  # noqa: S704
        organisation_name=organisation_name,
        language=language,
        look=look,
        header_links=header_links or [],
    )
    css = CONTENT_CSS.replace(DEFAULT_LINK_COLOUR, look.link_colour) if look is not None else CONTENT_CSS
    inliner = css_inline.CSSInliner(extra_css=css, load_remote_stylesheets=False, keep_style_tags=False)
    return inliner.inline(page)


# -- plain text -------------------------------------------------------------------------------------

WIDTH = 72


def _inline_text(node: SyntaxTreeNode) -> str:
    out: list[str] = []
    for child in node.children:
        kind = child.type
        if kind == "text":
            out.append(child.content)
        elif kind in ("softbreak",):
            out.append(" ")
        elif kind == "hardbreak":
            out.append("\n")
        elif kind == "code_inline":
            out.append(child.content)
        elif kind in ("em", "strong", "s"):
            out.append(_inline_text(child))
        elif kind == "link":
            label = _inline_text(child)
            href = str(child.attrs.get("href", ""))
            if not href or href.startswith("#") or href == label or href == f"mailto:{label}":
                out.append(label)  # in-page anchors mean nothing in plain text
            else:
                out.append(f"{label} ({href})")
        elif kind == "image":
            alt = _inline_text(child) or child.attrs.get("alt", "")
            out.append(f"[{alt or 'bild'}] ({child.attrs.get('src', '')})")
        elif kind == "html_inline":
            continue  # raw HTML is dropped in mail as well
        else:
            out.append(_inline_text(child) if child.children else child.content)
    return "".join(out)


def _wrap(text: str, indent: str = "", first: str | None = None) -> str:
    lines = []
    for i, paragraph_line in enumerate(text.split("\n")):
        lines.append(
            textwrap.fill(
                paragraph_line,
                width=WIDTH,
                initial_indent=(first if (first is not None and i == 0) else indent),
                subsequent_indent=indent,
                break_long_words=False,
                break_on_hyphens=False,
            )
        )
    return "\n".join(lines)


def _table_text(node: SyntaxTreeNode) -> str:
    rows: list[list[str]] = []
    for section in node.children:
        for row_node in section.children:
            rows.append([_inline_text(cell.children[0]) if cell.children else "" for cell in row_node.children])
    if not rows:
        return ""
    columns = max(len(r) for r in rows)
    widths = [max(len(r[c]) if c < len(r) else 0 for r in rows) for c in range(columns)]
    lines = []
    for n, row in enumerate(rows):
        cells = [(row[c] if c < len(row) else "").ljust(widths[c]) for c in range(columns)]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _block_text(node: SyntaxTreeNode, indent: str = "") -> list[str]:
    blocks: list[str] = []
    for child in node.children:
        kind = child.type
        if kind == "heading":
            title = _inline_text(child.children[0])
            level = int(child.tag[1])
            underline = "=" if level <= 1 else "-" if level == 2 else ""
            blocks.append(title.upper() if level == 1 else title)
            if underline:
                blocks[-1] += "\n" + underline * min(len(title), WIDTH)
        elif kind == "paragraph":
            blocks.append(_wrap(_inline_text(child.children[0]), indent))
        elif kind in ("bullet_list", "ordered_list"):
            items = []
            start = int(child.attrs.get("start", 1)) if kind == "ordered_list" else 1
            for n, item in enumerate(child.children):
                marker = f"{start + n}. " if kind == "ordered_list" else "- "
                text = "\n".join(_block_text(item, indent + " " * len(marker))).lstrip()
                items.append(indent + marker + text)
            blocks.append("\n".join(items))
        elif kind == "table":
            blocks.append(_table_text(child))
        elif kind == "blockquote":
            inner = "\n\n".join(_block_text(child))
            blocks.append("\n".join("> " + line for line in inner.split("\n")))
        elif kind in ("fence", "code_block"):
            blocks.append("\n".join(indent + "    " + line for line in child.content.rstrip("\n").split("\n")))
        elif kind == "hr":
            blocks.append("-" * 20)
        elif kind == "html_block":
            continue
        elif child.children:
            blocks.extend(_block_text(child, indent))
    return blocks


def body_text(source: str, links: Callable[[str], str] | None = None) -> str:
    """The Markdown as plain text that reads well on its own: links as 'text (url)', tables as columns."""
    tree = SyntaxTreeNode(_tokens(source, links))
    return "\n\n".join(b for b in _block_text(tree) if b.strip()) + "\n"


def archive_html(source: str) -> Markup:
    """The body for a web page (the archive, the admin preview of content): sanitised, no inline CSS."""
    # Safe to show as it is: nh3 has removed scripts, event handlers and javascript: links.
    return Markup(body_html(source))  # noqa: S704
