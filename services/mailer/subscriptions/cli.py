"""``utskick subscribers import|export``: the same domain functions as the web pages."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path

import click

from shared.cli import CliContext, pass_cli


def _context(cli: CliContext, list_slug: str | None):
    """The mailer app (for templates and translations in mails), its services and the chosen list."""
    from services.mailer import create_app
    from services.mailer.subscriptions import domain

    app = create_app(cli.config)
    svc = app.extensions["utskick"]
    with svc.db.sessions() as session:
        newsletter_list = domain.find_list(session, list_slug)
        if newsletter_list is None:
            known = ", ".join(lst.slug for lst in domain.all_lists(session)) or "none"
            raise click.ClickException(f"no list {list_slug!r} (lists: {known})")
        return app, svc, newsletter_list.id


def register(main: click.Group) -> None:
    @main.group()
    def subscribers() -> None:
        """Subscribers: import and export as CSV."""

    @subscribers.command("import")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--list", "list_slug", help="List slug (default: the default list).")
    @click.option(
        "--consented",
        is_flag=True,
        help="Consent was already given elsewhere: import as active. Otherwise each new row gets a confirmation mail.",
    )
    @click.option(
        "--editor",
        default=lambda: f"cli:{getpass.getuser()}",
        show_default="cli:<login name>",
        help="Recorded as who imported.",
    )
    @pass_cli
    def import_command(cli: CliContext, file: Path, list_slug: str | None, consented: bool, editor: str) -> None:
        """Import subscribers from a CSV file (columns email/e-post and name/namn)."""
        from services.mailer.subscriptions import csvio
        from shared.models import NewsletterList

        app, svc, list_id = _context(cli, list_slug)
        csv_file = csvio.read_subscriber_csv(file.read_bytes())
        if csv_file.error == "empty":
            raise click.ClickException("the file is empty")
        if csv_file.error == "no_email_column":
            raise click.ClickException("no e-mail column: give it the header 'email' or 'e-post'")
        with app.app_context(), svc.db.transaction() as session:
            report = csvio.import_subscribers(
                session,
                svc.config,
                svc.tokens,
                session.get(NewsletterList, list_id),
                csv_file,
                consented=consented,
                editor=editor,
            )
        click.echo(
            f"imported: {report.imported}"
            + (" (active, consent already given)" if consented else " (pending, confirmation mailed)")
        )
        click.echo(f"skipped: {report.skipped_count}")
        for p in report.skipped:
            why = "suppressed" if p.reason == csvio.SkipReason.SUPPRESSED else f"already on the list: {p.reason}"
            click.echo(f"  line {p.line}: {p.value} ({why})")
        click.echo(f"duplicates merged: {report.merged_count}")
        for p in report.merged:
            click.echo(f"  line {p.line}: {p.value} (same as line {p.reason})")
        click.echo(f"invalid: {report.invalid_count}")
        for p in report.invalid:
            click.echo(f"  line {p.line}: {p.value!r}")
        if max(report.skipped_count, report.merged_count, report.invalid_count) > csvio.REPORT_LIMIT:
            click.echo(f"(the first {csvio.REPORT_LIMIT} lines of each kind are listed)")

    @subscribers.command("export")
    @click.option("--list", "list_slug", help="List slug (default: the default list).")
    @pass_cli
    def export_command(cli: CliContext, list_slug: str | None) -> None:
        """Write the list's subscribers as CSV to stdout (a column per subscriber attribute at the end)."""
        from services.mailer.subscriptions import csvio, people

        _app, svc, list_id = _context(cli, list_slug)
        with svc.db.sessions() as session:
            csvio.write_export(csvio.export_rows(session, list_id), sys.stdout, people.attribute_keys(session))
