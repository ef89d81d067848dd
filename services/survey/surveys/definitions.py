"""Survey definitions: read YAML or JSON, check every part, report every error by its path, and
normalise (plain-string options become ``{key, label}``, ``show_if.equals`` becomes ``show_if.in``).

The normalised definition is what is stored in ``Survey.definition`` and what export gives back;
``questions.definition_of`` reads it as typed questions.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import yaml
from flask_babel import gettext as _
from yaml.composer import ComposerError
from yaml.constructor import ConstructorError

from services.survey.surveys.questions import CHOICE_TYPES, DONT_KNOW, OTHER, Question, QuestionType, format_value
from shared.i18n import LANGUAGES, LOCAL_ZONE, language_or_default

TYPES = tuple(QuestionType)
# Keys that would clash with the form contract (buttons, CSRF) or with the stored special values.
RESERVED_KEYS = {"action", "csrf_token", "page"}
RESERVED_OPTION_KEYS = {OTHER, DONT_KNOW}
KEY_PATTERN = re.compile(r"^[A-Za-z0-9_\-]{1,100}$")

TOP_KEYS = {"title", "language", "anonymous", "opens", "closes", "report_attributes", "intro", "thanks", "pages"}
PAGE_KEYS = {"title", "questions"}
COMMON_KEYS = {"key", "type", "text", "help", "required", "show_if"}
TYPE_KEYS = {
    "single": {"options", "other"},
    "dropdown": {"options", "other"},
    "multiple": {"options", "other"},
    "scale": {"min", "max", "min_label", "max_label", "dont_know"},
    "matrix": {"rows", "scale", "dont_know"},
    "number": {"min", "max"},
    "nps": {"min", "max", "min_label", "max_label"},
    "text": {"max_length"},
    "longtext": {"max_length"},
    "info": set(),
    "date": {"min", "max"},
    "ranking": {"options"},
}
SCALE_KEYS = {"min", "max", "min_label", "max_label"}


class DefinitionError(Exception):
    """The definition cannot be used; ``errors`` lists every problem as ``path: message``."""

    def __init__(self, errors: list[str]):
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass
class _Checker:
    errors: list[str] = field(default_factory=list)

    def add(self, path: str, message: str) -> None:
        self.errors.append(f"{path}: {message}" if path else message)


def slugify(text: str) -> str:
    """A key from a label: ``"Kommunal hälso- och sjukvård"`` → ``kommunal_halso_och_sjukvard``."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", ascii_text.lower()).strip("_")[:100] or "alternativ"


# One limit for every way a definition comes in (upload, pasted text, the CLI): the largest real
# surveys are some tens of kilobytes.
MAX_DEFINITION_BYTES = 2 * 1024 * 1024
# A definition is at most seven levels deep (pages, a page, questions, a question, options, an
# option); anything much deeper is not a definition, and would exhaust Python's recursion.
MAX_DEPTH = 20


def too_large() -> DefinitionError:
    """The one answer to a definition over ``MAX_DEFINITION_BYTES``, whichever way it came."""
    return DefinitionError([_("Definitionen är för stor. Den får vara högst 2 MB.")])


def _too_deep() -> str:
    return _("för djupt nästlad: högst %(n)s nivåer", n=MAX_DEPTH)


def _twice(key: object) -> str:
    return _("nyckeln ”%(key)s” står två gånger", key=key)


