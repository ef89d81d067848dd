"""`make run`'s demo: what a newcomer finds, seeded once however often it starts."""

from sqlalchemy import func, select

from services.demo import seed
from shared.accounts import sign_in
from shared.models import Issue, Participant, Response, Subscription, Survey


def count(db, what, *where):
    with db.sessions() as session:
        return session.scalar(select(func.count()).select_from(what).where(*where))


def test_demo_is_seeded_once_and_usable(db, config, passwords):
    lines = seed(config, "admin@utskick.example", "demo-lösenord-2026")
    seed(config, "admin@utskick.example", "demo-lösenord-2026")
    assert any("/admin/surveys/" in line for line in lines)
    attempt = sign_in(db, passwords, config, "mailer", "admin@utskick.example", "demo-lösenord-2026", None)
    assert attempt.outcome == "ok"
    assert count(db, Subscription, Subscription.status == "active") == 40
    assert count(db, Issue) == 1
    assert count(db, Survey, Survey.status == "open") == 3
    assert count(db, Participant) == 1380
    # The reminder copy: everyone invited long enough ago for the reminder button at once.
    assert count(db, Participant, Participant.invited_at.is_not(None)) == 920
    assert count(db, Response, Response.status == "complete") == 300
    # The answered copy is anonymous like the fixture: no completed response points at a person.
    assert count(db, Response, Response.participant_id.is_not(None), Response.status == "complete") == 0
