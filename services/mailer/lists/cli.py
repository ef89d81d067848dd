"""``utskick lists create|list``: the same domain functions as the list pages."""

from __future__ import annotations

import click

from shared.cli import CliContext, pass_cli


def register(main: click.Group) -> None:
    @main.group()
    def lists() -> None:
        """Newsletter lists."""

    @lists.command("create")
    @click.argument("slug")
    @click.option("--name", required=True, help="The list's name, as readers see it.")
    @click.option("--description", default="", help="Shown on the subscribe page.")
    @click.option("--language", default="sv", type=click.Choice(["sv", "en"]), show_default=True)
    @click.option("--private", is_flag=True, help="Not on the public start page; editors add subscribers.")
    @click.option("--click-statistics", is_flag=True, help="Count link clicks per issue and link (never per person).")
    @pass_cli
    def lists_create(
        cli: CliContext, slug: str, name: str, description: str, language: str, private: bool, click_statistics: bool
    ) -> None:
        """Create a list with the address SLUG (/subscribe/SLUG); print its id."""
        from services.mailer import create_app
        from services.mailer.lists import domain

        app = create_app(cli.config)
        svc = app.extensions["utskick"]
        with app.app_context():
            try:
                with svc.db.transaction() as session:
                    created = domain.save_list(
                        session,
                        domain.ListFields(
                            slug=slug,
                            name=name,
                            description=description,
                            language=language,
                            public=not private,
                            click_statistics=click_statistics,
                        ),
                    )
                    list_id = created.id
            except domain.ListError as exc:
                raise click.ClickException(exc.message) from None
        click.echo(list_id)

    @lists.command("list")
    @click.option("--archived", is_flag=True, help="Archived lists too.")
    @pass_cli
    def lists_list(cli: CliContext, archived: bool) -> None:
        """Lists with their active/pending/stopped counts."""
        from services.mailer.subscriptions.people import counts_per_list
        from shared.models import SubscriptionStatus

        with cli.database.sessions() as session:
            for lst, n in counts_per_list(session):
                if lst.archived_at is not None and not archived:
                    continue
                flags = ",".join(
                    f
                    for f, on in (
                        ("public", lst.public),
                        ("click-statistics", lst.click_statistics),
                        ("archived", lst.archived_at),
                    )
                    if on
                )
                click.echo(
                    f"{lst.id}\t{lst.slug}\t{n[SubscriptionStatus.ACTIVE]} active, "
                    f"{n[SubscriptionStatus.PENDING]} pending, "
                    f"{n[SubscriptionStatus.UNSUBSCRIBED]} stopped\t{flags or '-'}\t{lst.name}"
                )
