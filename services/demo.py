"""Demo data for ``make run``, from the fixtures handed to the project (in ``demo_data/``):

- an admin account;
- 40 consenting subscribers on the default list and the demo issue as a draft, so an editor can
  preview, test-send and send it, and watch it go out;
- the Millennium survey with its 460 participants, open and not yet sent (for the invitation flow);
- a copy of it where everyone was invited ten days ago and 300 people have answered (for results);
- a copy where everyone was invited eight days ago and nobody has answered, with automatic reminders
  set (7 and 14 days) but paused, so reminders can be tried at once, by the button or by resuming.

Each copy's title says which it is.

Seeding twice changes nothing.
"""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select, update

from shared.accounts import Passwords, create_admin
from shared.clock import utcnow
from shared.config import Config
from shared.db import Database
from shared.models import AdminUser, Issue, Participant, Subscription, Survey
from shared.tokens import Tokens

# The demo data, which the tests and benchmarks use as their fixtures too: the one place that names it.
DEMO_DATA = Path(__file__).resolve().parent / "demo_data"
INVITE_TITLE_SUFFIX = " (demo: skicka inbjudningar)"
ANSWERED_TITLE_SUFFIX = " (demo med svar)"
REMINDER_TITLE_SUFFIX = " (demo: påminnelser)"
FREE_TEXTS = [
    "Tydligare mål från början hade hjälpt oss mycket.",
    "Vi behöver mer tid för utbildning av personalen innan införandet.",
    "Samverkan mellan kommunerna har fungerat bra, särskilt inom delregionen.",
    "Pausen gjorde att vi tappade fart och nyckelpersoner.",
    "Bättre information om tidplanen och vad som förväntas av oss.",
]


def seed(config: Config, email: str, password: str) -> list[str]:
    """Create what is missing; return lines describing the demo for the start-up summary."""
    from services.survey import create_app

    db = Database(config.database_url)
    try:
        # Mail texts and translations need an application context, as in a request.
        with create_app(config).app_context(), db.transaction() as session:
            if session.scalar(select(AdminUser).where(AdminUser.email == email)) is None:
                create_admin(session, Passwords.for_config(config), email, password, "admin")
            _seed_newsletter(session, config)
            survey_ids = _seed_surveys(session)
    finally:
        db.dispose()
    return [
        f"Demo survey (send invitations): {config.survey_url}/admin/surveys/{survey_ids[0]}",
        f"Demo survey with 300 answers:   {config.survey_url}/admin/surveys/{survey_ids[1]}",
        *(f"Demo survey (try reminders):    {config.survey_url}/admin/surveys/{i}" for i in survey_ids[2:]),
        f"Survey builder (new survey):    {config.survey_url}/admin/surveys/new",
    ]


def _seed_newsletter(session, config: Config) -> None:
    from services.mailer.issues.domain import create_issue_from_markdown_file
    from services.mailer.subscriptions.csvio import import_subscribers, read_subscriber_csv
    from services.mailer.subscriptions.domain import find_list

    if session.scalar(select(func.count()).select_from(Subscription)) == 0:
        newsletter_list = find_list(session)
        if newsletter_list is None:
            raise RuntimeError("no newsletter list for the demo subscribers (the first migration makes one)")
        rows = ["email,name"] + [f"lasare{n:02d}@kommun.example,Läsare {n}" for n in range(1, 41)]
        parsed = read_subscriber_csv("\n".join(rows).encode())
        import_subscribers(
            session,
            config,
            Tokens(config.secret_keys),
            newsletter_list,
            parsed,
            consented=True,
            editor="demo",
        )
    if session.scalar(select(func.count()).select_from(Issue)) == 0:
        create_issue_from_markdown_file(session, DEMO_DATA / "issue-demo.md")


