"""Benchmark: send the demo issue to N subscribers through the real pipeline, against a baseline.

    python benchmarks/send.py [--subscribers 20000] [--database postgresql|sqlite] [--workers 2]

Both runs go to the same SMTP sink on loopback (``tests/fixtures_smtp.py`` in its own process) over
the same number of connections. The pipeline runs in child processes (fan-out, claiming, per-recipient
filling-in, recording) so their peak RSS is their own; the baseline sends one pre-built message's bytes
with plain ``smtplib``. Prints mails/s for both, the ratio, the pipeline's CPU time per mail and its
peak RSS. With ``--workers N`` (PostgreSQL) N worker processes share the one issue, each with its
connections; the sink's count shows that no mail went out twice.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import smtplib
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def smtp_sink(tmp: Path) -> Iterator[tuple[int, Callable[[], int]]]:
    """The SMTP sink in its own process; yields its port and a call that stops it and returns how
    many messages it accepted."""
    port, count_file = free_port(), tmp / "count"
    sink = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "tests" / "fixtures_smtp.py"),
            "--port",
            str(port),
            "--count-file",
            str(count_file),
        ],
        stdout=subprocess.DEVNULL,
    )

    def received() -> int:
        sink.send_signal(signal.SIGTERM)
        sink.wait(timeout=30)
        return int(count_file.read_text().strip())

    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("the SMTP sink did not start") from None
                time.sleep(0.1)
        yield port, received
    finally:
        if sink.poll() is None:
            sink.kill()
            sink.wait()


def fresh_database(kind: str, workdir: Path) -> str:
    from shared.db import recreate_postgres_database, upgrade

    if kind == "sqlite":
        url = f"sqlite:///{workdir / 'bench.sqlite3'}"
    else:
        url = recreate_postgres_database(POSTGRES_ADMIN_URL, "utskick_bench_send")
    upgrade(url)
    return url


def make_config(url: str, smtp_url: str, workdir: Path, connections: int):
    from shared.config import load_config, parse_mail_url

    config = load_config(
        {
            "DATABASE_URL": url,
            "SECRET_KEYS": "benchmark-secret-key-0123456789",
            "UTSKICK_VAR_DIR": str(workdir),
            "MAILER_URL": "https://nyhetsbrev.example.se",
            "SMTP_CONNECTIONS": str(connections),
        }
    )
    return config.with_(mail_url=parse_mail_url(smtp_url, config.var_dir))


def seed(url: str, n: int) -> None:
    from shared.db import Database
    from tests.mailer.issue_fixtures import add_subscribers

    db = Database(url)
    with db.transaction() as session:
        add_subscribers(session, n)
    db.dispose()


def peak_rss_kib(usage) -> int:
    """This process's own peak RSS. VmHWM starts afresh at exec; ru_maxrss keeps the forking parent's
    peak (the parent seeded the database, so its peak grows with N and would skew the comparison)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return usage.ru_maxrss


def prepare_issue(url: str, config) -> int:
    """The demo issue, frozen and ready to send (not timed); returns its id."""
    from services.mailer import create_app
    from services.mailer.issues import domain
    from shared.db import Database
    from tests.mailer.issue_fixtures import DEMO_ISSUE

    app = create_app(config)
    db = Database(url)
    with app.app_context(), db.transaction() as session:
        issue = domain.create_issue_from_markdown_file(session, DEMO_ISSUE)
        domain.freeze(session, config, issue)
        issue_id = issue.id
    db.dispose()
    return issue_id


def pipeline_child(args) -> None:
    """Runs in its own process: (worker 0) start sending the issue, then send as one worker would;
    report times, CPU and peak RSS as JSON."""
    from sqlalchemy import select

    from services.mailer.delivery.pipeline import IssuePipeline
    from services.mailer.issues import domain
    from shared.db import Database
    from shared.models import Issue, IssueStatus

    workdir = Path(args.workdir)
    config = make_config(args.url, args.smtp, workdir, args.connections)
    db = Database(args.url)
    issue_id = args.issue
    started = time.time()
    queued = 0
    if args.worker == 0:
        with db.transaction() as session:
            queued = domain.start_sending(session, session.get_one(Issue, issue_id))
    else:  # the others begin when there is something to take, as a running worker would
        while True:
            with db.sessions() as session:
                if session.scalar(select(Issue.status).where(Issue.id == issue_id)) != IssueStatus.DRAFT:
                    break
            time.sleep(0.005)
    fanned = time.time()
    handled = IssuePipeline(config, db).run()
    finished = time.time()
    if args.worker == 0:
        # One mail's bytes for the baseline: the same size and shape as every mail the pipeline sent.
        from services.mailer.delivery.compose import Recipient

        sample = IssuePipeline(config, db)._mail(issue_id).build(Recipient(0, 1, "person0@example.org", "Person 0"))
        (workdir / "sample.eml").write_bytes(sample)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(
        json.dumps(
            {
                "queued": queued,
                "handled": handled,
                "started": started,
                "fanned": fanned,
                "finished": finished,
                "peak_rss_mib": peak_rss_kib(usage) / 1024,
                "cpu_s": usage.ru_utime + usage.ru_stime,
            }
        )
    )


