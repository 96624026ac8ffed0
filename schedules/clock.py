"""The one clock: always timezone-aware UTC, injected so tests and `--now` can set the time."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class FixedClock:
    """A clock that says what it is told: for tests, previews and ``--now``."""

    at: datetime

    def __post_init__(self) -> None:
        if self.at.tzinfo is None:
            raise ValueError("FixedClock needs an aware time")
        self.at = self.at.astimezone(UTC)

    def now(self) -> datetime:
        return self.at


@dataclass
class Elapsed:
    """A run's ``now`` moved on by the time the run has spent: a sweep decides what is due at
    one instant, and stamps each claim and send with the moment it really happens (what a
    claim's lease counts from), with an injected clock as with the system's."""

    start: datetime
    _began: float = field(default_factory=time.monotonic, repr=False)

    def now(self) -> datetime:
        return self.start + timedelta(seconds=time.monotonic() - self._began)
