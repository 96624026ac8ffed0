"""The one clock: always timezone-aware UTC, injected so tests and `--now` can set the time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
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
