"""Slack retries an event it thinks was not received; each event is acted on once.

Slack redelivers an Events API event (same ``event_id``, with ``X-Slack-Retry-Num``) when
the first answer was late or lost. The first delivery is recorded in ``processed_events``;
a redelivery gets its 200 (anything else makes Slack retry again, then disable the
subscription) and the ``X-Slack-No-Retry`` header, and no listener runs.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from schedules.clock import Clock
from storage.db import Store
from storage.processed_events import first_delivery

log = logging.getLogger(__name__)

Next = Callable[[], Awaitable[None]]
Middleware = Callable[[AsyncBoltRequest, Next], Awaitable[BoltResponse | None]]


def skip_redelivered_events(store: Store, clock: Clock) -> Middleware:
    """A global Bolt middleware; it runs after the signature check, so forgeries never count."""

    async def skip_redelivered(request: AsyncBoltRequest, next: Next) -> BoltResponse | None:
        event_id = request.body.get("event_id")
        if not isinstance(event_id, str) or not event_id:
            await next()  # commands and interactions carry no event id; Slack never resends them
            return None
        async with store.transaction() as session:
            first = await first_delivery(session, event_id, clock.now())
        if first:
            await next()
            return None
        retry = (request.headers.get("x-slack-retry-num") or ["?"])[0]
        log.info("event %s already handled; redelivery %s answered without acting", event_id, retry)
        return BoltResponse(status=200, body="", headers={"X-Slack-No-Retry": "1"})

    return skip_redelivered
