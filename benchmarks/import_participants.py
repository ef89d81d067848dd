"""Participant import benchmark: files of growing size imported as ``utskick participants import``
does (the file read line by line), each in a process of its own.

    .venv/bin/python benchmarks/import_participants.py [--rows 20000 200000] [--backend postgresql|sqlite]

Prints seconds, rows/s and the process's peak RSS per size. The import reads 1 000 lines a batch,
so the peak RSS should be the same for ten times the rows (the target: within 10 MB).
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
BENCH_DB = "utskick_bench_participants"
TARGET_GROWTH_MB = 10.0


def write_csv(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("email;name;organisation;roll\r\n")
        for n in range(rows):
            out.write(f"person{n}@kommun{n % 49}.se;Person {n};Kommun {n % 49};Handläggare\r\n")


def child(url: str, path: Path) -> None:
    """One import in this process: print seconds, peak RSS (MB) and the report as JSON."""
    from services.survey.participants.domain import file_encoding, import_participants_csv
    from shared.db import Database
    from shared.models import Survey

    db = Database(url)
    start = time.perf_counter()
    with db.transaction() as session:
        survey = Survey(title="Benchmark", definition={})
        session.add(survey)
        session.flush()
        with path.open(encoding=file_encoding(str(path)), newline="") as lines:
            report = import_participants_csv(session, survey.id, lines)
    seconds = time.perf_counter() - start
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "rss_mb": rss_mb, "added": report.added}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[20_000, 200_000])
    parser.add_argument("--backend", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--child")
    parser.add_argument("--url")
    args = parser.parse_args()
    if args.child:
        child(args.url, Path(args.child))
        return

    from shared.db import recreate_postgres_database, upgrade

    with tempfile.TemporaryDirectory() as tmp:
        if args.backend == "postgresql":
            url = recreate_postgres_database(POSTGRES_URL, BENCH_DB)
        else:
            url = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        upgrade(url)
        peaks = []
        for rows in args.rows:
            path = Path(tmp) / f"deltagare-{rows}.csv"
            write_csv(path, rows)
            load = os.getloadavg()[0]
            done = subprocess.run(
                [sys.executable, __file__, "--child", str(path), "--url", url], capture_output=True, text=True
            )
            if done.returncode != 0:
                raise SystemExit(done.stderr)
            result = json.loads(done.stdout.strip().splitlines()[-1])
            assert result["added"] == rows, result
            peaks.append(result["rss_mb"])
            print(
                f"{rows:>9,} rows, {path.stat().st_size / 1e6:5.1f} MB, {args.backend}: {result['seconds']:6.1f} s, "
                f"{rows / result['seconds']:8,.0f} rows/s, peak RSS {result['rss_mb']:5.0f} MB (load {load:.2f})"
            )
        growth = max(peaks) - min(peaks)
        print(
            f"peak RSS growth over the sizes: {growth:.0f} MB "
            f"[target < {TARGET_GROWTH_MB:.0f} MB: {'met' if growth < TARGET_GROWTH_MB else 'NOT met'}]"
        )


if __name__ == "__main__":
    main()