class _DefinitionLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing what it would otherwise take silently or crash on: a key given
    twice in one mapping (the last one would win) and nesting deeper than ``MAX_DEPTH``."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent, index):
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise ComposerError(None, None, _too_deep(), self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen: set[object] = set()
            for key_node, _value in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":  # `<<: *defaults` is meant to be overridden
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    if key in seen:
                        raise ConstructorError(None, None, _twice(key), key_node.start_mark)
                    seen.add(key)
                except TypeError:  # a list as a key: the constructor below says what is wrong with it
                    continue
        return super().construct_mapping(node, deep)


def _json_object(pairs: list[tuple[str, object]]) -> dict:
    keys = [key for key, _value in pairs]
    for key in keys:
        if keys.count(key) > 1:
            raise DefinitionError([_twice(key)])
    return dict(pairs)


def _deeper_than(data: object, limit: int) -> bool:
    """Whether lists and mappings nest deeper than ``limit`` (without recursing)."""
    level = [data]
    for _depth in range(limit):
        level = [
            child
            for item in level
            for child in (item.values() if isinstance(item, dict) else item if isinstance(item, list) else ())
        ]
        if not level:
            return False
    return True


def load_text(text: str) -> object:
    """YAML or JSON text → Python data; a syntax error becomes a DefinitionError with line and column."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_DEFINITION_BYTES:
        raise too_large()
    stripped = text.lstrip("\ufeff").strip()
    if not stripped:
        raise DefinitionError([_("Definitionen är tom.")])
    if stripped.startswith(("{", "[")):
        try:
            data = json.loads(stripped, object_pairs_hook=_json_object)
        except json.JSONDecodeError as exc:
            # JSON with a syntax error may still be YAML flow style; report JSON's message if YAML fails too.
            json_error = _("rad %(line)s, kolumn %(col)s: %(msg)s", line=exc.lineno, col=exc.colno, msg=exc.msg)
        except RecursionError:
            raise DefinitionError([_too_deep()]) from None
        else:
            if _deeper_than(data, MAX_DEPTH):
                raise DefinitionError([_too_deep()])
            return data
    else:
        json_error = None
    try:
        return yaml.load(stripped, Loader=_DefinitionLoader)  # noqa: S506 (a SafeLoader, see above)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        if json_error:
            raise DefinitionError([json_error]) from None
        if mark is not None:
            raise DefinitionError(
                [_("rad %(line)s, kolumn %(col)s: %(msg)s", line=mark.line + 1, col=mark.column + 1, msg=problem)]
            ) from None
        raise DefinitionError([problem]) from None


def parse_definition(text: str) -> dict:
    """Parse and check a definition; returns the normalised dict or raises DefinitionError."""
    return normalise(load_text(text))


def normalise(data: object) -> dict:
    """Check already-loaded data and return the normalised definition (raises DefinitionError)."""
    check = _Checker()
    if not isinstance(data, dict):
        raise DefinitionError([_("Definitionen måste vara en samling nycklar (title, pages, …).")])
    for unknown in sorted(set(map(str, data)) - TOP_KEYS):
        check.add(unknown, _("okänd nyckel"))
    out: dict = {}
    out["title"] = _text(check, data, "title", "", required=True)
    language = data.get("language", "sv")
    if language not in LANGUAGES:
        check.add("language", _("måste vara ett av: %(values)s", values=", ".join(LANGUAGES)))
    out["language"] = language_or_default(language)
    out["anonymous"] = _bool(check, data, "anonymous", "")
    for name in ("opens", "closes"):
        if data.get(name) is not None:
            moment = _moment(check, name, data[name], end_of_day=(name == "closes"))
            out[name] = data[name].isoformat() if isinstance(data[name], (date, datetime)) else str(data[name])
            out[f"_{name}_at"] = moment
    if out.get("_opens_at") and out.get("_closes_at") and out["_opens_at"] >= out["_closes_at"]:
        check.add("closes", _("måste vara efter opens"))
    out.pop("_opens_at", None)
    out.pop("_closes_at", None)
    attributes = data.get("report_attributes", [])
    if not isinstance(attributes, list) or not all(isinstance(a, str) and a.strip() for a in attributes):
        check.add("report_attributes", _("måste vara en lista med namn på deltagaregenskaper"))
        attributes = []
    out["report_attributes"] = [a.strip() for a in attributes]
    out["intro"] = _text(check, data, "intro", "")
    out["thanks"] = _text(check, data, "thanks", "")

    pages = data.get("pages")
    out["pages"] = []
    if not isinstance(pages, list) or not pages:
        check.add("pages", _("måste vara en lista med minst en sida"))
        raise DefinitionError(check.errors)
    seen: dict[str, dict] = {}
    for p, page in enumerate(pages):
        path = f"pages[{p}]"
        if not isinstance(page, dict):
            check.add(path, _("måste vara en sida med title och questions"))
            continue
        for unknown in sorted(set(map(str, page)) - PAGE_KEYS):
            check.add(f"{path}.{unknown}", _("okänd nyckel"))
        questions = page.get("questions")
        new_questions: list[dict] = []
        new_page = {"title": _text(check, page, "title", path), "questions": new_questions}
        if not isinstance(questions, list) or not questions:
            check.add(f"{path}.questions", _("måste vara en lista med minst en fråga"))
            questions = []
        for q, question in enumerate(questions):
            normalised = _question(check, question, f"{path}.questions[{q}]", seen)
            if normalised is not None:
                new_questions.append(normalised)
                seen.setdefault(normalised["key"], normalised)
        out["pages"].append(new_page)
    if check.errors:
        raise DefinitionError(check.errors)
    return out


def _text(check: _Checker, data: dict, name: str, path: str, required: bool = False) -> str:
    value = data.get(name)
    where = f"{path}.{name}" if path else name
    if value is None or value == "":
        if required:
            check.add(where, _("saknas"))
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        check.add(where, _("måste vara en text"))
        return ""
    return value.strip() if "\n" not in value.strip() else value.rstrip() + "\n"


def _bool(check: _Checker, data: dict, name: str, path: str) -> bool:
    value = data.get(name, False)
    if not isinstance(value, bool):
        check.add(f"{path}.{name}" if path else name, _("måste vara true eller false"))
        return False
    return value


def _number(check: _Checker, data: dict, name: str, path: str, default=None, integer: bool = True):
    value = data.get(name, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (integer and value != int(value)):
        check.add(f"{path}.{name}", _("måste vara ett heltal") if integer else _("måste vara ett tal"))
        return None
    return int(value) if integer else value


def _day(check: _Checker, data: dict, name: str, path: str) -> date | None:
    """A date question's bound: a YAML date or an ISO text (ÅÅÅÅ-MM-DD)."""
    value = data.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    check.add(f"{path}.{name}", _("måste vara ett datum (ÅÅÅÅ-MM-DD)"))
    return None


def _moment(check: _Checker, name: str, value, end_of_day: bool) -> datetime | None:
    """A date means the whole day in Swedish time: ``closes: 2025-03-31`` closes at midnight after it."""
    try:
        if isinstance(value, datetime):
            moment = value
        elif isinstance(value, date):
            moment = datetime.combine(value, time(0))
            if end_of_day:
                moment += timedelta(days=1)
        elif isinstance(value, str):
            return _moment(check, name, parse_moment_text(value), end_of_day)
        else:
            raise ValueError
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=LOCAL_ZONE)
        return moment.astimezone(UTC)
    # Year 9999's last day ends past the calendar (OverflowError): not a date anyone means.
    except (ValueError, OverflowError):
        check.add(name, _("måste vara ett datum (ÅÅÅÅ-MM-DD) eller en tidpunkt (ÅÅÅÅ-MM-DDTHH:MM)"))
        return None


