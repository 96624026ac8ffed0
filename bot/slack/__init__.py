"""Slack: the Bolt app and its listeners, Block Kit rendering, and reminders sent as DMs."""

from bot.slack.app import (
    SlackService,
    build_slack_app,
    slack_service,
    slack_web_client,
    start_slack,
)
from bot.slack.transport import SlackTransport

__all__ = [
    "SlackService",
    "SlackTransport",
    "build_slack_app",
    "slack_service",
    "slack_web_client",
    "start_slack",
]
