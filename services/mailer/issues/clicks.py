"""Link clicks counted in aggregate: links in an issue go through a signed redirect that carries
the issue and the link, never the recipient. The database gets one count per issue and link and
nothing about who clicked (every recipient's mail has the same link)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from shared.config import Config
from shared.db import is_postgres
from shared.models import Issue, LinkClick
from shared.tokens import TokenInvalid, Tokens

MAX_URL = 2000  # the column's length: a longer link is left as it is (and not counted)


def redirect_maker(config: Config, tokens: Tokens, issue_id: int) -> Callable[[str], str]:
    """A function turning a link of the issue into its counting redirect (same for every recipient)."""

    def redirect_url(url: str) -> str:
        if not url.startswith(("http://", "https://")) or len(url) > MAX_URL:
            return url
        return f"{config.mailer_url}/l/{tokens.dumps('click', [issue_id, url], timed=False)}"

    return redirect_url


def target(tokens: Tokens, token: str) -> tuple[int, str] | None:
    """The (issue id, link) a redirect token names, or None when it is not genuine."""
    try:
        payload = tokens.loads("click", token)
    except TokenInvalid:
        return None
    if not (isinstance(payload, list) and len(payload) == 2 and type(payload[0]) is int):
        return None
    url = payload[1]
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        return None
    return payload[0], url


def count_click(session: Session, issue_id: int, url: str) -> None:
    """Add one to the link's count (one statement, safe under parallel clicks)."""
    if session.get(Issue, issue_id) is None:
        return  # the issue was deleted: the link still works, nothing is counted
    dialect_insert = postgresql_insert if is_postgres(session) else sqlite_insert
    statement = dialect_insert(LinkClick).values(issue_id=issue_id, url=url, clicks=1)
    session.execute(
        statement.on_conflict_do_update(index_elements=["issue_id", "url"], set_={"clicks": LinkClick.clicks + 1})
    )


def link_counts(session: Session, issue_id: int) -> list[tuple[str, int]]:
    """(link, clicks), most clicked first."""
    rows = session.execute(
        select(LinkClick.url, LinkClick.clicks)
        .where(LinkClick.issue_id == issue_id)
        .order_by(LinkClick.clicks.desc(), LinkClick.url)
    )
    return [(url, clicks) for url, clicks in rows]
