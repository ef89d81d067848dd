"""Subscriber import benchmark: a 1,000,000-row CSV imported into a fresh PostgreSQL database.

    .venv/bin/python benchmarks/import_subscribers.py [--rows 1000000] [--backend postgresql|sqlite]

Writes a CSV of short addresses and a municipality column (e-post;kommun, 18.9 MB for a million
rows, under the 20 MB upload limit; one line in 10,000 invalid and one repeated), then runs the
import the way the SUBSCRIBER_IMPORT job does (consent already given, so no confirmation mails) in
a process of its own, and reports rows/s and that process's peak RSS. Target on PostgreSQL: under
2 minutes and under 250 MB for 1,000,000 rows. The baseline of the same run is only reading the
file's lines (decoding and CSV parsing, no database) in a process of its own: the floor any import
pays, so the ratio holds on a slower or busier machine too.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

POSTGRES_URL = os.environ.get(
    "BENCH_POSTGRES_URL", os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
)
BENCH_DB = "utskick_bench_import"
TARGET_SECONDS, TARGET_RSS_MB = 120.0, 250.0
MUNICIPALITIES = ["Ale", "Alingsås", "Borås", "Göteborg", "Kungälv", "Lerum", "Mölndal", "Partille"]


def write_csv(path: Path, rows: int) -> None:
    """Short addresses and one other column, so a million rows stay under the 20 MB upload limit."""
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("e-post;kommun\r\n")
        for n in range(rows):
            if n % 10_000 == 9_999:
                out.write(f"fel-{n};Ale\r\n")  # invalid
            elif n % 10_000 == 9_998:
                out.write(f"P{n - 5000}@k{(n - 5000) % 97}.se;Ale\r\n")  # repeated (another case)
            else:
                out.write(f"p{n}@k{n % 97}.se;{MUNICIPALITIES[n % 8]}\r\n")


def child(mode: str, url: str, path: Path) -> None:
    """One measurement in this process: print seconds and peak RSS (MB) as JSON."""
    from services.mailer import create_app
    from services.mailer.subscriptions import csvio
    from shared.config import load_config
    from shared.models import NewsletterList

    data = path.read_bytes()
    start = time.perf_counter()
    phases: dict[str, float] = {}
    if mode == "baseline":
        csv_file = csvio.read_subscriber_csv(data)
        del data
        lines = sum(1 for _line in csv_file.lines())
    else:
        config = load_config({"DATABASE_URL": url, "SECRET_KEYS": "benchmark-secret-key-0123456789"})
        app = create_app(config)
        db = app.extensions["utskick"].db
        csv_file = csvio.read_subscriber_csv(data)
        del data
        with app.app_context(), db.sessions() as session:
            import_id = "benchmark"
            for _staged in csvio.stage(session, import_id, csv_file):
                session.commit()  # as the job does: a batch at a time
            phases["stage"] = time.perf_counter() - start
            newsletter_list = session.get(NewsletterList, 1)
            staged = csvio.Staged.for_editor(import_id, newsletter_list.id, "benchmark", _now())
            csvio.apply(session, staged, newsletter_list, consented=True)
            session.commit()
            phases["apply"] = time.perf_counter() - start - phases["stage"]
            found = csvio.report(session, staged)
            phases["report"] = time.perf_counter() - start - phases["stage"] - phases["apply"]
            csvio.forget(session, import_id)
            session.commit()
        lines = found.imported + found.skipped_count + found.merged_count + found.invalid_count
    seconds = time.perf_counter() - start
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "rss_mb": rss_mb, "lines": lines, "phases": phases}))


def _now():
    from shared.clock import utcnow

    return utcnow()


def measure(mode: str, url: str, path: Path) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--url", url, "--file", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"{mode} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--backend", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--child", choices=["baseline", "import"])
    parser.add_argument("--url")
    parser.add_argument("--file")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.url, Path(args.file))
        return

    from shared.db import recreate_postgres_database, upgrade

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "prenumeranter.csv"
        write_csv(path, args.rows)
        size_mb = path.stat().st_size / 1e6
        if args.backend == "postgresql":
            url = recreate_postgres_database(POSTGRES_URL, BENCH_DB)
        else:
            url = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        upgrade(url)
        print(f"{args.rows:,} rows, {size_mb:.1f} MB, {args.backend}; load: {os.getloadavg()[0]:.2f}")
        baseline = measure("baseline", url, path)
        result = measure("import", url, path)
        print(
            f"baseline (read and parse the file only): {baseline['seconds']:6.1f} s, "
            f"{args.rows / baseline['seconds']:9,.0f} rows/s, peak RSS {baseline['rss_mb']:5.0f} MB"
        )
        ok = result["seconds"] < TARGET_SECONDS and result["rss_mb"] < TARGET_RSS_MB
        print(
            f"import (stage {result['phases']['stage']:.1f} s, apply {result['phases']['apply']:.1f} s, "
            f"report {result['phases']['report']:.1f} s): "
            f"{result['seconds']:6.1f} s, {args.rows / result['seconds']:9,.0f} rows/s, "
            f"peak RSS {result['rss_mb']:5.0f} MB, {result['seconds'] / baseline['seconds']:.1f} × baseline "
            f"[target < {TARGET_SECONDS:.0f} s and < {TARGET_RSS_MB:.0f} MB: {'met' if ok else 'NOT met'}]"
        )
        print(f"load after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
