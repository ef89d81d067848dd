"""Issue 9: large subscriber files are imported by the worker as a job (progress, then the same
line-numbered report); every import works in set statements; other columns become attributes."""

from __future__ import annotations

import io
import threading

from sqlalchemy import func, select

from services.mailer.subscriptions import csvio
from services.worker import job_functions
from shared.clock import utcnow
from shared.jobs import run_next_job
from shared.models import ImportRow, Job, OutboxMail, Subscriber, Subscription, SubscriptionEvent, Suppression

ROWS = 2500  # over INLINE_MAX_ROWS: a job


def big_file() -> bytes:
    lines = ["E-post;Namn;Kommun;Roll"]
    lines += [f"person{n}@exempel.se;Person {n};{'Ale' if n % 2 else 'Borås'};IT" for n in range(ROWS)]
    lines += ["inte-en-adress;X;Ale;IT", "PERSON7@exempel.se;Sju igen;Ale;IT", "spärrad@exempel.se;S;Ale;IT"]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def test_a_large_file_runs_as_a_job_with_progress_and_the_report(app, db, editor_client):
    with db.transaction() as session:
        session.add(Subscriber(email="Person3@exempel.se", name="", language="sv", created_at=utcnow()))
        session.add(Suppression(email="spärrad@exempel.se", reason="hard_bounce", created_at=utcnow()))
    response = editor_client.post(
        "/admin/subscribers/import",
        data={"file": (io.BytesIO(big_file()), "stor.csv"), "list_id": "1"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 303 and "/admin/jobs/" in response.location
    with db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Subscription)) == 0  # nothing yet: the worker does it
    contexts = {"mailer": app.test_request_context}
    assert run_next_job(db, app.extensions["utskick"].config, job_functions(), threading.Event(), contexts) == 1
    with db.sessions() as session:
        job = session.scalar(select(Job))
        assert job.status == "done", job.error
        assert job.done == job.total and job.total > ROWS  # the lines, then the mails
        assert "Importerade: 2500" in job.report["summary"]
        problems = {(p["line"], p["value"]) for p in job.report["problems"]}
        assert (ROWS + 2, "inte-en-adress") in problems and (ROWS + 3, "PERSON7@exempel.se") in problems
        assert (ROWS + 4, "spärrad@exempel.se") in problems
        assert session.scalar(select(func.count()).select_from(Subscription)) == ROWS
        # The person already in the register (another case) is not added twice, and gets the name.
        assert session.scalar(select(func.count()).where(func.lower(Subscriber.email) == "person3@exempel.se")) == 1
        assert session.scalar(select(Subscriber.name).where(Subscriber.email == "Person3@exempel.se")) == "Person 3"
        attributes = session.scalar(select(Subscriber.attributes).where(Subscriber.email == "person1@exempel.se"))
        assert attributes == {"Kommun": "Ale", "Roll": "IT"}
        assert session.scalar(select(func.count()).select_from(OutboxMail)) == ROWS  # one confirmation each
        assert session.scalar(select(func.count()).where(SubscriptionEvent.kind == "confirmation_sent")) == ROWS
        assert session.scalar(select(func.count()).select_from(ImportRow)) == 0  # staged lines are gone
    page = editor_client.get(response.location)
    assert "Importerade: 2500" in page.text and "inte-en-adress" in page.text


def test_a_small_file_is_imported_at_once_and_repeated_lines_keep_the_first_name(app, db, editor_client):
    data = b"email;name;Kommun\r\nett@exempel.se;;Ale\r\nETT@exempel.se;Ett Namn;Kil\r\n"
    assert not csvio.runs_as_job(data)
    page = editor_client.post(
        "/admin/subscribers/import",
        data={"file": (io.BytesIO(data), "liten.csv"), "list_id": "1", "consented": "y"},
        content_type="multipart/form-data",
    )
    assert "Importerade: 1" in page.text and "<td>3</td><td>ETT@exempel.se</td><td>2</td>" in page.text
    with db.sessions() as session:
        person = session.scalar(select(Subscriber))
        assert (person.email, person.name, person.attributes) == ("ett@exempel.se", "Ett Namn", {"Kommun": "Ale"})
