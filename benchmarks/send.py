"""Benchmark: send the demo issue to N subscribers through the real pipeline, against a baseline.

    python benchmarks/send.py --subscribers 20000 --database sqlite|postgresql

Both runs go to the same SMTP sink on loopback (``tests/fixtures_smtp.py`` in its own process) over
the same number of connections. The pipeline runs in a child process (fan-out, claiming, per-recipient
filling-in, recording) so its peak RSS is its own; the baseline sends one pre-built message's bytes
with plain ``smtplib``. Prints mails/s for both, the ratio, and the pipeline's peak RSS.
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
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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


def pipeline_child(args) -> None:
    """Runs in its own process: create the demo issue, send it, report timing and peak RSS as JSON."""
    from services.mailer import create_app
    from services.mailer.delivery.pipeline import IssuePipeline
    from services.mailer.issues import domain
    from shared.db import Database
    from shared.models import Issue
    from tests.mailer.issue_fixtures import DEMO_ISSUE

    workdir = Path(args.workdir)
    config = make_config(args.url, args.smtp, workdir, args.connections)
    app = create_app(config)
    db = Database(args.url)
    with app.app_context(), db.transaction() as session:
        issue = domain.create_issue_from_markdown_file(session, DEMO_ISSUE)
        domain.freeze(session, config, issue)
        issue_id = issue.id
    started = time.perf_counter()
    with db.transaction() as session:
        queued = domain.start_sending(session, session.get(Issue, issue_id))
    fanned = time.perf_counter()
    handled = IssuePipeline(config, db).run()
    finished = time.perf_counter()
    with db.transaction() as session:
        issue = session.get(Issue, issue_id)
        progress = domain.progress(session, issue)
        # One mail's bytes for the baseline: the same size and shape as every mail the pipeline sent.
        from services.mailer.delivery.compose import Recipient
        from services.mailer.delivery.pipeline import IssuePipeline as _P

        sample = _P(config, db)._mail(issue_id).build(Recipient(0, 1, "person0@example.org", "Person 0"))
    (workdir / "sample.eml").write_bytes(sample)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak_kib = peak_rss_kib(usage)
    print(
        json.dumps(
            {
                "queued": queued,
                "handled": handled,
                "sent": progress.sent,
                "status": issue.status,
                "fan_out_s": fanned - started,
                "send_s": finished - fanned,
                "total_s": finished - started,
                "peak_rss_mib": peak_kib / 1024,
                "cpu_s": usage.ru_utime + usage.ru_stime,
            }
        )
    )


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
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--connections", type=int, default=4)
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
        port = free_port()
        count_file = workdir / "count"
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
            url = fresh_database(args.database, workdir)
            t = time.perf_counter()
            seed(url, n)
            print(f"seeded {n} subscribers on {args.database} in {time.perf_counter() - t:.1f} s", flush=True)
            child = subprocess.run(
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
                ],
                capture_output=True,
                text=True,
                cwd=ROOT,
            )
            if child.returncode != 0:
                sys.stderr.write(child.stderr)
                raise SystemExit("the pipeline run failed")
            result = json.loads(child.stdout.strip().splitlines()[-1])
            message = (workdir / "sample.eml").read_bytes()
            base_s = baseline(port, message, n, args.connections)
        finally:
            sink.send_signal(signal.SIGTERM)
            sink.wait(timeout=30)
        received = int(count_file.read_text().strip()) if count_file.exists() else -1

    pipeline_rate = n / result["total_s"]
    baseline_rate = n / base_s
    print(f"database:            {args.database}, {args.connections} SMTP connections, message {len(message)} bytes")
    print(
        f"pipeline:            {result['sent']} sent in {result['total_s']:.2f} s "
        f"(fan-out {result['fan_out_s']:.2f} s) = {pipeline_rate:.0f} mails/s"
    )
    print(f"baseline (smtplib):  {n} sent in {base_s:.2f} s = {baseline_rate:.0f} mails/s")
    print(f"ratio:               {pipeline_rate / baseline_rate:.2f}")
    print(
        f"pipeline peak RSS:   {result['peak_rss_mib']:.1f} MiB (CPU {result['cpu_s']:.1f} s in the pipeline process)"
    )
    print(f"sink received:       {received} (expected {2 * n})")
    if result["sent"] != n or received != 2 * n:
        raise SystemExit("not every mail arrived exactly once")


if __name__ == "__main__":
    main()
