"""Invitations and reminders: saving texts, who gets mail, suppression, double clicks, real delivery."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select, update

from services.survey.mailings import domain
from services.survey.responses.flow import find_participant
from services.survey.surveys.domain import SurveyStateError, close_survey
from shared.clock import utcnow
from shared.config import parse_mail_url
from shared.db import Database
from shared.jobs import JobContext
from shared.mail.outbox import deliver_due
from shared.mail.transport import open_transport
from shared.models import (
    Job,
    JobStatus,
    MailKind,
    OutboxMail,
    Participant,
    ParticipantLink,
    Suppression,
    Survey,
    SurveyMailing,
)

PEOPLE = "email,name,roll\nanna@ale.example,Anna Ek,IT-chef\nbo@bor.example,Bo Ås,Chef\ncia@cia.example,Cia,x\n"


def test_save_mail_texts_refuses_unknown_placeholders(app, db, make_survey):
    survey_id = make_survey()
    with app.test_request_context(), db.transaction() as s:
        survey = s.get(Survey, survey_id)
        texts = domain.MailTexts("Ämne", "Hej {förnamm}", "P", "{link}", "Eva", "eva@x.example", "", 2, 7)
        errors = domain.save_mail_texts(s, survey, texts)
        assert list(errors) == ["invitation_text", "reminder_text"]
        assert survey.invitation_text.startswith("Hej {förnamn}")


def test_save_mail_texts_refuses_line_breaks_in_subjects(app, db, make_survey):
    survey_id = make_survey()
    with app.test_request_context(), db.transaction() as s:
        survey = s.get(Survey, survey_id)
        texts = domain.MailTexts("Ä\r\nBcc: x@evil.example", "Hej {förnamn}", "P\x00", "Hej", "Eva", "e@x.se", "", 2, 7)
        errors = domain.save_mail_texts(s, survey, texts)
        assert sorted(errors) == ["invitation_subject", "reminder_subject"]
        assert "radbrytningar" in errors["invitation_subject"]
        assert "Bcc" not in survey.invitation_subject


def test_invitations_go_once_and_skip_suppressed(app, db, make_survey, config):
    survey_id = make_survey(participants=PEOPLE)
    with db.transaction() as s:
        s.add(Suppression(email="cia@cia.example", reason="hard_bounce", created_at=utcnow()))
    with app.test_request_context(), db.transaction() as s:
        report = domain.send_invitations(s, config, s.get(Survey, survey_id))
    assert (report.sent, report.suppressed) == (2, 1)
    with app.test_request_context(), db.transaction() as s:
        again = domain.send_invitations(s, config, s.get(Survey, survey_id))
    assert again.sent == 0
    with db.sessions() as s:
        mails = s.scalars(select(OutboxMail).order_by(OutboxMail.recipient)).all()
        assert [m.recipient for m in mails] == ["anna@ale.example", "bo@bor.example"]
        body = mails[0].message.decode().replace("=\r\n", "")
        token = re.search(r"http://survey\.test/s/([A-Za-z0-9_\-]+)", body).group(1)
        assert find_participant(s, token).email == "anna@ale.example"
        assert s.scalar(select(Participant.invited_at).where(Participant.email == "cia@cia.example")) is None


def test_draft_survey_cannot_send(app, db, make_survey, config):
    survey_id = make_survey(open=False, participants=PEOPLE)
    with app.test_request_context(), db.transaction() as s, pytest.raises(SurveyStateError):
        domain.send_invitations(s, config, s.get(Survey, survey_id))


def test_reminders_only_to_those_due(app, db, make_survey, config):
    people = "email,name\n" + "".join(f"p{i}@x.example,P{i}\n" for i in range(6))
    survey_id = make_survey(participants=people)
    now = utcnow()
    long_ago = now - timedelta(days=8)
    with db.transaction() as s:
        p = {x.email: x for x in s.scalars(select(Participant))}
        for person in p.values():
            person.invited_at = long_ago
        p["p0@x.example"].invited_at = None  # never invited
        p["p1@x.example"].completed_at = now  # answered
        p["p2@x.example"].declined_at = now  # declined
        p["p3@x.example"].reminders_sent, p["p3@x.example"].last_reminded_at = 2, long_ago  # at the limit
        p["p4@x.example"].invited_at = now - timedelta(days=2)  # too recent
        # p5 is due
    with app.test_request_context(), db.transaction() as s:
        survey = s.get(Survey, survey_id)
        assert domain.count_due(s, survey) == (1, 1)
        report = domain.send_reminders(s, config, survey)
    assert report.sent == 1
    with db.sessions() as s:
        assert s.scalars(select(OutboxMail.recipient)).all() == ["p5@x.example"]
        p5 = s.scalar(select(Participant).where(Participant.email == "p5@x.example"))
        assert p5.reminders_sent == 1 and p5.last_reminded_at > long_ago
        assert "Påminnelse" in s.scalar(select(OutboxMail.subject))
    with app.test_request_context(), db.transaction() as s:
        assert domain.send_reminders(s, config, s.get(Survey, survey_id)).sent == 0  # interval not passed


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # parallel transactions need a server
def test_concurrent_clicks_send_one_invitation_each(app, make_survey, config, database_url):
    survey_id = make_survey(participants=PEOPLE)
    barrier = threading.Barrier(4)

    def click():
        database = Database(database_url)
        barrier.wait()
        with app.test_request_context(), database.transaction() as s:
            domain.send_invitations(s, config, s.get(Survey, survey_id))
        database.dispose()

    threads = [threading.Thread(target=click) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    database = Database(database_url)
    with database.sessions() as s:
        assert s.scalar(select(func.count()).select_from(OutboxMail)) == 3
    database.dispose()


def test_invitation_delivered_over_smtp_has_link_and_decline(app, db, make_survey, config, smtp_server):
    survey_id = make_survey(participants=PEOPLE)
    with app.test_request_context(), db.transaction() as s:
        domain.send_invitations(s, config, s.get(Survey, survey_id))
    transport = open_transport(parse_mail_url(smtp_server.url, config.var_dir))
    deliver_due(db, transport)
    received = smtp_server.wait_for(3)
    anna = next(m for m in received if "anna@ale.example" in m.rcpt_tos)
    text = anna.message.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")
    html = anna.message.get_body(preferencelist=("html",)).get_content()
    token = re.search(r"http://survey\.test/s/([A-Za-z0-9_\-]+)\n", text).group(1)
    assert "Hej Anna!" in text and f"http://survey.test/s/{token}\n" in text
    assert f"http://survey.test/s/{token}/decline" in text
    assert "Kontakta Eva Utvärderare, eva@vastkom.example." in text
    assert f'href="http://survey.test/s/{token}"' in html
    assert anna.message["Subject"].startswith("Inbjudan: Utvärdering av Program Millennium")
    assert anna.message["List-Unsubscribe"] == f"<http://survey.test/s/{token}/decline>"
    assert anna.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_the_database_keeps_only_hashes_of_personal_links(app, db, make_survey, config):
    """The token is in the mail and nowhere else; a reminder's new link and the invitation's both work."""
    survey_id = make_survey(participants="email,name\nanna@ale.example,Anna Ek\n")
    with app.test_request_context(), db.transaction() as s:
        domain.send_invitations(s, config, s.get(Survey, survey_id), now=utcnow() - timedelta(days=8))
    with app.test_request_context(), db.transaction() as s:
        assert domain.send_reminders(s, config, s.get(Survey, survey_id)).sent == 1
    with db.sessions() as s:
        bodies = [
            m.decode().replace("=\r\n", "") for m in s.scalars(select(OutboxMail.message).order_by(OutboxMail.id))
        ]
        tokens = [re.search(r"http://survey\.test/s/([A-Za-z0-9_\-]+)", body).group(1) for body in bodies]
        assert len(set(tokens)) == 2
        assert all(find_participant(s, token).email == "anna@ale.example" for token in tokens)
        assert find_participant(s, tokens[0][:-1] + ("A" if tokens[0][-1] != "A" else "B")) is None
    with db.engine.connect() as conn:
        stored = "\n".join(
            str(row)
            for table in ("participants", "participant_links")
            for row in conn.exec_driver_sql(f"SELECT * FROM {table}")
        )
    assert all(token not in stored for token in tokens)


def _run_sending_job(db, config, stop):
    from services.worker import job_functions, service_contexts
    from shared.jobs import run_next_job

    return run_next_job(db, config, job_functions(), stop, service_contexts(config))


def test_the_job_queues_everyone_at_once_then_writes_the_mails_in_batches(app, db, make_survey, config, monkeypatch):
    """Everyone is queued at once (no second send takes them); a worker stopped then leaves them queued,
    and the job taken up again writes them in batches without queuing twice or doubling a mail."""
    monkeypatch.setattr(domain, "BATCH", 2)
    people = "email,name\n" + "".join(f"p{n}@x.example,P {n}\n" for n in range(5))
    survey_id = make_survey(participants=people)
    with db.transaction() as s:
        s.add(Suppression(email="p4@x.example", reason="hard_bounce", created_at=utcnow()))
    with app.test_request_context(), db.transaction() as s:
        job_id = domain.start_sending(
            s, s.get(Survey, survey_id), MailKind.SURVEY_INVITATION, created_by=None, return_path=""
        ).id
    stopping = threading.Event()
    stopping.set()  # the worker is asked to stop: the job stops at its first report
    assert _run_sending_job(db, config, stopping) == 1
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(OutboxMail)) == 0
        assert domain.count_due(s, s.get(Survey, survey_id)) == (0, 0)  # the queued are not "not invited"
        job = s.get(Job, job_id)
        assert (job.status, job.done, job.total) == (JobStatus.QUEUED, 0, 4)
    reports = []
    monkeypatch.setattr(JobContext, "progress", lambda self, done, total=None, checkpoint=None: reports.append(done))
    assert _run_sending_job(db, config, threading.Event()) == 1
    assert reports == [0, 2, 4]
    with db.sessions() as s:
        recipients = s.scalars(select(OutboxMail.recipient).order_by(OutboxMail.recipient)).all()
        assert recipients == [f"p{n}@x.example" for n in range(4)]
        assert s.scalar(select(func.count()).where(Participant.invited_at.is_not(None))) == 4
        assert s.scalar(select(func.count()).select_from(SurveyMailing)) == 1
        job = s.get(Job, job_id)
        assert (job.status, job.done, job.total) == (JobStatus.DONE, 4, 4)
        assert job.report["summary"] == ["4 mejl lades i utkorgen."]


def test_the_job_summary_counts_the_mails_written_and_says_why_the_others_were_dropped(
    app, db, make_survey, config, monkeypatch
):
    """The survey closes after the first batch: the report counts the two mails written, not the four queued."""
    monkeypatch.setattr(domain, "BATCH", 2)
    survey_id = make_survey(participants="email,name\n" + "".join(f"p{n}@x.example,P {n}\n" for n in range(4)))
    with app.test_request_context(), db.transaction() as s:
        job_id = domain.start_sending(
            s, s.get(Survey, survey_id), MailKind.SURVEY_INVITATION, created_by=None, return_path=""
        ).id
    report = JobContext.progress

    def progress(self, done, total=None, checkpoint=None):
        report(self, done, total, checkpoint)
        if done == 2:
            with app.test_request_context(), db.transaction() as s:
                close_survey(s, s.get_one(Survey, survey_id))

    monkeypatch.setattr(JobContext, "progress", progress)
    assert _run_sending_job(db, config, threading.Event()) == 1
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(OutboxMail)) == 2
        assert s.get_one(Job, job_id).report["summary"] == [
            "2 mejl lades i utkorgen.",
            "2 mejl skickades inte: enkäten stängdes innan de hann skrivas.",
        ]


def test_the_reminder_job_summary_counts_those_who_answered_or_declined_meanwhile(app, db, make_survey, config):
    survey_id = make_survey(participants=PEOPLE)
    with app.test_request_context(), db.transaction() as s:
        domain.send_invitations(s, config, s.get(Survey, survey_id), now=utcnow() - timedelta(days=8))
        job_id = domain.start_sending(
            s, s.get(Survey, survey_id), MailKind.SURVEY_REMINDER, created_by=None, return_path=""
        ).id
    stopping = threading.Event()
    stopping.set()  # queued, then stopped at the first report: the answers come before the mails are written
    assert _run_sending_job(db, config, stopping) == 1
    with db.transaction() as s:
        s.execute(update(Participant).where(Participant.email == "anna@ale.example").values(completed_at=utcnow()))
        s.execute(update(Participant).where(Participant.email == "bo@bor.example").values(declined_at=utcnow()))
    assert _run_sending_job(db, config, threading.Event()) == 1
    with db.sessions() as s:
        assert s.get_one(Job, job_id).report["summary"] == [
            "1 mejl lades i utkorgen.",
            "2 påminnelser skickades inte: mottagarna svarade eller avböjde innan de hann skrivas.",
        ]


def test_a_cancelled_job_mails_nobody_more_and_leaves_them_uninvited(app, db, make_survey, config, monkeypatch):
    monkeypatch.setattr(domain, "BATCH", 2)
    people = "email,name\n" + "".join(f"p{n}@x.example,P {n}\n" for n in range(5))
    survey_id = make_survey(participants=people)
    with app.test_request_context(), db.transaction() as s:
        job = domain.start_sending(
            s, s.get(Survey, survey_id), MailKind.SURVEY_INVITATION, created_by=None, return_path=""
        )
        job.cancel_requested = True  # "Avbryt" pressed while it runs: seen at its first report
    assert _run_sending_job(db, config, threading.Event()) == 1
    with app.test_request_context(), db.transaction() as s:
        assert domain.write_mails(s, config, limit=None) == 0  # nothing left for the worker either
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(OutboxMail)) == 0
        assert domain.count_due(s, s.get(Survey, survey_id)) == (5, 0)


def test_a_send_is_a_fixed_number_of_statements_whoever_many_it_goes_to(app, db, make_survey):
    """The fan-out is set work: queuing 40 people takes the statements queuing 2 does."""

    def statements_to_queue(count: int) -> int:
        people = "email,name\n" + "".join(f"p{n}@x{count}.example,P {n}\n" for n in range(count))
        survey_id = make_survey(participants=people)
        seen: list[str] = []
        listener = lambda *args: seen.append(args[2])  # noqa: E731 (the statement, from before_cursor_execute)
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            with app.test_request_context(), db.transaction() as s:
                mailing = domain.fan_out(s, s.get(Survey, survey_id), MailKind.SURVEY_INVITATION, utcnow())
                assert mailing is not None and mailing.recipients == count
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(seen)

    assert statements_to_queue(2) == statements_to_queue(40)


def test_a_batch_cut_short_leaves_its_mails_waiting_neither_lost_nor_doubled(app, db, make_survey, config):
    survey_id = make_survey(participants=PEOPLE)
    with app.test_request_context(), db.transaction() as s:
        domain.fan_out(s, s.get(Survey, survey_id), MailKind.SURVEY_INVITATION, utcnow())

    class Killed(Exception):
        pass

    # The worker dies after writing a batch but before it commits: nothing of the batch stays.
    with pytest.raises(Killed), app.test_request_context(), db.transaction() as s:
        assert domain.write_mails(s, config, limit=2) == 2
        raise Killed
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(OutboxMail)) == 0
        assert s.scalar(select(func.count()).select_from(ParticipantLink)) == 0
    with app.test_request_context(), db.transaction() as s:
        assert domain.write_mails(s, config, limit=2) == 2
    with app.test_request_context(), db.transaction() as s:
        assert domain.write_mails(s, config, limit=2) == 1
        assert domain.write_mails(s, config, limit=2) == 0
    with db.sessions() as s:
        recipients = s.scalars(select(OutboxMail.recipient).order_by(OutboxMail.recipient)).all()
        assert recipients == ["anna@ale.example", "bo@bor.example", "cia@cia.example"]
        assert s.scalar(select(func.count()).select_from(ParticipantLink)) == 3


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # parallel transactions need a server
def test_two_workers_write_one_mailing_between_them_without_doubles(app, make_survey, config, database_url):
    survey_id = make_survey(participants=PEOPLE)
    first, second = Database(database_url), Database(database_url)
    with app.test_request_context(), first.transaction() as s:
        domain.fan_out(s, s.get(Survey, survey_id), MailKind.SURVEY_INVITATION, utcnow())
    with app.test_request_context(), first.transaction() as a:
        assert domain.write_mails(a, config, limit=2) == 2
        with second.transaction() as b:  # while the first holds its batch, the second takes the rest
            assert domain.write_mails(b, config, limit=10) == 1
    with first.sessions() as s:
        recipients = s.scalars(select(OutboxMail.recipient).order_by(OutboxMail.recipient)).all()
        assert recipients == ["anna@ale.example", "bo@bor.example", "cia@cia.example"]
    first.dispose()
    second.dispose()


def test_a_reminder_is_not_written_to_someone_who_answered_after_it_was_sent(app, db, make_survey, config):
    survey_id = make_survey(participants=PEOPLE)
    with app.test_request_context(), db.transaction() as s:
        domain.send_invitations(s, config, s.get(Survey, survey_id), now=utcnow() - timedelta(days=8))
    with app.test_request_context(), db.transaction() as s:
        mailing = domain.fan_out(s, s.get(Survey, survey_id), MailKind.SURVEY_REMINDER, utcnow())
        assert mailing is not None and mailing.recipients == 3
    with db.transaction() as s:
        s.execute(update(Participant).where(Participant.email == "anna@ale.example").values(completed_at=utcnow()))
        s.execute(update(Participant).where(Participant.email == "bo@bor.example").values(declined_at=utcnow()))
    with app.test_request_context(), db.transaction() as s:
        assert domain.write_mails(s, config, limit=None) == 3
    with db.sessions() as s:
        reminded = s.scalars(select(OutboxMail.recipient).where(OutboxMail.kind == MailKind.SURVEY_REMINDER)).all()
        assert reminded == ["cia@cia.example"]
