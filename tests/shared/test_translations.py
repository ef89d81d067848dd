"""Every Swedish text in code and templates has an English translation."""

from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "shared" / "translations" / "en" / "LC_MESSAGES" / "messages.po"
METHODS = [
    ("**/templates/**.html", "jinja2"),
    ("**/templates/**.txt", "jinja2"),
    ("**.py", "python"),
]


def extracted_messages() -> set[str]:
    found = set()
    for directory in ("shared", "services"):
        for _filename, _lineno, message, _comments, _context in extract_from_dir(
            ROOT / directory,
            method_map=METHODS,
            options_map={"**/templates/**": {"extensions": "jinja2.ext.i18n"}},
            keywords={**DEFAULT_KEYWORDS, "lazy_gettext": None, "_l": None},
        ):
            found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_text_has_an_english_translation():
    with CATALOG.open("rb") as handle:
        catalog = read_po(handle)
    translated = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id and m.string and not m.fuzzy}
    missing = sorted(extracted_messages() - translated)
    assert missing == [], f"{len(missing)} texts lack an English translation, e.g. {missing[:10]}"
