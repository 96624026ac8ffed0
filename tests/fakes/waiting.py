"""Awaiting what a test needs, never a length of time.

A check is evaluated again each time something it may depend on has changed (the fake Slack
answered a call, a log record was emitted), so a test goes on the moment its event happened and
never polls. The deadline only turns a hang into a clear failure, which is why it is generous: a
busy two-core CI machine runs the suite three times slower than a quiet one, and a short deadline
there fails tests whose event was merely late.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterator
from typing import Literal, TypeVar

T = TypeVar("T")

WAIT = 60.0  # seconds: a bound on every wait for an event, never a pause


class Changes:
    """Wakes every waiter whenever something it may be waiting for has changed."""

    def __init__(self) -> None:
        self._changed = asyncio.Event()

    def notify(self) -> None:
        """Call from the event loop's thread after each change (see `notify_from_any_thread`)."""
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def wait_for(
        self,
        check: Callable[[], T | Literal[False] | None],
        *,
        timeout: float = WAIT,  # noqa: ASYNC109 (a hang must fail with the check's name)
        what: str | None = None,
    ) -> T:
        """``check()``'s first truthy result, evaluated now and after every change."""
        try:
            async with asyncio.timeout(timeout):
                while True:
                    result = check()
                    if result:
                        return result
                    # No await between the check and taking the event: no change is missed.
                    await self._changed.wait()
        except TimeoutError:
            raise AssertionError(f"not true within {timeout}s: {what or check}") from None


class NotifyOnLog(logging.Handler):
    """Tells ``changes`` of every log record, so a test can await a line being logged.

    Records may come from worker threads (``asyncio.to_thread``): the notice is handed to the
    loop, which is the only thread that may touch asyncio events.
    """

    def __init__(self, changes: Changes, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(logging.NOTSET)
        self.changes = changes
        self.loop = loop

    def emit(self, record: logging.LogRecord) -> None:
        if not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self.changes.notify)


@contextlib.contextmanager
def waking_on_logs(changes: Changes) -> Iterator[None]:
    """Within the block, every log record reaching the root logger notifies ``changes``."""
    handler = NotifyOnLog(changes, asyncio.get_running_loop())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield
    finally:
        root.removeHandler(handler)
