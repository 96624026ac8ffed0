"""Settings: defaults, the environment, the TOML file, and one clear message per mistake."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.settings import SettingsError, load_settings, parse_smtp_url

ALL_NAMES = [
    "CCM_CONFIG",
    "CCM_DATABASE_URL",
    "SLACK_BOT_TOKEN",
    "SLACK_APP_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_API_URL",
    "CCM_SMTP_URL",
    "CCM_OUTBOX_DIR",
    "CCM_MAIL_FROM",
    "CCM_REPLY_DOMAIN",
    "CCM_LMTP_HOST",
    "CCM_LMTP_PORT",
    "CCM_TIMEZONE",
    "CCM_SECRET_KEY",
    "CCM_ISU_EMAIL",
    "CCM_ISU_LANGUAGE",
    "CCM_DIGEST_CHANNEL",
]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ALL_NAMES:
        monkeypatch.delenv(name, raising=False)


def test_defaults_are_the_embedded_setup() -> None:
    settings = load_settings()
    assert settings.database_url == "sqlite+aiosqlite:///ccm-bot.db"
    assert settings.outbox_dir == Path("outbox")
    assert settings.smtp is None
    assert not settings.slack_enabled
    assert settings.timezone == "Europe/Geneva"
    assert settings.zone.key == "Europe/Zurich"
    assert settings.isu_language == "en"
    assert settings.reminders.annual_days_before == (60, 30, 14, 7, 1)


def test_environment_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CCM_DATABASE_URL", "postgresql://ccm@db:5432/ccm")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    monkeypatch.setenv("SLACK_API_URL", "http://127.0.0.1:9999/api")
    monkeypatch.setenv("CCM_SMTP_URL", "smtp://bot:pw@mail.example.org:587?starttls=true")
    monkeypatch.setenv("CCM_TIMEZONE", "America/Santiago")
    monkeypatch.setenv("CCM_ISU_LANGUAGE", "FR")
    settings = load_settings()
    assert settings.isu_language == "fr"
    assert settings.database_url == "postgresql+asyncpg://ccm@db:5432/ccm"
    assert settings.slack_enabled
    assert settings.slack_api_url == "http://127.0.0.1:9999/api/"
    smtp = settings.smtp
    assert smtp is not None
    assert (smtp.host, smtp.port, smtp.username, smtp.start_tls) == (
        "mail.example.org",
        587,
        "bot",
        True,
    )


def test_toml_file_and_environment_precedence(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "ccm-bot.toml"
    config.write_text(
        'timezone = "Asia/Beirut"\nCCM_OUTBOX_DIR = "/var/mail/ccm"\nisu_language = "es"\n'
        "[reminders]\nannual_days_before = [45, 10]\nsend_hour = 8\n"
    )
    monkeypatch.setenv("CCM_CONFIG", str(config))
    monkeypatch.setenv("CCM_TIMEZONE", "Africa/Dakar")
    settings = load_settings()
    assert settings.timezone == "Africa/Dakar"  # the environment wins
    assert settings.outbox_dir == Path("/var/mail/ccm")
    assert settings.isu_language == "es"
    assert settings.reminders.annual_days_before == (45, 10)
    assert settings.reminders.send_hour == 8


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("CCM_DATABASE_URL", "mysql://x", "CCM_DATABASE_URL: use sqlite+aiosqlite"),
        ("CCM_TIMEZONE", "Mars/Olympus", "CCM_TIMEZONE: 'Mars/Olympus' is not an IANA time zone"),
        ("CCM_SMTP_URL", "http://mail", "CCM_SMTP_URL: use smtp://"),
        ("CCM_LMTP_PORT", "lmtp", "CCM_LMTP_PORT: Input should be a valid integer"),
        ("SLACK_API_URL", "slack.com/api", "SLACK_API_URL: give the base URL"),
        (
            "CCM_ISU_LANGUAGE",
            "de",
            "CCM_ISU_LANGUAGE: 'de' is not one of the bot's languages; please use en, fr or es",
        ),
    ],
)
def test_a_wrong_value_names_the_setting(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=re.escape(expected)):
        load_settings()


def test_a_bad_toml_file_is_reported(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("[reminders]\nsend_hour = 31\n")
    monkeypatch.setenv("CCM_CONFIG", str(config))
    with pytest.raises(SettingsError, match=r"reminders\.send_hour"):
        load_settings()


def test_a_missing_config_file_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CCM_CONFIG", "/nonexistent/ccm.toml")
    with pytest.raises(SettingsError, match="CCM_CONFIG names"):
        load_settings()


def test_implicit_tls_url() -> None:
    target = parse_smtp_url("smtps://u:p@mail.example.org")
    assert (target.port, target.use_tls, target.start_tls) == (465, True, False)


def test_the_shipped_example_configuration_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    example = Path(__file__).resolve().parents[2] / "examples" / "ccm-bot.toml"
    monkeypatch.setenv("CCM_CONFIG", str(example))
    settings = load_settings()
    assert settings.reminders.send_hour == 9
    assert (settings.digest.weekday, settings.digest.hour) == ("mon", 8)
    assert settings.isu_language == "en"