def parse_moment_text(value: str) -> date | datetime:
    value = value.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return date.fromisoformat(value)
    return datetime.fromisoformat(value)


def moment_of(definition: dict, name: str) -> datetime | None:
    """``opens``/``closes`` of a normalised definition as an aware UTC datetime (or None)."""
    value = definition.get(name)
    if value is None:
        return None
    return _moment(_Checker(), name, parse_moment_text(value), end_of_day=(name == "closes"))


def _items(check: _Checker, items, path: str, what: str) -> list[dict]:
    """Options or matrix rows: ``{key, label}`` or plain strings (their key is made from the label)."""
    if not isinstance(items, list) or not items:
        check.add(path, _("måste vara en lista med minst ett alternativ"))
        return []
    out, keys = [], set()
    for i, item in enumerate(items):
        where = f"{path}[{i}]"
        if isinstance(item, (str, int, float)) and not isinstance(item, bool):
            label = str(item).strip()
            key = slugify(label)
        elif isinstance(item, dict):
            for unknown in sorted(set(map(str, item)) - {"key", "label"}):
                check.add(f"{where}.{unknown}", _("okänd nyckel"))
            given_label, given_key = item.get("label"), item.get("key")
            if given_label is None or str(given_label).strip() == "":
                check.add(f"{where}.label", _("saknas"))
                continue
            label = str(given_label).strip()
            key = slugify(label) if given_key is None else str(given_key)
        else:
            check.add(where, _("måste vara en text eller {key, label}"))
            continue
        if not KEY_PATTERN.match(key):
            check.add(f"{where}.key", _("får bara innehålla a–z, 0–9, _ och - (högst 100 tecken)"))
            continue
        if what == "option" and key in RESERVED_OPTION_KEYS:
            check.add(f"{where}.key", _("%(key)s är reserverat", key=key))
            continue
        if key in keys:
            check.add(f"{where}.key", _("nyckeln %(key)s finns redan", key=key))
            continue
        keys.add(key)
        out.append({"key": key, "label": label})
    return out


