"""Results benchmark: 100 000 responses to the Millennium survey, then the results and breakdown pages.

    .venv/bin/python benchmarks/results.py [--responses 100000] [--runs 3] [--backend postgresql|sqlite]

PostgreSQL only unless ``--backend`` says otherwise: the targets are PostgreSQL's, and SQLite at
100 000 responses took six of the ten minutes this script took in ``make bench``.

Seeds a fresh database per backend with ``INSERT … SELECT`` over a generated series (the answers
vary by a hash of the row number, so every option, scale point, "don't know" and text occurs), then
times the pages through the Flask test client as a signed-in evaluator, then the export jobs as the
worker runs them. Targets on PostgreSQL: each page under 1 s, the CSV export job under 5 s and the
XLSX one under 15 s; the exports are also given as ratios to a baseline of the same run (reading
the export statement's rows and nothing else), which holds on a slower or busier machine too.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select, text

from services.demo import DEMO_DATA
from shared.config import load_config
from shared.db import Database, recreate_postgres_database, upgrade

POSTGRES_URL = os.environ.get(
    "BENCH_POSTGRES_URL", os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
)
BENCH_DB = "utskick_bench_results"
PASSWORD = "benchmark-password"
REGIONS = ["GR", "Fyrbodal", "Skaraborg", "Sjuhärad"]
TYPES = ["kommun", "kommunalförbund", "region"]
ROLES = ["IT-chef", "MAS", "Socialchef", "Förvaltningschef", "Projektledare"]
# On PostgreSQL, seconds for 100 000 responses (the pages: 1 s each).
EXPORT_TARGETS = {"CSV export job (all responses)": 5.0, "XLSX export job (all responses)": 15.0}


def r(k: int) -> str:
    """A pseudo-random non-negative integer per row number ``i`` and stream ``k`` (same SQL on both databases)."""
    return f"((i * 2654435761 + {k * 40503 + 7}) % 1000003)"


def pick(k: int, values: list[str]) -> str:
    cases = " ".join(f"WHEN {n} THEN '{v}'" for n, v in enumerate(values))
    return f"CASE {r(k)} % {len(values)} {cases} END"


def seed(url: str, count: int) -> int:
    """Insert the survey, ``count`` responses (5 % in progress) and their answers; return the survey id."""
    import yaml
    from argon2 import PasswordHasher

    from services.survey.surveys.definitions import normalise
    from shared.accounts import Passwords, create_admin
    from shared.models import Survey

    definition = yaml.safe_load((DEMO_DATA / "survey-millennium.yaml").read_text(encoding="utf-8"))
    definition["closes"] = str(definition.get("closes"))
    definition = normalise(definition)  # as the survey service stores it
    db = Database(url)
    postgres = url.startswith("postgres")
    with db.transaction() as s:
        create_admin(s, Passwords(PasswordHasher()), "bench@gr.example", PASSWORD, "evaluator")
        survey = Survey(
            title=definition["title"],
            language="sv",
            anonymous=True,
            status="open",
            definition=definition,
            report_attributes=definition["report_attributes"],
            min_group_size=5,
        )
        s.add(survey)
        s.flush()
        survey_id = survey.id

    series = f"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {count}) "
    rid = "lpad(to_hex(i), 32, '0')" if postgres else "printf('%032x', i)"
    when = "timestamptz '2025-03-10 00:00:00+00'" if postgres else "'2025-03-10 00:00:00.000000'"
    json_cast = "::json" if postgres else ""
    attributes = (
        f"""('{{"organisationstyp": "' || {pick(1, TYPES)} || '", "delregion": "' || {pick(2, REGIONS)} || '", """
        f""""roll": "' || {pick(3, ROLES)} || '"}}'){json_cast}"""
    )
    statements = [
        "INSERT INTO responses"
        " (id, survey_id, participant_id, status, current_page, started_at, updated_at, completed_at, attributes) "
        f"{series} SELECT {rid}, {survey_id}, NULL, "
        f"CASE WHEN {r(4)} % 20 = 0 THEN 'in_progress' ELSE 'complete' END, 0, {when}, {when}, "
        f"CASE WHEN {r(4)} % 20 = 0 THEN NULL ELSE {when} END, {attributes} FROM n",
    ]

    # Answer ids are random, as the application gives them.
    answer_id = "floor(random() * 9223372036854775807)::bigint" if postgres else "abs(random())"

    def answers(select: str, where: str = "1 = 1") -> str:
        return (
            f"INSERT INTO answers (id, response_id, question_key, row_key, option_key, number_value, text_value) "
            f"{series} SELECT {answer_id}, {rid}, {select} FROM n WHERE {where}"
        )

    statements.append(
        answers(f"'delaktighet', NULL, {pick(5, ['mycket_hog', 'hog', 'lag', 'mycket_lag'])}, NULL, NULL")
    )
    for j, option in enumerate(["halso_sjukvard", "elevhalsa", "socialtjanst", "it", "styrning"]):
        statements.append(answers(f"'omraden', NULL, '{option}', NULL, NULL", f"{r(10 + j)} % 3 = 0"))
    statements.append(answers("'omraden', NULL, 'other', NULL, 'Annat område ' || i", f"{r(16)} % 20 = 0"))
    statements.append(answers(f"'ar', NULL, NULL, {r(17)} % 16, NULL", f"{r(18)} % 10 <> 0"))
    statements.append(
        answers(
            f"'information', NULL, CASE WHEN {r(19)} % 12 = 0 THEN 'dont_know' END, "
            f"CASE WHEN {r(19)} % 12 <> 0 THEN 1 + {r(20)} % 5 END, NULL"
        )
    )
    for j, row in enumerate(["tydliga_mal", "mandat", "samverkan_vgr", "tid"]):
        statements.append(
            answers(
                f"'pastaenden', '{row}', CASE WHEN {r(21 + j)} % 15 = 0 THEN 'dont_know' END, "
                f"CASE WHEN {r(21 + j)} % 15 <> 0 THEN 1 + {r(25 + j)} % 5 END, NULL"
            )
        )
    statements.append(answers(f"'paus_paverkan', NULL, NULL, 1 + {r(30)} % 5, NULL"))
    statements.append(
        answers("'paus_beskrivning', NULL, NULL, NULL, 'Pausen har påverkat oss, svar ' || i", f"{r(30)} % 5 >= 3")
    )
    statements.append(answers(f"'rekommendera', NULL, NULL, {r(31)} % 11, NULL"))
    statements.append(
        answers("'lardomar', NULL, NULL, NULL, 'Den viktigaste lärdomen är samverkan, svar ' || i", f"{r(32)} % 10 < 3")
    )

    engine = db.engine
    with engine.begin() as conn:
        if not postgres:
            conn.exec_driver_sql("PRAGMA recursive_triggers = OFF")
        for statement in statements:
            conn.execute(text(statement))
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        conn.exec_driver_sql("ANALYZE")
        answers_count = conn.exec_driver_sql("SELECT count(*) FROM answers").scalar()
    print(f"  seeded {count} responses, {answers_count} answers")
    db.dispose()
    return survey_id


