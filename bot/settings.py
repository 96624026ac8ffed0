"""The one settings object: read once at start from the environment and an optional TOML file.

Operators and other tools rely on the environment names (``CCM_DATABASE_URL``,
``SLACK_BOT_TOKEN``…), so each field names its variable explicitly; the TOML file (named by
``CCM_CONFIG``) may use either the variable name or the field name, and carries the reminder
policy in a ``[reminders]`` table.
This is the only module that reads the environment.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from handlers.i18n import LANGUAGES
from schedules.policy import ReminderPolicy
from schedules.zones import resolve_zone

SLACK_DEFAULT_API_URL = "https://slack.com/api/"
# Reply tokens carry a 64-bit HMAC; a key shorter than this is guessable offline by anyone
# holding one signed token (every delegate holds several).
MIN_SECRET_KEY_LENGTH = 32
_DEVELOPMENT_KEY = "ccm-bot-development-key"
_MAKE_A_KEY = "python -c 'import secrets; print(secrets.token_urlsafe(32))'"


class SettingsError(Exception):
    """A setting is missing or wrong; the message names it and says how to fix it."""


def _env(name: str, field: str, default: Any = None) -> Any:
    return Field(default=default, validation_alias=AliasChoices(name, field))


class DigestSettings(BaseModel):
    """When the weekly digest goes out, in CCM_TIMEZONE: the TOML file's ``[digest]`` table."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    weekday: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "mon"
    hour: int = Field(default=8, ge=0, le=23)


class SmtpTarget(BaseModel):
    """Where outgoing mail goes, parsed from ``CCM_SMTP_URL``."""

    model_config = ConfigDict(frozen=True)

    host: str
    port: int
    username: str | None
    password: str | None
    use_tls: bool
    start_tls: bool


class Settings(BaseSettings):
    """Everything the bot needs to know about its deployment, validated at start."""

    model_config = SettingsConfigDict(
        frozen=True, extra="ignore", case_sensitive=False, populate_by_name=True
    )

    database_url: str = _env("CCM_DATABASE_URL", "database_url", "sqlite+aiosqlite:///ccm-bot.db")
    slack_bot_token: str | None = _env("SLACK_BOT_TOKEN", "slack_bot_token")
    slack_app_token: str | None = _env("SLACK_APP_TOKEN", "slack_app_token")
    slack_signing_secret: str | None = _env("SLACK_SIGNING_SECRET", "slack_signing_secret")
    slack_api_url: str = _env("SLACK_API_URL", "slack_api_url", SLACK_DEFAULT_API_URL)
    smtp_url: str | None = _env("CCM_SMTP_URL", "smtp_url")
    outbox_dir: Path = _env("CCM_OUTBOX_DIR", "outbox_dir", Path("outbox"))
    mail_from: str = _env("CCM_MAIL_FROM", "mail_from", "CCM ISU <isu@ccm-bot.invalid>")
    reply_domain: str = _env("CCM_REPLY_DOMAIN", "reply_domain", "ccm-bot.invalid")
    secret_key: str | None = _env("CCM_SECRET_KEY", "secret_key")
    lmtp_host: str = _env("CCM_LMTP_HOST", "lmtp_host", "127.0.0.1")
    lmtp_port: int | None = _env("CCM_LMTP_PORT", "lmtp_port")
    authserv_id: str | None = _env("CCM_AUTHSERV_ID", "authserv_id")
    timezone: str = _env("CCM_TIMEZONE", "timezone", "Europe/Geneva")
    isu_email: str | None = _env("CCM_ISU_EMAIL", "isu_email")
    isu_language: str = _env("CCM_ISU_LANGUAGE", "isu_language", "en")
    digest_channel: str | None = _env("CCM_DIGEST_CHANNEL", "digest_channel")
    reminders: ReminderPolicy = ReminderPolicy()
    digest: DigestSettings = DigestSettings()

    @field_validator("reminders", mode="before")
    @classmethod
    def _reminder_policy(cls, value: Any) -> Any:
        # The policy checks itself, strictly; pydantic's lax coercion would read true as 1.
        return ReminderPolicy.from_table(value) if isinstance(value, dict) else value

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        # Operators often paste the plain URL; the async drivers are the ones we ship.
        for plain, driver in (
            ("sqlite://", "sqlite+aiosqlite://"),
            ("postgresql://", "postgresql+asyncpg://"),
            ("postgres://", "postgresql+asyncpg://"),
        ):
            if value.startswith(plain):
                value = driver + value.removeprefix(plain)
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "use sqlite+aiosqlite:///path/to/ccm-bot.db or "
                "postgresql+asyncpg://user:password@host:5432/dbname"
            )
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        # slack-sdk joins method names onto the base URL: without the slash the path is lost.
        if not value.startswith(("http://", "https://")):
            raise ValueError("give the base URL of the Slack Web API, e.g. https://slack.com/api/")
        return value if value.endswith("/") else value + "/"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        resolve_zone(value)  # raises a ValueError that names the fix
        return value

    @field_validator("isu_language")
    @classmethod
    def _supported_language(cls, value: str) -> str:
        code = value.strip().lower()
        if code not in LANGUAGES:
            allowed = ", ".join(LANGUAGES[:-1]) + f" or {LANGUAGES[-1]}"
            raise ValueError(f"{value!r} is not one of the bot's languages; please use {allowed}")
        return code

    @field_validator("smtp_url")
    @classmethod
    def _smtp_url(cls, value: str | None) -> str | None:
        if value:
            parse_smtp_url(value)
        return value or None

    @field_validator(
        "slack_bot_token", "slack_app_token", "slack_signing_secret", "secret_key", "authserv_id"
    )
    @classmethod
    def _blank_is_unset(cls, value: str | None) -> str | None:
        return value or None

    @model_validator(mode="after")
    def _real_key_for_incoming_mail(self) -> Settings:
        # The development key is in the source: with it, anyone can sign a reply token and
        # speak for any delegate. Without incoming mail no token is ever checked.
        if self.lmtp_port is None:
            return self
        if self.secret_key is None:
            raise ValueError(
                "CCM_SECRET_KEY: incoming mail (CCM_LMTP_PORT) needs a secret key to sign reply "
                "tokens, and the built-in development key is public; set CCM_SECRET_KEY to at "
                f"least {MIN_SECRET_KEY_LENGTH} random characters, e.g. the output of {_MAKE_A_KEY}"
            )
        if len(self.secret_key) < MIN_SECRET_KEY_LENGTH:
            raise ValueError(
                f"CCM_SECRET_KEY: {len(self.secret_key)} characters is too short to sign reply "
                f"tokens; use at least {MIN_SECRET_KEY_LENGTH} random characters, e.g. the "
                f"output of {_MAKE_A_KEY} (replies to mail signed with the old key are refused)"
            )
        return self

    @property
    def slack_enabled(self) -> bool:
        return bool(self.slack_bot_token)

    @property
    def zone(self) -> ZoneInfo:
        return resolve_zone(self.timezone)

    @property
    def smtp(self) -> SmtpTarget | None:
        return parse_smtp_url(self.smtp_url) if self.smtp_url else None

    @property
    def signing_key(self) -> bytes:
        """The server key for reply tokens; a fixed development key when none is configured
        (allowed only with incoming mail off, where no token is ever checked)."""
        return (self.secret_key or _DEVELOPMENT_KEY).encode()

    @property
    def trusted_authserv_ids(self) -> frozenset[str]:
        """The authserv-ids of our own MTA's Authentication-Results (CCM_AUTHSERV_ID, commas)."""
        return frozenset(
            part.strip().lower() for part in (self.authserv_id or "").split(",") if part.strip()
        )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config = os.environ.get("CCM_CONFIG")
        if config:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(config)))
        return tuple(sources)


