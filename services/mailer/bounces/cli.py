"""``utskick bounces process``: delivery status notifications read from files."""

from __future__ import annotations

from pathlib import Path

import click

from shared.cli import CliContext, pass_cli


def register(main: click.Group) -> None:
    @main.group()
    def bounces() -> None:
        """Bounce reports."""

    @bounces.command("process")
    @click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @pass_cli
    def bounces_process(cli: CliContext, files: tuple[Path, ...]) -> None:
        """Read delivery status notifications (RFC 3464 .eml files) and suppress bounced addresses."""
        from services.mailer.bounces.domain import process_dsn

        db = cli.database
        total = 0
        for path in files:
            with db.transaction() as session:
                reports = process_dsn(session, path.read_bytes())
            for report in reports:
                click.echo(f"{path.name}: {report.email} {report.kind} bounce ({report.status or '-'})")
            if not reports:
                click.echo(f"{path.name}: no failed recipients found")
            total += len(reports)
        click.echo(f"{total} bounce(s) recorded")
