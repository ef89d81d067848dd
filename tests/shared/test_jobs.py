"""Jobs: started by a page, run by the worker with progress, cancelled, taken up again after a crash,
and followed on their page (progress bar, report, files) in the service that started them."""

import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import update

from shared.clock import utcnow
from shared.jobs import MAX_ATTEMPTS, JobContext, JobProblem, cancel_job, run_next_job, start_job
from shared.models import Job, JobKind, JobStatus

KIND = JobKind.RESULTS_EXPORT


def start(db, **kwargs):
    with db.transaction() as session:
        job = start_job(session, KIND, service="survey", title="Export av svar", **kwargs)
        session.flush()
        return job.id


def job(db, job_id) -> Job:
    with db.sessions() as session:
        return session.get(Job, job_id)


def run(db, config, function, stop=None) -> int:
    return run_next_job(db, config, {KIND: function}, stop or threading.Event())


def test_a_job_runs_reports_progress_and_keeps_its_report_and_files(db, config):
    seen = []

    def export(ctx: JobContext):
        for done in (10, 20, 30):
            ctx.progress(done, total=30)
            seen.append(job(db, ctx.job_id).done)
        ctx.summary.append("30 svar exporterade")
        ctx.add_file("svar.csv", "text/csv", "å,ä,ö\n".encode())

    job_id = start(db, params={"format": "csv"})
    assert run(db, config, export) == 1
    assert run(db, config, export) == 0  # nothing more to do
    finished = job(db, job_id)
    assert seen == [10, 20, 30]
    assert (finished.status, finished.done, finished.total, finished.percent) == (JobStatus.DONE, 30, 30, 100)
    assert finished.report == {"summary": ["30 svar exporterade"], "problems": []}
    assert finished.finished_at is not None and finished.lease_until is None


def test_a_problem_fails_the_job_with_its_message_and_a_bug_with_its_cause(db, config):
    def refuse(ctx):
        raise JobProblem("Filen har ingen kolumn för e-postadress.")

    def crash(ctx):
        raise KeyError("email")

    first, second = start(db), start(db)
    run(db, config, refuse)
    run(db, config, crash)
    assert (job(db, first).status, job(db, first).error) == (
        JobStatus.FAILED,
        "Filen har ingen kolumn för e-postadress.",
    )
    assert (job(db, second).status, job(db, second).error) == (JobStatus.FAILED, "KeyError: 'email'")


def test_cancelling_a_waiting_job_means_it_never_runs(db, config):
    job_id = start(db)
    with db.transaction() as session:
        assert cancel_job(session, session.get(Job, job_id))
    assert run(db, config, lambda ctx: pytest.fail("a cancelled job ran")) == 0
    assert job(db, job_id).status == JobStatus.CANCELLED


def test_cancelling_a_running_job_stops_it_at_its_next_progress_report(db, config):
    job_id = start(db)
    batches = []

    def long_export(ctx):
        for n in range(1, 100):
            if n == 3:
                with db.transaction() as session:  # someone presses Avbryt on the job's page
                    cancel_job(session, session.get(Job, job_id))
            ctx.progress(n, total=99)
            batches.append(n)

    run(db, config, long_export)
    assert batches == [1, 2]
    cancelled = job(db, job_id)
    assert (cancelled.status, cancelled.done) == (JobStatus.CANCELLED, 3)
    with db.transaction() as session:
        assert not cancel_job(session, session.get(Job, job_id))  # finished: nothing to cancel


def test_a_job_whose_worker_died_is_taken_up_again_from_its_checkpoint(db, config):
    job_id = start(db)
    resumed_from = []

    def import_rows(ctx):
        resumed_from.append(ctx.checkpoint.get("line", 0))
        ctx.progress(500, total=1000, checkpoint={"line": 500})
        if len(resumed_from) == 1:
            raise SystemExit  # the worker process dies here: nothing after this line runs

    with pytest.raises(SystemExit):
        run(db, config, import_rows)
    assert job(db, job_id).status == JobStatus.RUNNING
    assert run(db, config, import_rows) == 0  # the lease still holds: no other worker takes it
    with db.transaction() as session:
        session.execute(update(Job).where(Job.id == job_id).values(lease_until=utcnow() - timedelta(seconds=1)))
    assert run(db, config, import_rows) == 1
    assert resumed_from == [0, 500]
    assert job(db, job_id).status == JobStatus.DONE


