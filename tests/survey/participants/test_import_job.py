"""Issue 9: the participant import reads a file in batches (flat memory), large files run as a job
with a progress bar and the same line-numbered report, and the import has its own page."""

from __future__ import annotations

import io
import threading

from sqlalchemy import func, select

from services.survey.participants import domain
from services.worker import job_functions, service_contexts
from shared.jobs import run_next_job
from shared.models import Job, Participant
from tests.survey.conftest import post_form

ROWS = 2500  # over INLINE_MAX_ROWS: a job


def big_file() -> bytes:
    lines = ["email;namn;kommun"]
    lines += [f"person{n}@exempel.se;Person {n};{'Ale' if n % 2 else 'Borås'}" for n in range(ROWS)]
    lines += ["inte-en-adress;X;Ale", "PERSON7@exempel.se;Sju igen;Kil", "person1@exempel.se;;"]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def test_a_large_file_runs_as_a_job_with_progress_and_a_line_numbered_report(app, db, evaluator, make_survey):
    survey_id = make_survey(participants="email,name\nperson3@exempel.se,\n")
    page = f"/admin/surveys/{survey_id}/participants/import"
    response = post_form(
        evaluator, page, {"file": (io.BytesIO(big_file()), "stor.csv")}, content_type="multipart/form-data"
    )
    assert response.status_code == 303 and "/admin/jobs/" in response.location
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Participant)) == 1  # the worker does it
    config = app.extensions["utskick"].config
    assert run_next_job(db, config, job_functions(), threading.Event(), service_contexts(config)) == 1
    with db.sessions() as s:
        job = s.scalar(select(Job))
        assert job.status == "done", job.error
        assert job.done == job.total and job.total > ROWS
        assert job.report["summary"] == ["2499 nya deltagare", "1 befintliga uppdaterade", "2 dubbletter sammanslagna"]
        assert job.report["problems"] == [
            {"line": ROWS + 2, "value": "", "message": "”inte-en-adress” är inte en giltig e-postadress."}
        ]
        assert s.scalar(select(func.count()).select_from(Participant)) == ROWS
        seven = s.scalar(select(Participant).where(Participant.email == "person7@exempel.se"))
        assert (seven.name, seven.attributes) == ("Sju igen", {"kommun": "Kil"})
        assert s.scalar(select(Participant.name).where(Participant.email == "person3@exempel.se")) == "Person 3"
    shown = evaluator.get(response.location).get_data(as_text=True)
    assert "2499 nya deltagare" in shown and "inte-en-adress" in shown


def test_an_interrupted_job_goes_on_after_its_last_batch(app, db, make_survey, monkeypatch):
    """A restarted job skips the lines it committed and keeps counting from there."""
    survey_id = make_survey()
    monkeypatch.setattr(domain, "LOOKUP_PART", 1000)
    text = "email\n" + "".join(f"p{n}@x.example\n" for n in range(2500))
    first_part = "".join(text.splitlines(keepends=True)[:1001])
    with db.transaction() as s:
        domain.import_participants_csv(s, survey_id, first_part)
        now = s.scalar(select(Participant.created_at))
    resume = (1001, domain.ImportReport(added=1000), now)
    with db.transaction() as s:
        report = domain.import_participants_csv(s, survey_id, text, resume=resume)
    assert (report.added, report.updated, report.merged) == (2500, 0, 0)


def test_the_import_reads_its_lines_in_batches_never_the_whole_file(db, make_survey, monkeypatch):
    """Memory stays flat: at each batch written, only that batch's lines have been read."""
    survey_id = make_survey()
    monkeypatch.setattr(domain, "LOOKUP_PART", 100)
    read = 0

    def lines():
        nonlocal read
        yield "email,name\n"
        for n in range(1000):
            read += 1
            yield f"p{n}@x.example,P {n}\n"

    read_at_batch: list[int] = []
    save = domain._save_batch

    def recording(*args):
        read_at_batch.append(read)
        save(*args)

    monkeypatch.setattr(domain, "_save_batch", recording)
    with db.transaction() as s:
        report = domain.import_participants_csv(s, survey_id, lines())
    assert report.added == 1000
    assert read_at_batch == list(range(100, 1001, 100))


