"""Configuration is checked at start-up; a bad value names its variable."""

import pytest

from shared.config import ConfigError, load_config


def env(tmp_path, **overrides):
    base = {"UTSKICK_VAR_DIR": str(tmp_path / "var")}
    base.update(overrides)
    return base


def test_defaults_give_a_working_development_setup(tmp_path):
    config = load_config(env(tmp_path))
    assert config.database_url == f"sqlite:///{tmp_path / 'var' / 'utskick.sqlite3'}"
    assert config.mail_url.is_file and config.mail_url.directory == tmp_path / "var" / "outbox"
    assert config.mailer_url.startswith("http://") and config.survey_url.startswith("http://")


def test_generated_secret_key_is_kept_between_starts(tmp_path, caplog):
    first = load_config(env(tmp_path)).secret_keys
    assert "SECRET_KEYS is not set" in caplog.text
    assert load_config(env(tmp_path)).secret_keys == first
    assert len(first[0]) >= 32


def test_secret_keys_rotate_first_signs(tmp_path):
    config = load_config(env(tmp_path, SECRET_KEYS="new-key-0123456789abc, old-key-0123456789abc"))
    assert config.secret_keys == ("new-key-0123456789abc", "old-key-0123456789abc")


@pytest.mark.parametrize(
    "variable, value",
    [
        ("DATABASE_URL", "mysql://x/y"),
        ("MAIL_URL", "http://smtp.example.org"),
        ("MAIL_URL", "smtp://"),
        ("MAIL_URL", "smtp://host:notaport"),
        ("MAIL_FROM", "not an address"),
        ("SECRET_KEYS", "short"),
        ("MAILER_URL", "mailer.example.org"),
        ("SURVEY_URL", "ftp://survey.example.org"),
        ("CONFIRM_LINK_DAYS", "seven"),
        ("SMTP_CONNECTIONS", "-1"),
        ("DKIM_DOMAIN", "example.org"),
    ],
)
def test_bad_value_names_the_variable(tmp_path, variable, value):
    with pytest.raises(ConfigError) as excinfo:
        load_config(env(tmp_path, **{variable: value}))
    assert str(excinfo.value).startswith(variable) or excinfo.value.variable.startswith("DKIM_")


@pytest.mark.parametrize(
    "url, scheme, host, port, user",
    [
        ("smtp://mail.example.org", "smtp", "mail.example.org", 25, None),
        ("smtp+starttls://u%40x:p%3Ass@mail.example.org:2525", "smtp+starttls", "mail.example.org", 2525, "u@x"),
        ("smtps://mail.example.org", "smtps", "mail.example.org", 465, None),
    ],
)
def test_mail_url_forms(tmp_path, url, scheme, host, port, user):
    mail = load_config(env(tmp_path, MAIL_URL=url)).mail_url
    assert (mail.scheme, mail.host, mail.port, mail.username) == (scheme, host, port, user)


def test_cli_refuses_to_start_with_bad_config(tmp_path):
    import os
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "services.cli", "db", "upgrade"],
        env={**os.environ, **env(tmp_path, MAIL_URL="carrier-pigeon://x")},
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "MAIL_URL" in result.stderr
    assert "Traceback" not in result.stderr
