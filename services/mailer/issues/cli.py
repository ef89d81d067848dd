"""``utskick issues create|send|list``."""

from __future__ import annotations

from pathlib import Path

import click

from shared.cli import ROW_ID, CliContext, pass_cli


def _context(cli: CliContext):
    """Configuration, database and an app context (rendering uses the mail templates)."""
    from services.mailer import create_app
    from shared.web import services

    app = create_app(cli.config)
    return app, services


def register(main: click.Group) -> None:
    @main.group()
    def issues() -> None:
        """Newsletter issues."""

    @issues.command("create")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--list", "list_slug", default=None, help="The list's slug (default: the default list).")
    @pass_cli
    def issues_create(cli: CliContext, file: Path, list_slug: str | None) -> None:
        """Create a draft from a Markdown FILE with front matter (subject, preheader); print its id."""
        from services.mailer.issues.domain import IssueError, create_issue_from_markdown_file

        app, services = _context(cli)
        with app.app_context():
            try:
                with services().db.transaction() as session:
                    issue = create_issue_from_markdown_file(session, file, list_slug)
                    issue_id = issue.id
            except IssueError as exc:
                raise click.ClickException(exc.message) from None
        click.echo(issue_id)

    @issues.command("send")
    @click.argument("issue_id", type=ROW_ID)
    @click.option("--at", "at", default=None, help="ISO date-time (Swedish time unless a zone is given).")
    @click.option(
        "--list", "list_slugs", multiple=True, help="Send to this list (repeat for several; each person gets one mail)."
    )
    @click.option("--segment", "segment_name", default=None, help="Send to the saved segment with this name.")
    @pass_cli
    def issues_send(
        cli: CliContext, issue_id: int, at: str | None, list_slugs: tuple[str, ...], segment_name: str | None
    ) -> None:
        """Send issue ISSUE_ID now (the worker delivers) or schedule it --at a time."""
        from services.mailer.issues import domain
        from services.mailer.segments import domain as segments
        from services.mailer.subscriptions.domain import find_list
        from shared.i18n import LOCAL_ZONE, local_time
        from shared.models import Issue

        app, services = _context(cli)
        with app.app_context():
            services_config = services().config
            try:
                with services().db.transaction() as session:
                    issue = session.get(Issue, issue_id)
                    if issue is None:
                        raise click.ClickException(f"no issue {issue_id}")
                    if list_slugs or segment_name:
                        found = [find_list(session, slug) for slug in list_slugs]
                        missing = [slug for slug, lst in zip(list_slugs, found, strict=True) if lst is None]
                        if missing:
                            raise click.ClickException(f"no list {missing[0]!r}")
                        segment = segments.find_segment(session, segment_name) if segment_name else None
                        if segment_name and segment is None:
                            raise click.ClickException(f"no segment {segment_name!r}")
                        segments.set_issue_audience(
                            session,
                            issue,
                            list_ids=[lst.id for lst in found if lst is not None],
                            segment_id=segment.id if segment else None,
                        )
                    if at:
                        moment = domain.parse_iso(at)
                        domain.schedule(session, services_config, issue, moment)
                        message = f"issue {issue_id} scheduled for {local_time(moment)} ({LOCAL_ZONE.key})"
                    else:
                        count = domain.send_now(session, services_config, issue)
                        message = f"issue {issue_id}: {count} mails queued; the worker sends them"
            except domain.IssueError as exc:
                raise click.ClickException(exc.message) from None
        click.echo(message)

    @issues.command("list")
    @pass_cli
    def issues_list(cli: CliContext) -> None:
        """Issues with their status and delivery counts."""
        from services.mailer.issues import domain

        app, services = _context(cli)
        with app.app_context(), services().db.transaction() as session:
            for issue in domain.list_issues(session):
                p = domain.progress(session, issue)
                click.echo(f"{issue.id}\t{issue.status}\t{p.sent}/{p.total} sent, {p.failed} failed\t{issue.subject}")