def test_import_page_says_what_is_wrong_and_a_small_file_is_imported_at_once(evaluator, db, make_survey):
    survey_id = make_survey()
    page = f"/admin/surveys/{survey_id}/participants/import"
    assert evaluator.get(page).status_code == 200
    empty = post_form(evaluator, page, {}, content_type="multipart/form-data")
    html = empty.get_data(as_text=True)
    assert empty.status_code == 422 and 'id="file-error"' in html and "Välj en CSV-fil att läsa in." in html
    small = post_form(
        evaluator,
        page,
        {"file": (io.BytesIO(b"email,name\nett@x.example,Ett\nfel,X\n"), "liten.csv")},
        content_type="multipart/form-data",
    )
    html = small.get_data(as_text=True)
    assert small.status_code == 200 and "1 nya deltagare" in html and "rad 3:" in html
    assert not domain.runs_as_job(b"email\n" + b"a@x.example\n" * 999)
    assert domain.runs_as_job(b"email\n" + b"a@x.example\n" * 1000)


def test_add_page_has_its_own_address(evaluator, make_survey):
    survey_id = make_survey()
    page = f"/admin/surveys/{survey_id}/participants/new"
    html = evaluator.get(page).get_data(as_text=True)
    assert "<h1>Lägg till en deltagare</h1>" in html
    bad = post_form(evaluator, page, {"email": "", "name": "Namnet"})
    assert bad.status_code == 422 and 'value="Namnet"' in bad.get_data(as_text=True)
    assert 'id="email-error"' in bad.get_data(as_text=True)


def test_a_file_of_bad_lines_lists_the_first_ones_and_counts_the_rest(db, make_survey, monkeypatch):
    monkeypatch.setattr(domain, "REPORT_LIMIT", 3)
    with db.transaction() as s:
        report = domain.import_participants_csv(s, make_survey(), "email\n" + "fel\n" * 5)
    assert [line for line, _message in report.errors] == [2, 3, 4] and report.error_count == 5
    assert report.lines()[-1] == "… och 2 rader till med fel"


def test_a_job_stopped_after_a_batch_goes_on_from_there_with_the_same_report(app, db, make_survey, monkeypatch):
    from services.survey.participants import jobs
    from shared.models import Survey

    monkeypatch.setattr(domain, "LOOKUP_PART", 1000)
    with app.test_request_context(), db.transaction() as s:
        survey = s.get(Survey, make_survey())
        editor = type("Editor", (), {"id": None})()
        jobs.start_import(s, survey, big_file(), filename="stor.csv", editor=editor)
    config = app.extensions["utskick"].config
    stop = threading.Event()
    save = domain._save_batch

    def stop_after_first(*args):
        save(*args)
        stop.set()  # the worker is asked to stop: its next progress report hands the job back

    monkeypatch.setattr(domain, "_save_batch", stop_after_first)
    assert run_next_job(db, config, job_functions(), stop, service_contexts(config)) == 1
    with db.sessions() as s:
        job = s.scalar(select(Job))
        assert job.status == "queued" and job.checkpoint["line"] == 1001
        assert s.scalar(select(func.count()).select_from(Participant)) == 1000
    monkeypatch.setattr(domain, "_save_batch", save)
    assert run_next_job(db, config, job_functions(), threading.Event(), service_contexts(config)) == 1
    with db.sessions() as s:
        job = s.scalar(select(Job))
        assert job.status == "done", job.error
        assert job.report["summary"] == ["2500 nya deltagare", "0 befintliga uppdaterade", "2 dubbletter sammanslagna"]
        assert [p["line"] for p in job.report["problems"]] == [ROWS + 2]
        assert s.scalar(select(func.count()).select_from(Participant)) == ROWS
