"""The worker's back-off around failing tasks, its heartbeat, and where operators see it:
``utskick worker --check``, ``/healthz`` and the admin overview of both services."""

from __future__ import annotations

import itertools
import logging
import threading
from datetime import timedelta

from click.testing import CliRunner
from sqlalchemy import select

from services.cli import main
from services.worker import BACKOFF_CAP, Guarded
from shared.clock import utcnow
from shared.heartbeat import STALE_AFTER, beat, worker_health
from shared.models import WorkerHeartbeat


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_failing_task_backs_off_doubling_up_to_the_cap_and_logs_once(caplog):
    caplog.set_level(logging.INFO, logger="services.worker")
    calls, clock = [], Clock()
    failing = True

    def task(stop):
        calls.append(clock.now)
        if failing:
            raise OSError("database away")
        return 3

    guarded = Guarded(task, clock=clock, jitter=lambda: 1.0)  # no jitter: the whole delay
    stop = threading.Event()
    for _ in range(2000):
        guarded(stop)
        clock.now += 0.5
    gaps = [round(b - a, 1) for a, b in itertools.pairwise(calls)]
    assert gaps[:6] == [1.0, 2.0, 4.0, 8.0, 16.0, 32.0]
    assert max(gaps) <= BACKOFF_CAP + 0.5 and gaps[-1] >= BACKOFF_CAP
    assert len([r for r in caplog.records if "trying again with back-off" in r.message]) == 1
    failing = False
    clock.now += BACKOFF_CAP
    assert guarded(stop) == 3 and guarded.failures == 0
    assert any("works again" in r.message for r in caplog.records)


def test_jitter_spreads_the_delay_between_half_and_all_of_it():
    clock = Clock()

    def task(stop):
        raise OSError

    low, high = Guarded(task, clock=clock, jitter=lambda: 0.0), Guarded(task, clock=clock, jitter=lambda: 0.999)
    stop = threading.Event()
    low(stop)
    high(stop)
    assert low.next_try - clock.now == 0.5 and 0.99 < high.next_try - clock.now <= 1.0


def test_worker_check_exits_non_zero_without_a_fresh_heartbeat(db, cli_env):
    runner = CliRunner()
    never = runner.invoke(main, ["worker", "--check"])
    assert never.exit_code == 1 and "never" in never.output
    with db.transaction() as session:
        beat(session, "host:1", utcnow() - STALE_AFTER - timedelta(seconds=1))
    assert runner.invoke(main, ["worker", "--check"]).exit_code == 1
    with db.transaction() as session:
        beat(session, "host:1", utcnow())  # the same worker again: its row is updated
        beat(session, "host:2", utcnow() - timedelta(days=30))  # long gone: forgotten by the next beat
        beat(session, "host:1", utcnow())
    fresh = runner.invoke(main, ["worker", "--check"])
    assert fresh.exit_code == 0, fresh.output
    with db.sessions() as session:
        assert worker_health(session, utcnow()).alive
        assert list(session.scalars(select(WorkerHeartbeat.worker))) == ["host:1"]


def test_healthz_and_both_overviews_show_the_heartbeat(config, db):
    from services.mailer import create_app as mailer_app
    from services.survey import create_app as survey_app
    from tests.mailer.conftest import sign_in

    mailer = mailer_app(config)
    client = mailer.test_client()
    assert client.get("/healthz").json["worker"]["status"] == "never seen"
    sign_in(mailer, client)
    assert "Har aldrig körts" in client.get("/admin/").text
    with db.transaction() as session:
        beat(session, "host:1", utcnow())
    assert client.get("/healthz").json["worker"]["status"] == "ok"
    assert "Arbetar: senast aktiv" in client.get("/admin/").text
    survey = survey_app(config)
    survey_client = survey.test_client()
    sign_in(survey, survey_client, role="evaluator", email="eva@vastkom.example")
    assert "Arbetar: senast aktiv" in survey_client.get("/admin/").text
