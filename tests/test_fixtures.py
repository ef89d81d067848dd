"""The database fixtures: each test starts from the database as the migrations left it.

(SQLite tests get a fresh copy of a migrated file; PostgreSQL tests share one database per xdist
worker, which is put back between tests.)
"""

from sqlalchemy import func, select

from shared.db import Database
from shared.models import NewsletterList, Subscriber


def test_a_used_postgres_database_is_put_back_as_migrated(postgres_template_url, postgres_migrated_state):
    db = Database(postgres_template_url)
    try:
        with db.transaction() as session:
            session.add(Subscriber(email="kvar@kommun.example"))
            session.get(NewsletterList, 1).name = "Ändrat namn"
            session.add(NewsletterList(slug="andra", name="Andra listan"))

        postgres_migrated_state.restore()

        with db.transaction() as session:
            assert session.scalar(select(func.count()).select_from(Subscriber)) == 0
            assert session.execute(select(NewsletterList.id, NewsletterList.slug, NewsletterList.name)).all() == [
                (1, "nyhetsbrev", "Nyhetsbrevet")
            ]
            newcomer = Subscriber(email="ny@kommun.example")
            extra = NewsletterList(slug="tredje", name="Tredje listan")
            session.add_all([newcomer, extra])
            session.flush()
            assert (newcomer.id, extra.id) == (1, 2)  # ids start where a fresh database starts them
    finally:
        db.dispose()