def test_a_job_interrupted_again_and_again_fails_instead_of_looping(db, config):
    job_id = start(db)
    with db.transaction() as session:
        session.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(status=JobStatus.RUNNING, attempts=MAX_ATTEMPTS, lease_until=utcnow())
        )
    assert run(db, config, lambda ctx: pytest.fail("ran a fourth time")) == 1
    failed = job(db, job_id)
    assert failed.status == JobStatus.FAILED and "interrupted" in failed.error


def test_a_stopping_worker_hands_the_job_back_without_counting_an_attempt(db, config):
    job_id = start(db)
    stop = threading.Event()

    def slow(ctx):
        stop.set()  # SIGTERM arrives while the job runs
        ctx.progress(1, total=10)
        pytest.fail("went on after the worker was asked to stop")

    run(db, config, slow, stop)
    handed_back = job(db, job_id)
    assert (handed_back.status, handed_back.attempts, handed_back.done) == (JobStatus.QUEUED, 0, 1)


@pytest.fixture
def survey_staff(config, db):
    from services.survey import create_app
    from shared.accounts import create_admin
    from shared.web.auth import start_session

    app = create_app(config)
    app.config["WTF_CSRF_ENABLED"] = False
    with db.transaction() as session:
        user = create_admin(
            session, app.extensions["utskick"].passwords, "eva@vastkom.example", "ett-langt-losenord", "evaluator"
        )
        user_id, version = user.id, user.session_version
    client = app.test_client()
    with client.session_transaction() as cookie:
        start_session(cookie, user_id, version)
    return client


def test_the_job_page_shows_progress_then_the_report_and_the_file(survey_staff, db, config):
    job_id = start(db, return_path="/admin/surveys/1", total=460)
    page = survey_staff.get(f"/admin/jobs/{job_id}").get_data(as_text=True)
    assert "Export av svar" in page and "Väntar på sin tur" in page
    assert re.search(r'<progress[^>]*max="100"[^>]*value="0"', page)
    assert "Avbryt" in page
    assert survey_staff.get(f"/admin/jobs/{job_id}.json").json == {
        "status": "queued",
        "status_label": "Väntar på sin tur",
        "finished": False,
        "done": 0,
        "total": 460,
        "percent": 0,
        "counted": "",
    }

    def export(ctx):
        ctx.progress(230)
        assert survey_staff.get(f"/admin/jobs/{job_id}.json").json["percent"] == 50
        ctx.summary.append("460 svar exporterade")
        ctx.add_file("millennium.csv", "text/csv; charset=utf-8", "fråga,svar\n".encode())

    run(db, config, export)
    page = survey_staff.get(f"/admin/jobs/{job_id}").get_data(as_text=True)
    assert "Klart" in page and "460 svar exporterade" in page and "Avbryt" not in page
    link = re.search(r'href="(/admin/jobs/\d+/files/\d+)"', page).group(1)
    download = survey_staff.get(link)
    assert download.data.decode() == "fråga,svar\n"
    assert 'filename="millennium.csv"' in download.headers["Content-Disposition"]
    assert "Export av svar" in survey_staff.get("/admin/jobs/").get_data(as_text=True)


def test_a_job_is_seen_only_in_the_service_that_started_it_and_only_signed_in(survey_staff, db, config):
    from services.mailer import create_app

    with db.transaction() as session:
        mailer_job = start_job(session, JobKind.SUBSCRIBER_IMPORT, service="mailer", title="Import").id
    assert survey_staff.get(f"/admin/jobs/{mailer_job}").status_code == 404
    assert survey_staff.get(f"/admin/jobs/{mailer_job}.json").status_code == 404
    assert survey_staff.get("/admin/jobs/999999").status_code == 404
    anonymous = create_app(config).test_client()
    assert anonymous.get(f"/admin/jobs/{mailer_job}").status_code == 302


def test_cancel_button_on_the_job_page(survey_staff, db, config):
    job_id = start(db)
    response = survey_staff.post(f"/admin/jobs/{job_id}/cancel", follow_redirects=True)
    assert "Avbrutet" in response.get_data(as_text=True)
    assert job(db, job_id).status == JobStatus.CANCELLED
