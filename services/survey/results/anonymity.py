"""The small-group rule of an anonymous survey: nothing shown or exported singles out fewer than k
respondents (k = the survey's ``min_group_size``, never below 3).

This module holds the parts of the rule that every page and file shares: k itself, how many more
responses a survey needs before anything is shown, completion dates coarsened into periods that
each hold at least k completions, and the merging of attribute combinations in response-level
exports (local suppression: a value that would single out a small group is replaced by
``MERGED`` until every combination is held by at least k responses).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import lazy_gettext as _

from shared.models import Survey

# The lowest threshold the CLI accepts for an anonymous survey.
ANONYMOUS_MIN_GROUP_SIZE = 3
# What a merged attribute (or date) says in an export of an anonymous survey.
MERGED = "*"


def threshold(survey: Survey) -> int:
    """k: the survey's small-group threshold (an anonymous survey's never below 3)."""
    k = max(1, survey.min_group_size)
    return max(k, ANONYMOUS_MIN_GROUP_SIZE) if survey.anonymous else k


def still_needed(survey: Survey, complete: int) -> int:
    """How many more complete responses an anonymous survey needs before results are shown (0: none)."""
    return max(0, threshold(survey) - complete) if survey.anonymous else 0


@dataclass(frozen=True)
class Period:
    """Consecutive days whose completions are shown (or exported) as one date."""

    start: date
    end: date
    completed: int

    @property
    def label(self) -> str:
        """``2025-03-10–2025-03-16``: sorts like a date and reads the same in every language."""
        return self.start.isoformat() if self.start == self.end else f"{self.start}–{self.end}"

    @property
    def short_label(self) -> str:
        """For a chart's axis: ``10/3–16/3``."""
        first = f"{self.start.day}/{self.start.month}"
        return first if self.start == self.end else f"{first}–{self.end.day}/{self.end.month}"


def periods(per_day: dict[date, int], k: int, first: date | None = None, last: date | None = None) -> list[Period]:
    """Weeks (Monday–Sunday) from ``first`` to ``last`` (default: the days with completions), with
    any week of 1 to k−1 completions merged with the smaller of the nearest weeks with completions
    before and after it, until none is left: every period then holds no completion or at least k
    (unless all together hold fewer), so no shown date points at a small group.
    """
    days = [d for d, n in per_day.items() if n]
    if not days and first is None:
        return []
    start = min([*days, *([first] if first else [])])
    end = max([*days, *([last] if last else [])])
    monday = start - timedelta(days=start.weekday())
    found: list[Period] = []
    while monday <= end:
        sunday = monday + timedelta(days=6)
        n = sum(count for day, count in per_day.items() if monday <= day <= sunday)
        found.append(Period(monday, sunday, n))
        monday += timedelta(days=7)
    while True:
        small = [i for i, p in enumerate(found) if 0 < p.completed < k]
        filled = [i for i, p in enumerate(found) if p.completed]
        if not small or len(filled) < 2:
            break
        i = min(small, key=lambda j: (found[j].completed, j))
        # Into the nearer-in-size of the nearest periods with completions (and the quiet weeks between).
        neighbours = [
            j
            for j in (max((j for j in filled if j < i), default=None), min((j for j in filled if j > i), default=None))
            if j is not None
        ]
        j = min(neighbours, key=lambda m: (found[m].completed, m))
        a, b = sorted((i, j))
        found[a : b + 1] = [Period(found[a].start, found[b].end, sum(p.completed for p in found[a : b + 1]))]
    return found


def period_of(found: Sequence[Period], day: date) -> Period | None:
    return next((p for p in found if p.start <= day <= p.end), None)


Combination = tuple[str | None, ...]


def merge_small_combinations(counts: dict[Combination, int], k: int) -> tuple[dict[Combination, Combination], int]:
    """Map each combination of identifying values to the one an export shows, so that every shown
    combination is held by at least k responses (when all together are); also how many responses
    had a value merged.

    One position at a time, from the last: in a combination held by fewer than k the value there is
    replaced by ``MERGED``; if the merged combination is still held by fewer than k, the smallest
    combinations that differ from it only in that position are merged into it too (else the one
    merged value would still point at the small group). Whatever is left small at the end is
    merged whole with the smallest other combinations.
    """
    shown: dict[Combination, Combination] = {c: c for c in counts}

    def sizes() -> dict[Combination, int]:
        out: dict[Combination, int] = {}
        for original, published in shown.items():
            out[published] = out.get(published, 0) + counts[original]
        return out

    def merge(into: Combination, combinations: set[Combination]) -> None:
        for original, published in shown.items():
            if published in combinations:
                shown[original] = into

    def at(c: Combination, position: int) -> Combination:
        return (*c[:position], MERGED, *c[position + 1 :])

    width = len(next(iter(counts), ()))
    for position in reversed(range(width)):
        current = sizes()
        for small in [c for c, n in current.items() if n < k and c[position] != MERGED]:
            merge(at(small, position), {small})
        current = sizes()
        for target in [c for c, n in current.items() if n < k and c[position] == MERGED]:
            siblings = sorted(
                (c for c in current if c[position] != MERGED and at(c, position) == target),
                key=lambda c: (current[c], c),
            )
            held = current[target]
            while held < k and siblings:
                sibling = siblings.pop(0)
                merge(target, {sibling})
                held += current[sibling]
    everything = (MERGED,) * width
    current = sizes()
    for small in [c for c, n in current.items() if n < k and c != everything]:
        merge(everything, {small})
    current = sizes()
    while 0 < current.get(everything, 0) < k and len(current) > 1:
        merge(everything, {min((c for c in current if c != everything), key=lambda c: (current[c], c))})
        current = sizes()
    merged = sum(counts[c] for c, published in shown.items() if published != c)
    return shown, merged


def rule_text(survey: Survey) -> str:
    """The rule in one sentence, for the method section and the codebook."""
    return str(
        _(
            "Enkäten är anonym. Inget som visas eller exporteras pekar ut färre än %(k)s svarande: resultat "
            "visas först när minst %(k)s har svarat, grupper och urval med färre svar döljs, fritextsvar "
            "visas bara i grupper om minst %(k)s, datum visas per vecka eller längre period med minst %(k)s "
            "svar, och ovanliga kombinationer av bakgrundsuppgifter slås ihop i exporten.",
            k=threshold(survey),
        )
    )
