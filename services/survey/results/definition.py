"""The questions of a survey definition as results and exports need them (keys, types, labels).

The survey service stores the checked definition as JSON; options may be ``{key, label}`` or plain
strings, so everything here reads both spellings.
"""
from __future__ import annotations

from dataclasses import dataclass, field

CLOSED_TYPES = ("single", "multiple", "scale", "nps", "matrix")
TEXT_TYPES = ("text", "longtext")
DONT_KNOW = "dont_know"
OTHER = "other"


@dataclass(frozen=True)
class Choice:
    key: str
    label: str


@dataclass(frozen=True)
class Question:
    key: str
    type: str
    text: str
    page: int
    options: tuple[Choice, ...] = ()
    rows: tuple[Choice, ...] = ()
    other: bool = False
    dont_know: bool = False
    min: float | None = None
    max: float | None = None
    min_label: str = ""
    max_label: str = ""
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def scale_values(self) -> list[int]:
        """The points of a scale/matrix/nps question, lowest first."""
        if self.type == "nps":
            return list(range(0, 11))
        if self.min is None or self.max is None:
            return []
        return list(range(int(self.min), int(self.max) + 1))

    def option_label(self, key: str) -> str:
        for option in self.options:
            if option.key == key:
                return option.label
        return key

    def row_label(self, key: str) -> str:
        for row in self.rows:
            if row.key == key:
                return row.label
        return key


def _choices(items) -> tuple[Choice, ...]:
    out = []
    for item in items or ():
        if isinstance(item, dict):
            key = str(item.get("key", item.get("label", "")))
            out.append(Choice(key, str(item.get("label", key))))
        else:
            out.append(Choice(str(item), str(item)))
    return tuple(out)


def questions(definition: dict) -> list[Question]:
    """Every question of a definition in page order."""
    found = []
    for page_number, page in enumerate(definition.get("pages") or (), start=1):
        for q in page.get("questions") or ():
            scale = q.get("scale") or {}
            found.append(
                Question(
                    key=str(q["key"]),
                    type=str(q.get("type", "text")),
                    text=str(q.get("text", q["key"])),
                    page=page_number,
                    options=_choices(q.get("options")),
                    rows=_choices(q.get("rows")),
                    other=bool(q.get("other")),
                    dont_know=bool(q.get("dont_know") or scale.get("dont_know")),
                    min=q.get("min", scale.get("min")),
                    max=q.get("max", scale.get("max")),
                    min_label=str(q.get("min_label", scale.get("min_label", "")) or ""),
                    max_label=str(q.get("max_label", scale.get("max_label", "")) or ""),
                )
            )
    return found


def closed_items(definition: dict) -> list[tuple[str, str]]:
    """What a breakdown can use: closed questions and each matrix row, as (id, label) pairs.

    A matrix row is ``KEY.ROWKEY`` — the same spelling as the answer form.
    """
    items = []
    for q in questions(definition):
        if q.type == "matrix":
            items.extend((f"{q.key}.{row.key}", f"{q.text} – {row.label}") for row in q.rows)
        elif q.type in CLOSED_TYPES:
            items.append((q.key, q.text))
    return items
