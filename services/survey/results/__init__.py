"""Results: response rate, per-question figures, free texts, breakdowns, exports (CSV, XLSX, SPSS, R)
and the evaluation report, all under one small-group rule (``anonymity``).

Every figure is computed by the database: the statements are named (``*_stmt``) and kept beside
the page they serve (``dashboard``, ``figures``, ``texts``, ``breakdown``; ``scope`` holds what they
share), each a ``GROUP BY`` over the survey's answers or participants. Python only turns the few
aggregated rows into what the templates show (labels, percentages, the small-group rule), never
rows of individual responses. The same statements run on PostgreSQL and SQLite: JSON attribute
lookups go through SQLAlchemy's JSON type, and the median is a cumulative window over the value
distribution (equal to ``percentile_cont(0.5)``, which a test checks on PostgreSQL).
"""


def register_blueprints(app) -> None:
    """The evaluators' results pages (dashboard, results, free texts, breakdown, export, reports) and
    the read-only page of a shared report."""
    from services.survey.results import admin, public

    app.register_blueprint(admin.bp)
    app.register_blueprint(public.bp)
