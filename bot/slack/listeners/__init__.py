"""The Slack listeners, one module per surface, each with its ``register(app, deps)``.

Every listener acknowledges first: Slack gives three seconds, then retries (events) or shows an
error (buttons, commands). The one exception is a modal submission, whose acknowledgement *is*
the answer (``views``). A listener parses the payload at the edge (``bot.slack.payloads``),
asks the conversation core, renders with ``bot.slack.blocks`` and sends; failures go to the
one error handler (``shared``), not to a try/except in each listener.
"""

from __future__ import annotations

from slack_bolt.app.async_app import AsyncApp

from bot.slack.listeners import actions, commands, events, home, shared, views
from bot.slack.listeners.shared import Deps

__all__ = ["Deps", "register"]


def register(app: AsyncApp, deps: Deps) -> None:
    """Every surface's listeners, and the app's error handler."""
    for surface in (commands, actions, views, events, home, shared):
        surface.register(app, deps)
