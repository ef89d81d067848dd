"""``utskick invitations send SURVEY_ID`` and ``utskick reminders send SURVEY_ID``: the two buttons
of the survey page."""

from __future__ import annotations

import click

from services.survey.surveys.cli import get_survey, survey_session
from shared.cli import ROW_ID, CliContext, pass_cli


def register(main: click.Group) -> None:
    for name, kind in (("invitations", "invitations"), ("reminders", "reminders")):
        _sending_group(main, name, kind)


def _sending_group(main: click.Group, name: str, kind: str) -> None:
    @main.group(name=name, help=f"Survey {kind}.")
    def group() -> None:
        pass

    @group.command(
        "send",
        help="Mail everyone not yet invited."
        if kind == "invitations"
        else "Remind invited people who have not answered or declined (limits per survey).",
    )
    @click.argument("survey_id", type=ROW_ID)
    @pass_cli
    def send(cli: CliContext, survey_id: int) -> None:
        from services.survey.mailings import domain
        from services.survey.surveys.domain import SurveyStateError

        try:
            with survey_session(cli) as (session, config):
                survey = get_survey(session, survey_id)
                action = domain.send_reminders if kind == "reminders" else domain.send_invitations
                report = action(session, config, survey)
        except SurveyStateError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"{report.sent} {kind} queued; {report.suppressed} suppressed address(es) skipped")
