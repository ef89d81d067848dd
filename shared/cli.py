"""What the ``utskick`` command's root hands down to every sub-command (click's context object).

The root builds one ``CliContext``; commands take it with ``@pass_cli``. The configuration is read
once, when the first command needs it, so ``--help`` works whatever the environment holds.
"""

from __future__ import annotations

from functools import cached_property

import click

from shared.accounts import Passwords
from shared.config import Config, ConfigError, load_config
from shared.db import Database
from shared.models.base import MAX_ROW_ID


class CliContext:
    """The configuration and the database, read and opened once per command line."""

    @cached_property
    def config(self) -> Config:
        try:
            return load_config()
        except ConfigError as exc:
            raise click.ClickException(f"configuration error: {exc}") from None

    @cached_property
    def database(self) -> Database:
        return Database(self.config.database_url)

    @cached_property
    def passwords(self) -> Passwords:
        return Passwords.for_config(self.config)


pass_cli = click.make_pass_decorator(CliContext, ensure=True)

# An id as a command takes it: a whole number the id columns can hold (click names the range if not).
ROW_ID = click.IntRange(0, MAX_ROW_ID)
