"""Configuration: read from environment variables once, validated, with embedded defaults.

A bad value stops the process with a message that names the variable (``ConfigError``).
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from email_validator import EmailNotValidError, validate_email

log = logging.getLogger(__name__)

MAIL_SCHEMES = ("smtp", "smtp+starttls", "smtps", "file")


class ConfigError(Exception):
    """A configuration variable has a value we cannot use."""

    def __init__(self, variable: str, problem: str):
        super().__init__(f"{variable}: {problem}")
        self.variable = variable


@dataclass(frozen=True)
class MailURL:
    """Where mail goes: an SMTP server or a folder of .eml files (development)."""

    scheme: str
    host: str = ""
    port: int = 0
    username: str | None = None
    password: str | None = None
    directory: Path | None = None

    @property
    def is_file(self) -> bool:
        return self.scheme == "file"


@dataclass(frozen=True)
class Config:
    database_url: str
    mail_url: MailURL
    mail_from: str
    secret_keys: tuple[str, ...]
    mailer_url: str
    survey_url: str
    var_dir: Path
    confirm_link_max_age: int = 7 * 24 * 3600
    confirmations_per_address_per_day: int = 3
    subscribe_posts_per_ip_per_hour: int = 20
    smtp_connections: int = 4
    send_rate_per_second: float = 0.0  # 0 = no limit
    send_rate_per_hour: int = 0  # 0 = no limit
    min_group_size: int = 5
    dkim_domain: str | None = None
    dkim_selector: str | None = None
    dkim_key_file: Path | None = None
    organisation_name: str = "Utskick"
    bounce_webhook_secret: str | None = None  # BOUNCE_WEBHOOK_SECRET: the relay's bearer token for /webhooks/bounces
    trusted_proxies: int = 0  # proxies in front whose X-Forwarded-For is believed; 0: the header is ignored
    login_failures_per_account: int = 10
    login_failures_per_address: int = 10
    login_failure_window_minutes: int = 15
    session_idle_hours: int = 8
    session_max_days: int = 7
    invitation_link_days: int = 7
    api_requests_per_minute: int = 120  # per API key, both services together
    # Webhooks go to https and public addresses only (shared.api.destinations); these open that up
    # for development and tests (a receiver on 127.0.0.1) or a receiver on the internal network.
    webhook_allow_http: bool = False
    webhook_allow_private: bool = False
    testing: bool = False

    @property
    def secure_cookies(self) -> bool:
        return self.mailer_url.startswith("https://") and self.survey_url.startswith("https://")

    def with_(self, **changes: Any) -> Config:
        return replace(self, **changes)


def parse_mail_url(value: str, var_dir: Path) -> MailURL:
    parts = urlsplit(value)
    scheme = parts.scheme.lower()
    if scheme not in MAIL_SCHEMES:
        raise ConfigError("MAIL_URL", f"scheme must be one of {', '.join(MAIL_SCHEMES)}, got {value!r}")
    if scheme == "file":
        raw = unquote(parts.netloc + parts.path)
        if not raw:
            raise ConfigError("MAIL_URL", "file:// needs a folder, e.g. file://var/outbox")
        directory = Path(raw)
        if not directory.is_absolute():
            directory = Path.cwd() / directory
        return MailURL(scheme="file", directory=directory)
    if not parts.hostname:
        raise ConfigError("MAIL_URL", f"no host in {value!r}")
    try:
        port = parts.port
    except ValueError:
        raise ConfigError("MAIL_URL", f"port is not a number in {value!r}") from None
    default_port = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}[scheme]
    return MailURL(
        scheme=scheme,
        host=parts.hostname,
        port=port or default_port,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


def _base_url(name: str, value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(name, f"must be an http:// or https:// URL, got {value!r}")
    return value.rstrip("/")


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(name, f"must be a whole number, got {raw!r}") from None
    if value < 0:
        raise ConfigError(name, f"must not be negative, got {value}")
    return value


def _flag(env: Mapping[str, str], name: str) -> bool:
    raw = (env.get(name) or "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise ConfigError(name, f"must be 1 or 0 (true or false), got {raw!r}")


def _positive_float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(name, f"must be a number, got {raw!r}") from None
    if value < 0:
        raise ConfigError(name, f"must not be negative, got {value}")
    return value


def _secret_keys(env: Mapping[str, str], var_dir: Path) -> tuple[str, ...]:
    raw = env.get("SECRET_KEYS", "")
    if raw.strip():
        keys = tuple(k.strip() for k in raw.split(",") if k.strip())
        short = [k for k in keys if len(k) < 16]
        if short:
            raise ConfigError("SECRET_KEYS", "every key must be at least 16 characters long")
        return keys
    key_file = var_dir / "secret_key"
    if not key_file.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_urlsafe(48))
        key_file.chmod(0o600)
        log.warning("SECRET_KEYS is not set: generated a key into %s (fine for development only)", key_file)
    return (key_file.read_text().strip(),)


def load_config(environ: Mapping[str, str] | None = None) -> Config:
    """Read and check every setting; raise ConfigError naming the first bad variable."""
    env = dict(os.environ if environ is None else environ)
    var_dir = Path(env.get("UTSKICK_VAR_DIR") or Path.cwd() / "var").resolve()

    database_url = env.get("DATABASE_URL") or f"sqlite:///{var_dir / 'utskick.sqlite3'}"
    scheme = urlsplit(database_url).scheme.split("+")[0]
    if scheme not in ("sqlite", "postgresql", "postgres"):
        raise ConfigError("DATABASE_URL", f"must be sqlite:/// or postgresql://, got {database_url!r}")
    if scheme == "sqlite":
        var_dir.mkdir(parents=True, exist_ok=True)

    mail_url = parse_mail_url(env.get("MAIL_URL") or f"file://{var_dir / 'outbox'}", var_dir)

    mail_from = env.get("MAIL_FROM") or "Utskick <nyhetsbrev@utskick.example>"
    try:
        from email.utils import parseaddr

        validate_email(parseaddr(mail_from)[1], check_deliverability=False, globally_deliverable=False)
    except EmailNotValidError as exc:
        raise ConfigError("MAIL_FROM", f"not a valid address ({exc})") from None

    dkim = {k: env.get(k) or None for k in ("DKIM_DOMAIN", "DKIM_SELECTOR", "DKIM_KEY_FILE")}
    if any(dkim.values()) and not all(dkim.values()):
        missing = [k for k, v in dkim.items() if not v]
        raise ConfigError(missing[0], "DKIM_DOMAIN, DKIM_SELECTOR and DKIM_KEY_FILE must be set together")
    if dkim["DKIM_KEY_FILE"] and not Path(dkim["DKIM_KEY_FILE"]).is_file():
        raise ConfigError("DKIM_KEY_FILE", f"no such file: {dkim['DKIM_KEY_FILE']}")

    return Config(
        database_url=database_url,
        mail_url=mail_url,
        mail_from=mail_from,
        secret_keys=_secret_keys(env, var_dir),
        mailer_url=_base_url("MAILER_URL", env.get("MAILER_URL") or "http://127.0.0.1:8001"),
        survey_url=_base_url("SURVEY_URL", env.get("SURVEY_URL") or "http://127.0.0.1:8002"),
        var_dir=var_dir,
        confirm_link_max_age=_positive_int(env, "CONFIRM_LINK_DAYS", 7) * 24 * 3600,
        confirmations_per_address_per_day=_positive_int(env, "CONFIRMATIONS_PER_ADDRESS_PER_DAY", 3),
        subscribe_posts_per_ip_per_hour=_positive_int(env, "SUBSCRIBE_POSTS_PER_IP_PER_HOUR", 20),
        smtp_connections=max(1, _positive_int(env, "SMTP_CONNECTIONS", 4)),
        send_rate_per_second=_positive_float(env, "SEND_RATE_PER_SECOND", 0.0),
        send_rate_per_hour=_positive_int(env, "SEND_RATE_PER_HOUR", 0),
        min_group_size=max(1, _positive_int(env, "MIN_GROUP_SIZE", 5)),
        dkim_domain=dkim["DKIM_DOMAIN"],
        dkim_selector=dkim["DKIM_SELECTOR"],
        dkim_key_file=Path(dkim["DKIM_KEY_FILE"]) if dkim["DKIM_KEY_FILE"] else None,
        organisation_name=env.get("ORGANISATION_NAME") or "Utskick",
        bounce_webhook_secret=env.get("BOUNCE_WEBHOOK_SECRET") or None,
        trusted_proxies=_positive_int(env, "TRUSTED_PROXIES", 0),
        login_failures_per_account=max(1, _positive_int(env, "LOGIN_FAILURES_PER_ACCOUNT", 10)),
        login_failures_per_address=max(1, _positive_int(env, "LOGIN_FAILURES_PER_ADDRESS", 10)),
        login_failure_window_minutes=max(1, _positive_int(env, "LOGIN_FAILURE_WINDOW_MINUTES", 15)),
        session_idle_hours=max(1, _positive_int(env, "SESSION_IDLE_HOURS", 8)),
        session_max_days=max(1, _positive_int(env, "SESSION_MAX_DAYS", 7)),
        invitation_link_days=max(1, _positive_int(env, "INVITATION_LINK_DAYS", 7)),
        api_requests_per_minute=max(1, _positive_int(env, "API_REQUESTS_PER_MINUTE", 120)),
        webhook_allow_http=_flag(env, "WEBHOOK_ALLOW_HTTP"),
        webhook_allow_private=_flag(env, "WEBHOOK_ALLOW_PRIVATE"),
    )
