"""``utskick invitations|reminders send``: clear errors for an unknown survey and a draft."""

from __future__ import annotations

from shared.models import Survey
from tests.survey.conftest import MILLENNIUM


def test_unknown_survey_is_a_clear_error(run):
    result = run("invitations", "send", 999)
    assert result.exit_code != 0 and "no survey with id 999" in result.output


def test_draft_cannot_be_sent(run, db):
    survey_id = int(run("surveys", "import", MILLENNIUM).output.strip())
    result = run("invitations", "send", survey_id)
    assert result.exit_code != 0 and "Öppna enkäten" in result.output
    with db.sessions() as s:
        assert s.get(Survey, survey_id).status == "draft"
