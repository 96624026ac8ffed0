"""What a failed Web API call was answered, read without trusting the answer's shape.

slack-sdk raises ``SlackApiError`` for Slack's own ``{"ok": false}`` and also for whatever a
proxy or load balancer answers in Slack's place: its ``response`` may then hold text, bytes or
nothing, or be aiohttp's raw response (an HTML page labelled JSON). Everything that logs or
sorts a Slack failure reads it through here, so none of them trips over such an answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from slack_sdk.errors import SlackApiError


@dataclass(frozen=True)
class SlackAnswer:
    """A failed call's answer: Slack's error name when the body was Slack's JSON."""

    status: int | None
    error: str | None
    retry_after: timedelta | None

    @property
    def code(self) -> str:
        """One word for logs and delivery errors, Slack's or ``http_<status>``."""
        if self.error:
            return self.error
        return f"http_{self.status}" if self.status else "no_answer"


def read_answer(failure: SlackApiError) -> SlackAnswer:
    response = failure.response
    data = getattr(response, "data", None)
    error = data.get("error") if isinstance(data, dict) else None
    status = getattr(response, "status_code", None) or getattr(response, "status", None)
    headers = getattr(response, "headers", None) or {}
    return SlackAnswer(
        status=status if isinstance(status, int) else None,
        error=error if isinstance(error, str) and error else None,
        retry_after=_seconds(headers.get("Retry-After")),
    )


def error_code(failure: Exception) -> str | None:
    """The code of Slack's refusal (or of what answered instead); None for any other failure."""
    return read_answer(failure).code if isinstance(failure, SlackApiError) else None


def _seconds(value: object) -> timedelta | None:
    """Retry-After in seconds (Slack never sends the HTTP-date form); None if unreadable."""
    try:
        seconds = int(str(value))
    except ValueError:
        return None
    return timedelta(seconds=seconds) if seconds > 0 else None