def fresh_database(backend: str, tmp: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp / 'results-bench.sqlite3'}"
    return recreate_postgres_database(POSTGRES_URL, BENCH_DB)


def bench_config(url: str, tmp: Path):
    return load_config(
        {
            "DATABASE_URL": url,
            "MAIL_URL": f"file://{tmp / 'outbox'}",
            "MAIL_FROM": "Bench <bench@example.org>",
            "SECRET_KEYS": "benchmark-secret-key-0123456789",
            "MAILER_URL": "http://mailer.test",
            "SURVEY_URL": "http://survey.test",
            "UTSKICK_VAR_DIR": str(tmp / "var"),
        }
    )


def time_pages(url: str, survey_id: int, runs: int, tmp: Path) -> dict[str, list[float]]:
    from services.survey import create_app

    app = create_app(bench_config(url, tmp))
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    assert client.post("/admin/login", data={"email": "bench@gr.example", "password": PASSWORD}).status_code == 302
    base = f"/admin/surveys/{survey_id}/results"
    pages = {
        "dashboard": base + "/dashboard",
        "results": base,
        "results, filtered (delregion=GR)": base + "?filter=delregion:GR",
        "breakdown by delregion": base + "/breakdown?item=pastaenden.tid&by=attr:delregion",
        "breakdown by question": base + "/breakdown?item=omraden&by=q:delaktighet",
        "free texts, search": base + "/lardomar/texts?q=samverkan&page=3",
    }
    timings: dict[str, list[float]] = {}
    for name, path in pages.items():
        client.get(path)  # warm: templates compiled, connection pooled
        timings[name] = []
        for _ in range(runs):
            start = time.perf_counter()
            response = client.get(path)
            timings[name].append(time.perf_counter() - start)
            assert response.status_code == 200, (path, response.status_code)
    app.extensions["utskick"].db.dispose()
    return timings


