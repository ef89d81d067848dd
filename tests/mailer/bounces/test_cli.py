"""``utskick bounces process``: DSN files from the command line."""

from __future__ import annotations

from click.testing import CliRunner

from services.cli import main
from tests.mailer.bounces.conftest import DSN, suppressed


def test_bounces_process_command_suppresses_hard_bounces(db, cli_env):
    result = CliRunner().invoke(main, ["bounces", "process", str(DSN / "hard.eml"), str(DSN / "soft.eml")])
    assert result.exit_code == 0, result.output
    assert "borta@example.org" in result.output.lower() and "2 bounce(s) recorded" in result.output
    # One soft bounce is not enough to stop mailing someone.
    assert suppressed(db) == {"borta@example.org": "hard_bounce"}