def _seed_surveys(session) -> list[int]:
    from services.survey.participants.domain import import_participants_csv
    from services.survey.surveys.domain import open_survey, set_closes

    existing = session.scalars(select(Survey.id).order_by(Survey.id)).all()
    if existing:
        return list(existing[:3])
    closes = (utcnow() + timedelta(days=30)).date().isoformat()
    participants_csv = (DEMO_DATA / "participants-millennium.csv").read_text(encoding="utf-8")
    ids = []
    for suffix in (INVITE_TITLE_SUFFIX, ANSWERED_TITLE_SUFFIX, REMINDER_TITLE_SUFFIX):
        survey = _import_survey(session)
        survey.title += suffix
        survey.contact_name, survey.contact_email = "Eva Utvärderare", "eva.utvarderare@vastkom.example"
        set_closes(session, survey, closes)
        open_survey(session, survey)
        import_participants_csv(session, survey.id, participants_csv)
        session.flush()
        if suffix == ANSWERED_TITLE_SUFFIX:
            _simulate_answers(session, survey, answered=300)
        elif suffix == REMINDER_TITLE_SUFFIX:
            _invited_long_ago(session, survey)
        ids.append(survey.id)
    return ids


def _invited_long_ago(session, survey: Survey) -> None:
    """Everyone invited eight days ago: the reminder button and the automatic reminders (7 and 14
    days, paused until the evaluator resumes them) can be tried at once."""
    session.execute(
        update(Participant).where(Participant.survey_id == survey.id).values(invited_at=utcnow() - timedelta(days=8))
    )
    survey.reminder_days, survey.reminder_time, survey.reminders_paused = [7, 14], "08:00", True


def _import_survey(session) -> Survey:
    from services.survey.surveys.domain import import_survey_file

    return import_survey_file(session, DEMO_DATA / "survey-millennium.yaml")


def _simulate_answers(session, survey: Survey, answered: int) -> None:
    """Everyone invited ten days ago, a reminder after a week, and ``answered`` people complete."""
    from services.survey.responses.storage import store_complete_response

    now = utcnow()
    session.execute(
        update(Participant).where(Participant.survey_id == survey.id).values(invited_at=now - timedelta(days=10))
    )
    # Made-up answers, the same on every run: nothing here needs to be unpredictable.
    rng = random.Random(2026)  # noqa: S311
    people = session.scalars(
        select(Participant).where(Participant.survey_id == survey.id).order_by(Participant.id)
    ).all()
    for index, person in enumerate(rng.sample(people, answered)):
        day = now - timedelta(days=10) + timedelta(days=min(9, int(rng.expovariate(0.35))), hours=rng.randint(0, 12))
        if index % 3 == 0:
            day = now - timedelta(days=3) + timedelta(hours=rng.randint(0, 48))  # after the reminder
        store_complete_response(session, survey, _answers(survey.definition, rng), participant=person, now=day)
    session.execute(
        update(Participant)
        .where(Participant.survey_id == survey.id, Participant.completed_at.is_(None))
        .values(reminders_sent=1, last_reminded_at=now - timedelta(days=3))
    )


def _answers(definition: dict, rng: random.Random) -> dict:
    """Plausible answers in the form contract (what a browser would post)."""
    values: dict = {}
    for page in definition["pages"]:
        for question in page["questions"]:
            key, kind = question["key"], question["type"]
            options = [o["key"] if isinstance(o, dict) else o for o in question.get("options", [])]
            if kind == "single":
                values[key] = rng.choices(options, weights=range(len(options), 0, -1))[0]
            elif kind == "multiple":
                values[key] = rng.sample(options, rng.randint(1, min(3, len(options))))
            elif kind == "number":
                values[key] = str(rng.randint(int(question.get("min", 0)), int(question.get("max", 10))))
            elif kind == "scale":
                values[key] = _scale_value(question, rng)
            elif kind == "matrix":
                for row in question["rows"]:
                    row_key = row["key"] if isinstance(row, dict) else row
                    values[f"{key}.{row_key}"] = _scale_value(
                        {**question.get("scale", {}), "dont_know": question.get("dont_know")}, rng
                    )
            elif kind == "nps":
                values[key] = str(min(10, max(0, int(rng.gauss(7, 2)))))
            elif kind in ("text", "longtext") and rng.random() < 0.4:
                values[key] = rng.choice(FREE_TEXTS)
    return values


def _scale_value(scale: dict, rng: random.Random) -> str:
    if scale.get("dont_know") and rng.random() < 0.08:
        return "dont_know"
    low, high = int(scale.get("min", 1)), int(scale.get("max", 5))
    return str(min(high, max(low, round(rng.triangular(low, high, high - 1)))))