def _scale(check: _Checker, data: dict, path: str) -> dict:
    low = _number(check, data, "min", path, default=1)
    high = _number(check, data, "max", path, default=5)
    if low is not None and high is not None and not (low < high <= low + 20):
        check.add(f"{path}.max", _("måste vara större än min och högst min + 20"))
    return {
        "min": low if low is not None else 1,
        "max": high if high is not None else 5,
        "min_label": _text(check, data, "min_label", path),
        "max_label": _text(check, data, "max_label", path),
    }


def _question(check: _Checker, question, path: str, seen: dict[str, dict]) -> dict | None:
    if not isinstance(question, dict):
        check.add(path, _("måste vara en fråga med key, type och text"))
        return None
    kind = question.get("type")
    if kind not in TYPES:
        check.add(f"{path}.type", _("måste vara en av: %(types)s", types=", ".join(TYPES)))
        allowed = COMMON_KEYS | set().union(*TYPE_KEYS.values())
    else:
        allowed = COMMON_KEYS | TYPE_KEYS[kind]
    for unknown in sorted(set(map(str, question)) - allowed):
        check.add(f"{path}.{unknown}", _("okänd nyckel"))
    key = question.get("key")
    if not isinstance(key, str) or not KEY_PATTERN.match(key):
        check.add(f"{path}.key", _("saknas eller är ogiltig: bara a–z, 0–9, _ och - (högst 100 tecken)"))
        key = None
    elif key in RESERVED_KEYS:
        check.add(f"{path}.key", _("%(key)s är reserverat", key=key))
    elif key in seen:
        check.add(f"{path}.key", _("nyckeln %(key)s används redan av en annan fråga", key=key))
    out = {"key": key or "", "type": kind or "text", "text": _text(check, question, "text", path, required=True)}
    help_text = _text(check, question, "help", path)
    if help_text:
        out["help"] = help_text
    out["required"] = _bool(check, question, "required", path) and kind != "info"  # nothing to answer
    if kind in CHOICE_TYPES:
        out["options"] = _items(check, question.get("options"), f"{path}.options", "option")
        out["other"] = _bool(check, question, "other", path)
    elif kind == "scale":
        out.update(_scale(check, question, path))
        out["dont_know"] = _bool(check, question, "dont_know", path)
    elif kind == "matrix":
        out["rows"] = _items(check, question.get("rows"), f"{path}.rows", "row")
        scale = question.get("scale", {})
        if not isinstance(scale, dict):
            check.add(f"{path}.scale", _("måste vara {min, max, min_label, max_label}"))
            scale = {}
        for unknown in sorted(set(map(str, scale)) - SCALE_KEYS):
            check.add(f"{path}.scale.{unknown}", _("okänd nyckel"))
        out["scale"] = _scale(check, scale, f"{path}.scale")
        out["dont_know"] = _bool(check, question, "dont_know", path)
    elif kind == "number":
        low = _number(check, question, "min", path, integer=False)
        high = _number(check, question, "max", path, integer=False)
        if low is not None and high is not None and low > high:
            check.add(f"{path}.max", _("måste vara minst lika stort som min"))
        out["min"], out["max"] = low, high
    elif kind == "nps":
        if (question.get("min", 0), question.get("max", 10)) != (0, 10):
            check.add(f"{path}.min", _("en NPS-fråga går alltid från 0 till 10"))
        out["min"], out["max"] = 0, 10
        out["min_label"] = _text(check, question, "min_label", path) or _("Inte alls troligt")
        out["max_label"] = _text(check, question, "max_label", path) or _("Mycket troligt")
    elif kind == "ranking":
        out["options"] = _items(check, question.get("options"), f"{path}.options", "option")
        if len(out["options"]) == 1:
            check.add(f"{path}.options", _("lägg till minst två alternativ att rangordna"))
    elif kind == "date":
        bounds = {name: _day(check, question, name, path) for name in ("min", "max")}
        if bounds["min"] and bounds["max"] and bounds["min"] > bounds["max"]:
            check.add(f"{path}.max", _("måste vara samma dag som min eller senare"))
        out.update({name: day.isoformat() for name, day in bounds.items() if day})
    elif kind in ("text", "longtext"):
        max_length = _number(check, question, "max_length", path)
        if max_length is not None:
            if max_length < 1:
                check.add(f"{path}.max_length", _("måste vara minst 1"))
            out["max_length"] = max_length
    if "show_if" in question:
        out["show_if"] = _show_if(check, question["show_if"], f"{path}.show_if", seen)
    return out


