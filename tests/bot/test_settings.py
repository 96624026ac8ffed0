"""Settings: defaults, the environment, the TOML file, and one clear message per mistake."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
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
    "CCM_AUTHSERV_ID",
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


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ("send_hour = 31", "reminders: send_hour must be between 0 and 23, got 31"),
        ("send_hour = true", "reminders: send_hour must be a whole number, got True"),
        ("sweep_minutes = 0", "reminders: sweep_minutes must be between 1 and 1440, got 0"),
        ("annual_days_before = [7, 7]", "reminders: annual_days_before repeats a value"),
        ("send_hours = 8", "reminders: unknown setting send_hours; the [reminders] table takes"),
    ],
)
def test_a_bad_reminder_policy_in_the_toml_file_is_reported(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, table: str, expected: str
) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(f"[reminders]\n{table}\n")
    monkeypatch.setenv("CCM_CONFIG", str(config))
    with pytest.raises(SettingsError, match=re.escape(expected)):
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


# --------------------------------------------------------------------------- the reply-token key

STRONG_KEY = "x" * 32


def test_incoming_mail_needs_a_secret_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CCM_LMTP_PORT", "2424")
    with pytest.raises(SettingsError) as raised:
        load_settings()
    message = str(raised.value)
    assert message.startswith("CCM_SECRET_KEY: incoming mail (CCM_LMTP_PORT) needs a secret key")
    assert "secrets.token_urlsafe(32)" in message
    assert "\n" not in message


def test_incoming_mail_refuses_a_short_secret_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CCM_LMTP_PORT", "2424")
    monkeypatch.setenv("CCM_SECRET_KEY", "too-short-a-secret")
    with pytest.raises(SettingsError) as raised:
        load_settings()
    message = str(raised.value)
    assert message.startswith("CCM_SECRET_KEY: 18 characters is too short")
    assert "at least 32" in message
    assert "too-short-a-secret" not in message  # a secret is never printed


@pytest.mark.parametrize(
    ("environment", "key"),
    [
        ({}, b"ccm-bot-development-key"),  # the embedded set-up: no incoming mail, no key
        ({"CCM_LMTP_PORT": "2424", "CCM_SECRET_KEY": STRONG_KEY}, STRONG_KEY.encode()),
    ],
)
def test_a_key_is_only_required_with_incoming_mail(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str], key: bytes
) -> None:
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert load_settings().signing_key == key


def test_run_with_incoming_mail_and_no_key_stops_with_one_line(tmp_path: Path) -> None:
    """The real start-up path: ``ccm-bot run`` must not listen for replies it cannot trust."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CCM_", "SLACK_"))}
    env["CCM_LMTP_PORT"] = "0"
    lines = []
    with subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as process:
        assert process.stdout is not None
        try:
            for line in process.stdout:  # ends when the process exits
                lines.append(line.rstrip())
                if "is running" in line:  # started anyway: stop it, and fail below
                    process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
    assert process.returncode == 1, lines
    [line] = lines
    assert line.startswith("ccm-bot: configuration: CCM_SECRET_KEY: incoming mail")
    assert not (tmp_path / "ccm-bot.db").exists()