def sent_count(url: str, issue_id: int) -> tuple[int, str]:
    from services.mailer.issues import domain
    from shared.db import Database
    from shared.models import Issue

    db = Database(url)
    with db.sessions() as session:
        issue = session.get_one(Issue, issue_id)
        sent, status = domain.progress(session, issue).sent, issue.status
    db.dispose()
    return sent, status


def baseline(smtp_port: int, message: bytes, n: int, connections: int) -> float:
    """Seconds for plain smtplib to send ``message`` n times over ``connections`` connections."""
    shares = [n // connections + (1 if i < n % connections else 0) for i in range(connections)]

    def lane(count: int, index: int) -> None:
        conn = smtplib.SMTP("127.0.0.1", smtp_port)
        for i in range(count):
            conn.sendmail("nyhetsbrev@utskick.example", [f"baseline{index}-{i}@example.org"], message)
        conn.quit()

    threads = [threading.Thread(target=lane, args=(c, i)) for i, c in enumerate(shares)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=20000)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="postgresql")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--workers", type=int, default=1, help="worker processes sharing the send")
    parser.add_argument("--worker", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--issue", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--smtp", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        pipeline_child(args)
        return

    n = args.subscribers
    with tempfile.TemporaryDirectory(prefix="utskick-bench-") as tmp:
        workdir = Path(tmp)
        with smtp_sink(workdir) as (port, sink_received):
            url = fresh_database(args.database, workdir)
            t = time.perf_counter()
            seed(url, n)
            print(f"seeded {n} subscribers on {args.database} in {time.perf_counter() - t:.1f} s", flush=True)
            config = make_config(url, f"smtp://127.0.0.1:{port}", workdir, args.connections)
            issue_id = prepare_issue(url, config)
            children = [
                subprocess.Popen(
                    [
                        sys.executable,
                        __file__,
                        "--child",
                        "--url",
                        url,
                        "--smtp",
                        f"smtp://127.0.0.1:{port}",
                        "--workdir",
                        str(workdir),
                        "--connections",
                        str(args.connections),
                        "--issue",
                        str(issue_id),
                        "--worker",
                        str(worker),
                    ],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                    cwd=ROOT,
                )
                for worker in range(args.workers)
            ]
            results = []
            for child in children:
                out, err = child.communicate()
                if child.returncode != 0:
                    sys.stderr.write(err)
                    raise SystemExit("the pipeline run failed")
                results.append(json.loads(out.strip().splitlines()[-1]))
            sent, status = sent_count(url, issue_id)
            message = (workdir / "sample.eml").read_bytes()
            base_s = baseline(port, message, n, args.connections)
            received = sink_received()

    started = results[0]["started"]
    total_s = max(r["finished"] for r in results) - started
    fan_out_s = results[0]["fanned"] - started
    cpu_s = sum(r["cpu_s"] for r in results)
    pipeline_rate = n / total_s
    baseline_rate = n / base_s
    print(f"database:            {args.database}, {args.connections} SMTP connections, message {len(message)} bytes")
    print(
        f"pipeline:            {sent} sent in {total_s:.2f} s (fan-out {fan_out_s:.2f} s) = {pipeline_rate:.0f} mails/s"
        f" by {args.workers} worker process{'es' if args.workers > 1 else ''}"
    )
    if args.workers > 1:
        print(f"  handled per worker: {', '.join(str(r['handled']) for r in results)}")
    print(f"baseline (smtplib):  {n} sent in {base_s:.2f} s = {baseline_rate:.0f} mails/s")
    print(
        f"ratio:               {pipeline_rate / baseline_rate:.2f}"
        f"   (pipeline CPU per mail: {cpu_s / n * 1000:.2f} ms, {cpu_s:.1f} s in all; load {os.getloadavg()[0]:.2f})"
    )
    print(f"pipeline peak RSS:   {max(r['peak_rss_mib'] for r in results):.1f} MiB (largest worker process)")
    print(f"sink received:       {received} (expected {2 * n})")
    if sent != n or received != 2 * n or status != "sent":
        raise SystemExit("not every mail arrived exactly once")


if __name__ == "__main__":
    main()
