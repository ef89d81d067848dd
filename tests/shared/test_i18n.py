"""Times as users read them (Swedish time, summer time included) and languages by their names."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from shared.i18n import language_name, local_time


@pytest.mark.parametrize(
    "utc, shown",
    [
        # Summer time starts at 01:00 UTC on the last Sunday of March: the clocks jump from 02:00 to 03:00.
        (datetime(2026, 3, 29, 0, 30, tzinfo=UTC), "2026-03-29 01:30"),
        (datetime(2026, 3, 29, 1, 30, tzinfo=UTC), "2026-03-29 03:30"),
        (datetime(2026, 12, 31, 23, 30, tzinfo=UTC), "2027-01-01 00:30"),
    ],
)
def test_local_time_is_swedish_time(utc, shown):
    assert local_time(utc) == shown


def test_local_time_to_the_day_and_of_nothing():
    assert local_time(datetime(2026, 6, 30, 22, 15, tzinfo=UTC), "day") == "2026-07-01"
    assert local_time(date(2026, 6, 30), "day") == "2026-06-30"
    assert local_time(None) == ""


def test_language_names_in_the_language_of_the_page():
    assert language_name("sv") == "svenska" and language_name("en") == "engelska"
    assert language_name("sv", "en") == "Swedish"
    assert language_name("xx-nonsense") == "xx-nonsense"
