"""The report as a PDF, made on the server with WeasyPrint: tagged (PDF/UA-1) for the accessibility
law public-sector documents fall under, with the SVG charts, their tables and the page's print styles.

WeasyPrint needs the Pango library of the operating system. Where it is missing, ``pdf_available``
is false, the pages say why in words an evaluator can pass on, and nothing fails with a stack trace.
"""

from __future__ import annotations

import functools
import logging
import re
from pathlib import Path

from flask import render_template
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

import shared
from services.survey.results.charts import percent_text
from services.survey.results.report import build_report
from shared.clock import utcnow
from shared.models import Report, Survey

log = logging.getLogger(__name__)

STYLESHEET = Path(shared.__file__).parent / "static" / "utskick.css"
# WeasyPrint does not apply the document's CSS inside inline SVG, and the web pages may not carry
# inline styles (CSP), so the PDF's charts get these rules (the colours of utskick.css) put inside.
CHART_STYLE = (
    "text{font-family:'DejaVu Sans',sans-serif}"
    ".bar{fill:#1d4e6e}.chart-label,.chart-value{font-size:12px;fill:#1a1a1a}.chart-inside{font-size:11px;fill:#fff}"
    ".axis{stroke:#4a4a4a;stroke-width:1}.mark-reminder{stroke:#a3480b;stroke-width:2;stroke-dasharray:4 3}"
    ".mark-invitation{stroke:#1e6b35;stroke-width:2}"
    ".seg-1{fill:#8c2d04}.seg-2{fill:#cc4c02}.seg-3{fill:#5f5f5f}.seg-4{fill:#2171b5}.seg-5{fill:#08306b}"
    ".seg-6{fill:#3f007d}.seg-7{fill:#00441b}.seg-8{fill:#67000d}.seg-9{fill:#252525}.seg-10{fill:#7f2704}"
    ".seg-11{fill:#014636}.seg-dk{fill:#d6d6d6;stroke:#767676}"
)
_CHART_START = re.compile(r'(<svg class="chart[^>]*>)')


class PdfUnavailable(Exception):
    """WeasyPrint cannot run on this machine (its message says what is missing)."""


UNAVAILABLE = _l(
    "PDF kan inte skapas på den här servern: programbiblioteket Pango saknas (Debian-paketen "
    "libpango-1.0-0 och libpangoft2-1.0-0). Be den som driftar tjänsten installera dem. Rapporten "
    "kan ändå skrivas ut eller sparas som PDF från webbläsaren."
)


@functools.cache
def pdf_available() -> bool:
    """Whether WeasyPrint can run here (checked once per process)."""
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError) as exc:  # OSError: the Pango library is missing
        log.warning("no PDF reports: %s", exc)
        return False
    return True


def render_pdf(html: str) -> bytes:
    """The PDF of a complete HTML document (``survey/results/report/document.html``)."""
    if not pdf_available():
        raise PdfUnavailable(str(UNAVAILABLE))
    from weasyprint import CSS, HTML

    html = _CHART_START.sub(lambda m: m.group(1) + f"<style>{CHART_STYLE}</style>", html)
    document = HTML(string=html, base_url=str(STYLESHEET.parent))
    return document.write_pdf(stylesheets=[CSS(filename=str(STYLESHEET))], pdf_variant="pdf/ua-1")


def report_pdf(session: Session, survey: Survey, report: Report) -> bytes:
    """The report's PDF (inside the survey app, for its templates and translations)."""
    view = build_report(session, survey, report)
    html = render_template("survey/results/report/document.html", view=view, pct=percent_text, generated=utcnow())
    return render_pdf(html)


def pdf_name(survey: Survey, report: Report) -> str:
    return f"rapport-enkat-{survey.id}" + (f"-{report.id}" if report.id else "") + ".pdf"