def time_exports(url: str, survey_id: int, runs: int, tmp: Path) -> dict[str, list[float]]:
    """The export job as the worker runs it (CSV, XLSX), and the baseline of the same run: reading the
    export statement's rows from the database and nothing else."""
    import threading

    from services.survey.results import exports
    from services.worker import job_functions, service_contexts
    from shared.jobs import run_next_job, start_job
    from shared.models import JobFile, JobKind, Survey

    config = bench_config(url, tmp)
    db = Database(url)
    contexts = service_contexts(config)
    timings: dict[str, list[float]] = {"baseline: read the export rows": []}
    with contexts["survey"](), db.sessions() as session:
        survey = session.get(Survey, survey_id)
        options = exports.ExportOptions()
        exprs, _plan = exports._pivot(exports.columns(survey, options))
        for _ in range(runs):
            start = time.perf_counter()
            result = session.connection().execute(
                exports.export_stmt(survey, options, exprs).execution_options(yield_per=exports.BATCH)
            )
            rows = sum(1 for _row in result)
            timings["baseline: read the export rows"].append(time.perf_counter() - start)
            session.rollback()
    for fmt in ("csv", "xlsx"):
        name = f"{fmt.upper()} export job (all responses)"
        timings[name] = []
        for _ in range(runs):
            with db.transaction() as session:
                params = {"survey_id": survey_id, "format": fmt, "separator": ";", "labels": fmt == "xlsx"}
                params |= {"include_partial": False, "include_identity": False}
                job = start_job(session, JobKind.RESULTS_EXPORT, service="survey", title="bench", params=params)
                session.flush()
                job_id = job.id
            start = time.perf_counter()
            assert run_next_job(db, config, job_functions(), threading.Event(), contexts) == 1
            timings[name].append(time.perf_counter() - start)
        with db.sessions() as session:
            sizes = session.execute(select(JobFile.size).where(JobFile.job_id == job_id)).scalars().all()
            assert sizes, f"the {fmt} job made no file"
        print(f"  {fmt.upper()}: {rows} responses, {sum(sizes) / 1e6:.1f} MB")
    db.dispose()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--backend", choices=["postgresql", "sqlite"], action="append")
    parser.add_argument("--exports-only", action="store_true", help="Time the export jobs, not the pages.")
    args = parser.parse_args()
    backends = args.backend or ["postgresql"]
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        for backend in backends:
            print(f"{backend}:")
            url = fresh_database(backend, tmp)
            upgrade(url)
            started = time.perf_counter()
            survey_id = seed(url, args.responses)
            print(f"  seeding took {time.perf_counter() - started:.1f} s")
            timings = {} if args.exports_only else time_pages(url, survey_id, args.runs, tmp)
            timings |= time_exports(url, survey_id, max(1, min(args.runs, 3)), tmp)
            print(f"  (load average while timing: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")
            baseline = statistics.median(timings["baseline: read the export rows"])
            for name, values in timings.items():
                target = None
                if backend == "postgresql":
                    target = EXPORT_TARGETS.get(name) if "export" in name else 1.0
                ratio = f"  {statistics.median(values) / baseline:5.1f} × baseline" if "export" in name else ""
                print(
                    f"  {name:36s} median {statistics.median(values) * 1000:7.0f} ms   "
                    f"best {min(values) * 1000:7.0f} ms{ratio}" + (f" (target < {target:g} s)" if target else "")
                )


if __name__ == "__main__":
    main()