_ENV_NAMES = {
    name: str(field.validation_alias.choices[0])
    if isinstance(field.validation_alias, AliasChoices)
    else name
    for name, field in Settings.model_fields.items()
}


def parse_smtp_url(url: str) -> SmtpTarget:
    """Read ``smtp://user:password@host:587?starttls=true`` (or ``smtps://`` for implicit TLS)."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValueError(
            "use smtp://user:password@mail.example.org:587?starttls=true "
            "or smtps://user:password@mail.example.org:465"
        )
    query = {k: v[-1].lower() for k, v in parse_qs(parts.query).items()}
    implicit = parts.scheme == "smtps"
    try:
        port = parts.port or (465 if implicit else 25)
    except ValueError:
        raise ValueError("the port in CCM_SMTP_URL must be a number, e.g. :587") from None
    return SmtpTarget(
        host=parts.hostname,
        port=port,
        username=parts.username,
        password=parts.password,
        use_tls=implicit,
        start_tls=query.get("starttls", "false") in ("1", "true", "yes"),
    )


def load_settings(**overrides: Any) -> Settings:
    """Build the settings once, turning any validation problem into one readable message."""
    config = os.environ.get("CCM_CONFIG")
    if config and not Path(config).is_file():
        raise SettingsError(
            f"CCM_CONFIG names {config!r}, which is not a readable file: "
            "point it at your TOML settings file or unset it"
        )
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise SettingsError(_describe(exc)) from None
    except ValueError as exc:  # a TOML syntax error surfaces here
        raise SettingsError(f"{config}: {exc}") from None


def _describe(exc: ValidationError) -> str:
    lines = []
    for error in exc.errors():
        location = [str(part) for part in error["loc"]]
        message = str(error["msg"]).removeprefix("Value error, ")
        if not location:  # a rule across settings: its message names them itself
            lines.append(message)
            continue
        name = _ENV_NAMES.get(location[0], location[0])
        lines.append(f"{'.'.join([name, *location[1:]])}: {message}")
    return "; ".join(lines)