def _show_if(check: _Checker, rule, path: str, seen: dict[str, dict]) -> dict | None:
    if not isinstance(rule, dict) or "question" not in rule or ("in" in rule) == ("equals" in rule):
        check.add(path, _("måste vara {question: NYCKEL, in: [värden]} eller {question: NYCKEL, equals: värde}"))
        return None
    for unknown in sorted(set(map(str, rule)) - {"question", "in", "equals"}):
        check.add(f"{path}.{unknown}", _("okänd nyckel"))
    target = seen.get(rule["question"])
    if target is None:
        check.add(f"{path}.question", _("måste vara nyckeln till en fråga som kommer tidigare"))
        return None
    if target["type"] in ("matrix", "text", "longtext", "info", "date", "ranking"):
        check.add(f"{path}.question", _("kan inte bero på en fråga av typen %(type)s", type=target["type"]))
        return None
    values = rule["in"] if "in" in rule else [rule["equals"]]
    if not isinstance(values, list) or not values:
        check.add(f"{path}.in", _("måste vara en lista med minst ett värde"))
        return None
    # The target is normalised already (its own errors, such as an unknown type, are reported apart).
    allowed = Question.from_dict(target).allowed_values() if target["type"] in TYPES else None
    out = []
    for i, value in enumerate(values):
        text = format_value(value)
        if allowed is not None and text not in allowed:
            where = f"{path}.in[{i}]" if "in" in rule else f"{path}.equals"
            check.add(where, _("%(value)s är inte ett möjligt svar på frågan %(key)s", value=text, key=target["key"]))
        out.append(text)
    return {"question": target["key"], "in": out}


class _ReadableDumper(yaml.SafeDumper):
    """Multi-line texts (intro, thanks) as ``|`` blocks, the way people write them."""


def _represent_text(dumper: yaml.SafeDumper, value: str):
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_ReadableDumper.add_representer(str, _represent_text)


def dump_yaml(definition: dict) -> str:
    """The definition as readable YAML (what ``utskick surveys export`` prints)."""
    return yaml.dump(definition, Dumper=_ReadableDumper, allow_unicode=True, sort_keys=False, width=100)
