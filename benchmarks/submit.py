"""Benchmark: one anonymous submit against the number who already answered, and the day's seal, on PostgreSQL.

    .venv/bin/python benchmarks/submit.py [--completed 3,10000,100000] [--submits 200] [--seal 10000]

For each level a survey gets that many participants who completed today (the worst case: every one
of them could be the one behind a new response) and ``--submits`` more who then send in the whole
Millennium survey one after another through ``store_complete_response`` (the path a submit takes:
lock the participant, re-create the response unlinkable). Prints p50/p95 per level, each against the
first level and the later half of the submits against the earlier half, and the load. Fails when
not flat (more than 1.5 ×); the target of p95 under 30 ms at 100 000 is shown beside it. Then
``--seal`` responses of yesterday (with as many completers) are sealed in one transaction, as the
worker does after midnight, and the time is printed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select, text

from benchmarks.results import bench_config
from shared.db import Database, recreate_postgres_database, upgrade

POSTGRES_URL = os.environ.get(
    "BENCH_POSTGRES_URL", os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
)
BENCH_DB = "utskick_bench_submit"
TARGET_MS = 30.0
FLAT = 1.5  # the most a level (or the later half of its submits) may take against the first
VALUES = {
    "delaktighet": "hog",
    "omraden": ["it", "other"],
    "omraden.other": "Skolan",
    "ar": "3",
    "information": "4",
    "pastaenden.tydliga_mal": "5",
    "pastaenden.mandat": "4",
    "pastaenden.samverkan_vgr": "dont_know",
    "pastaenden.tid": "2",
    "paus_paverkan": "5",
    "paus_beskrivning": "Allt stannade.",
    "rekommendera": "8",
    "lardomar": "Samverka tidigt.",
}


def make_survey(db: Database, completed: int, submitters: int, day: datetime | None = None) -> int:
    """An open anonymous Millennium survey with ``completed`` answered on the day (today unless
    given) and ``submitters`` not yet."""
    import yaml

    from services.demo import DEMO_DATA
    from services.survey.responses.storage import start_of_day
    from services.survey.surveys.definitions import normalise
    from shared.clock import utcnow
    from shared.models import Survey

    definition = yaml.safe_load((DEMO_DATA / "survey-millennium.yaml").read_text(encoding="utf-8"))
    definition["closes"] = "2099-12-31"
    definition = normalise(definition)
    with db.transaction() as s:
        survey = Survey(
            title=definition["title"],
            anonymous=True,
            status="open",
            definition=definition,
            report_attributes=definition["report_attributes"],
        )
        s.add(survey)
        s.flush()
        survey_id = survey.id
        s.execute(
            text(
                "INSERT INTO participants (survey_id, email, name, attributes, reminders_sent, started_at,"
                " completed_at, created_at)"
                " SELECT :survey, 'p' || i || '@bench.example', '', '{\"delregion\": \"GR\"}', 0,"
                " CASE WHEN i <= :completed THEN :day END, CASE WHEN i <= :completed THEN :day END, now()"
                " FROM generate_series(1, :total) AS i"
            ),
            {
                "survey": survey_id,
                "completed": completed,
                "total": completed + submitters,
                "day": start_of_day(day or utcnow()),
            },
        )
    with db.engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE participants")
    return survey_id


def time_submits(app, db: Database, survey_id: int) -> list[float]:
    from services.survey.responses.storage import store_complete_response
    from shared.models import Participant, Survey

    with db.sessions() as s:
        waiting = s.scalars(
            select(Participant.id)
            .where(Participant.survey_id == survey_id, Participant.completed_at.is_(None))
            .order_by(Participant.id)
        ).all()
    timings = []
    with app.test_request_context():
        for participant_id in waiting:
            start = time.perf_counter()
            with db.transaction() as s:
                survey = s.get_one(Survey, survey_id)
                store_complete_response(s, survey, VALUES, s.get_one(Participant, participant_id))
            timings.append(time.perf_counter() - start)
    return timings


def time_seal(app, db: Database, responses: int) -> tuple[int, float]:
    """Seconds to seal ``responses`` of yesterday, each a copy of one submitted response's answers."""
    from services.survey.responses.storage import seal_past_days, start_of_day
    from shared.clock import utcnow

    yesterday = start_of_day(utcnow() - timedelta(days=1))
    survey_id = make_survey(db, responses, 1, day=yesterday)
    time_submits(app, db, survey_id)  # today's, left alone by the seal: its answers are the copies'
    with db.transaction() as s:
        s.execute(
            text(
                "INSERT INTO responses (id, survey_id, status, current_page, started_at, updated_at, completed_at,"
                " attributes, awaiting_seal)"
                " SELECT md5(:survey || '-' || i), :survey, 'complete', 0, :day, :day, :day,"
                ' \'{"delregion": "GR"}\', true FROM generate_series(1, :n) AS i'
            ),
            {"survey": survey_id, "day": yesterday, "n": responses},
        )
        s.execute(
            text(
                "INSERT INTO answers (id, response_id, question_key, row_key, option_key, number_value, text_value)"
                " SELECT floor(random() * 9223372036854775807)::bigint, r.id, a.question_key, a.row_key,"
                " a.option_key, a.number_value, a.text_value"
                " FROM responses AS r, answers AS a JOIN responses AS today ON today.id = a.response_id"
                " WHERE r.survey_id = :survey AND r.completed_at = :day AND today.survey_id = :survey"
                " AND today.completed_at > :day"
            ),
            {"survey": survey_id, "day": yesterday},
        )
    with db.engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE responses, answers")
    start = time.perf_counter()
    with db.transaction() as s:
        sealed = seal_past_days(s, utcnow())
    return sealed.responses, time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--completed", default="3,10000,100000")
    parser.add_argument("--submits", type=int, default=200)
    parser.add_argument("--seal", type=int, default=10000, help="responses of one day to seal")
    args = parser.parse_args()
    levels = [int(n) for n in args.completed.split(",")]

    from services.survey import create_app

    url = recreate_postgres_database(POSTGRES_URL, BENCH_DB)
    upgrade(url)
    db = Database(url)
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(bench_config(url, Path(tmp)))
        print(f"anonymous submit, PostgreSQL, {args.submits} submits per level (load: {os.getloadavg()[0]:.2f})")
        baseline = None
        for completed in levels:
            survey_id = make_survey(db, completed, args.submits)
            in_order = time_submits(app, db, survey_id)
            timings = sorted(in_order)
            p50 = statistics.median(timings) * 1000
            p95 = timings[int(len(timings) * 0.95) - 1] * 1000
            half = len(in_order) // 2
            drift = statistics.median(in_order[half:]) / statistics.median(in_order[:half])
            baseline = baseline or p50
            # Flat is the test (against the fewest completed, in the same run); 30 ms is the target on a
            # quiet machine, which a busy one may miss without anything growing.
            failed |= p50 / baseline > FLAT or drift > FLAT
            print(
                f"  {completed:>7} completed today: p50 {p50:6.1f} ms, p95 {p95:6.1f} ms,"
                f" {p50 / baseline:.2f} × the first level, last half {drift:.2f} × the first half"
                f" (flat: ≤ {FLAT}); p95 < {TARGET_MS:.0f} ms:"
                f" {'met' if p95 < TARGET_MS else 'not met'}  (load {os.getloadavg()[0]:.2f})"
            )
        sealed, seconds = time_seal(app, db, args.seal)
        print(
            f"  seal of one day: {sealed} responses with their answers and completers rewritten in"
            f" {seconds:.2f} s (load {os.getloadavg()[0]:.2f})"
        )
        app.extensions["utskick"].db.dispose()
    db.dispose()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
