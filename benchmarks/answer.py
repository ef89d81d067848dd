"""Benchmark: K concurrent respondents complete the Millennium survey against gunicorn + PostgreSQL.

    python benchmarks/answer.py [--respondents 50] [--surveys-each 4] [--workers N] [--threads 4]

Each simulated respondent opens a personal link and goes through every page the way a browser does
(GET, POST with the CSRF token and the session cookie, follow the redirect), pressing "save and
continue later" on page 2 and resuming before going on, then submits. Prints completed surveys per
second and p50/p95 latency per page request; then, in the same run and against the same gunicorn,
the requests per second of ``/healthz`` (a trivial endpoint with one ``SELECT 1``) from the same
number of client threads, and the ratio of the two request rates. Beside them the CPU each request
cost in gunicorn and in the PostgreSQL backends of the benchmark's database (read from /proc):
figures a busy machine changes far less than the rates.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")

PAGES = [
    {"delaktighet": "hog", "omraden": ["it", "other"], "omraden.other": "Skolan", "ar": "3"},
    {
        "information": "4",
        "pastaenden.tydliga_mal": "5",
        "pastaenden.mandat": "4",
        "pastaenden.samverkan_vgr": "dont_know",
        "pastaenden.tid": "2",
    },
    {"paus_paverkan": "5", "paus_beskrivning": "Allt stannade.", "rekommendera": "8", "lardomar": "Samverka tidigt."},
]
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fresh_database() -> str:
    from shared.db import recreate_postgres_database, upgrade

    url = recreate_postgres_database(POSTGRES_ADMIN_URL, "utskick_bench_answer")
    upgrade(url)
    return url


def seed(url: str, people: int) -> list[str]:
    """The fixture survey, open, with ``people`` participants; returns their tokens."""
    from sqlalchemy import select

    from services.demo import DEMO_DATA
    from services.survey.participants.domain import import_participants_csv, new_links
    from services.survey.surveys.domain import import_survey_file, open_survey, set_closes
    from shared.db import Database
    from shared.models import Participant

    db = Database(url)
    with db.transaction() as session:
        survey = import_survey_file(session, DEMO_DATA / "survey-millennium.yaml")
        set_closes(session, survey, "2099-12-31")
        open_survey(session, survey)
        csv_text = "email,name,organisationstyp,delregion,roll\n" + "".join(
            f"person{i}@bench.example,Person {i},kommun,GR,IT-chef\n" for i in range(people)
        )
        import_participants_csv(session, survey.id, csv_text)
        ids = list(session.scalars(select(Participant.id).order_by(Participant.id)))
        tokens = list(new_links(session, ids).values())
    db.dispose()
    return tokens


class Browser:
    """One respondent's cookie jar over plain HTTP/1.1 (a new connection per request, as gunicorn's
    sync workers close them anyway)."""

    def __init__(self, port: int, latencies: list[float]):
        self.port = port
        self.cookie = ""
        self.latencies = latencies

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, str, str]:
        body = urlencode(form, doseq=True) if form is not None else None
        headers = {"Accept-Language": "sv", "Connection": "close"}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if self.cookie:
            headers["Cookie"] = self.cookie
        started = time.perf_counter()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        text = response.read().decode()
        self.latencies.append(time.perf_counter() - started)
        conn.close()
        cookie = response.getheader("Set-Cookie")
        if cookie:
            self.cookie = cookie.split(";", 1)[0]
        return response.status, response.getheader("Location") or "", text

    def complete(self, token: str) -> bool:
        path = f"/s/{token}"
        status, _, html = self.request("GET", path)
        for page, answers in enumerate(PAGES):
            csrf = CSRF.search(html).group(1)
            if page == 1:  # "save and continue later", then open the link again
                status, _, html = self.request(
                    "POST", path, {**answers, "page": page, "action": "save", "csrf_token": csrf}
                )
                assert status == 200 and "sparade" in html, status
                status, _, html = self.request("GET", path)
                assert "Sida 2 av 3" in html
                csrf = CSRF.search(html).group(1)
            action = "submit" if page == len(PAGES) - 1 else "next"
            status, location, html = self.request(
                "POST", path, {**answers, "page": page, "action": action, "csrf_token": csrf}
            )
            assert status == 303, (status, html[:500])
            status, _, html = self.request("GET", location.replace(f"http://127.0.0.1:{self.port}", ""))
        return "Tack för dina svar" in html


def run_respondents(port: int, tokens: list[str], threads: int) -> tuple[int, float, list[float]]:
    latencies: list[float] = []
    lock = threading.Lock()
    queue = list(tokens)
    completed = 0
    barrier = threading.Barrier(threads + 1)

    def respondent():
        nonlocal completed
        own: list[float] = []
        barrier.wait()
        while True:
            with lock:
                if not queue:
                    break
                token = queue.pop()
            if Browser(port, own).complete(token):
                with lock:
                    completed += 1
        with lock:
            latencies.extend(own)

    workers = [threading.Thread(target=respondent) for _ in range(threads)]
    for w in workers:
        w.start()
    barrier.wait()
    started = time.perf_counter()
    for w in workers:
        w.join()
    return completed, time.perf_counter() - started, latencies


def run_healthz(port: int, threads: int, seconds: float) -> tuple[int, float]:
    count = 0
    lock = threading.Lock()
    stop = threading.Event()

    def client():
        nonlocal count
        mine = 0
        browser = Browser(port, [])
        while not stop.is_set():
            status, _, _ = browser.request("GET", "/healthz")
            assert status == 200
            mine += 1
        with lock:
            count += mine

    workers = [threading.Thread(target=client) for _ in range(threads)]
    started = time.perf_counter()
    for w in workers:
        w.start()
    time.sleep(seconds)
    stop.set()
    for w in workers:
        w.join()
    return count, time.perf_counter() - started


def cpu_seconds(match) -> dict[int, float]:
    """User and system CPU seconds of each process ``match(pid, ppid, cmdline)`` accepts, from /proc (Linux)."""
    found: dict[int, float] = {}
    if not Path("/proc").is_dir():  # not Linux: the CPU figures read 0
        return found
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # ended meanwhile, or not ours to read
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if match(int(entry.name), int(fields[1]), cmdline):
            found[int(entry.name)] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return found


def server_and_database_cpu(server_pid: int, database: str) -> tuple[dict[int, float], dict[int, float]]:
    """CPU seconds so far of gunicorn (master and workers) and of the backends serving ``database``."""
    server = cpu_seconds(lambda pid, ppid, _: server_pid in (pid, ppid))
    backends = cpu_seconds(lambda _pid, _ppid, cmdline: cmdline.startswith("postgres: ") and f" {database} " in cmdline)
    return server, backends


def cpu_between(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU used between two readings by the processes alive at the second (a backend that ended
    meanwhile, a pool's overflow connection, is not counted: the figure errs low)."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--respondents", "-k", type=int, default=50, help="concurrent respondents")
    parser.add_argument("--surveys-each", type=int, default=4, help="surveys each respondent completes")
    # One worker per core, four threads each (no more than the pool's five connections) so that the
    # commits' waits overlap: the pages are Python-bound, and more handlers only share the cores less
    # fairly (on 2 cores, 5 workers x 4 threads gave p95 600-700 ms where 2 x 4 gave 250-380 ms).
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker (gthread)")
    parser.add_argument("--healthz-seconds", type=float, default=5.0)
    args = parser.parse_args()

    url = fresh_database()
    database = url.rsplit("/", 1)[1]
    tokens = seed(url, args.respondents * args.surveys_each)
    port = free_port()
    workdir = Path(tempfile.mkdtemp(prefix="utskick-bench-answer-"))
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEYS": "benchmark-secret-key-0123456789",
        "UTSKICK_VAR_DIR": str(workdir),
        "MAIL_URL": f"file://{workdir / 'mail'}",
        "SURVEY_URL": f"http://127.0.0.1:{port}",
    }
    gunicorn = [
        str(Path(sys.executable).parent / "gunicorn"),
        "--workers",
        str(args.workers),
        "--threads",
        str(args.threads),
        "--worker-class",
        "gthread",
        "--bind",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
        "services.survey:create_app()",
    ]
    server = subprocess.Popen(gunicorn, cwd=ROOT, env=env)
    try:
        for _ in range(200):
            try:
                if Browser(port, []).request("GET", "/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        else:
            raise SystemExit("gunicorn did not start")
        # Warm every worker up (imports, pools) before measuring.
        run_healthz(port, args.respondents, 1.0)

        cpu_start = server_and_database_cpu(server.pid, database)
        completed, elapsed, latencies = run_respondents(port, tokens, args.respondents)
        cpu_pages = server_and_database_cpu(server.pid, database)
        requests_per_survey = len(latencies) / max(completed, 1)
        page_rps = len(latencies) / elapsed
        health_count, health_elapsed = run_healthz(port, args.respondents, args.healthz_seconds)
        cpu_health = server_and_database_cpu(server.pid, database)
        health_rps = health_count / health_elapsed
    finally:
        server.terminate()
        server.wait(timeout=30)

    print(
        f"gunicorn: {args.workers} workers x {args.threads} threads (gthread), PostgreSQL; "
        f"{args.respondents} concurrent respondents, {len(tokens)} surveys"
    )
    print(f"completed surveys:      {completed} in {elapsed:.1f} s = {completed / elapsed:.1f} surveys/s")
    print(
        f"page requests:          {len(latencies)} ({requests_per_survey:.0f} per survey) = {page_rps:.0f} requests/s"
    )
    print(
        f"page latency:           p50 {percentile(latencies, 50) * 1000:.0f} ms, "
        f"p95 {percentile(latencies, 95) * 1000:.0f} ms (mean {statistics.mean(latencies) * 1000:.0f} ms)"
    )
    print(f"/healthz:               {health_rps:.0f} requests/s ({args.respondents} client threads)")
    page_cpu = [cpu_between(*pair) / len(latencies) * 1000 for pair in zip(cpu_start, cpu_pages, strict=True)]
    health_cpu = [cpu_between(*pair) / health_count * 1000 for pair in zip(cpu_pages, cpu_health, strict=True)]
    print(
        f"CPU per request:        page {page_cpu[0]:.2f} ms gunicorn + {page_cpu[1]:.2f} ms PostgreSQL, "
        f"/healthz {health_cpu[0]:.2f} ms + {health_cpu[1]:.2f} ms"
    )
    print(f"ratio survey pages / healthz requests per second: {page_rps / health_rps:.2f}")
    if completed != len(tokens):
        raise SystemExit(f"only {completed} of {len(tokens)} surveys completed")


if __name__ == "__main__":
    main()
