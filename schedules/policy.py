"""When to remind a State of a due item: the reminder policy as pure functions.

A stage is one reminder of one item ("30 days before", "second overdue reminder"). The
planner asks `current_stage` at any moment and sends the answer once (its ledger keys on
state, item and stage name), so the schedule survives restarts and downtime: a bot that
was down for a week sends the latest reminder once rather than the week's backlog.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from schedules.calendar import DueItem, ItemKind, StateCalendar, add_months, items_open
from schedules.periods import local_instant

DAY = "day"
ESCALATE = "escalate"
SATURDAY_SUNDAY: frozenset[int] = frozenset({5, 6})
_WEEK = 7
_DOWNTIME = 28
_DAY_MINUTES = 24 * 60
_TUPLE_FIELDS = ("annual_days_before", "treaty_months_before", "custom_days_before")


@dataclass(frozen=True, slots=True)
class ReminderPolicy:
    """How early, how often and how long to remind; the operator overrides it from TOML.

    `overdue_max=0` means no overdue reminders: escalate one interval after the due date.
    """

    annual_days_before: tuple[int, ...] = (60, 30, 14, 7, 1)
    remind_on_the_day: bool = True
    overdue_every_days: int = 14
    overdue_max: int = 3
    treaty_months_before: tuple[int, ...] = (24, 12, 6, 3, 1)
    custom_days_before: tuple[int, ...] = (30, 7, 1)
    send_hour: int = 9
    snooze_days: int = 7
    sweep_minutes: int = 10  # how often the planner looks for what is due

    @classmethod
    def from_table(cls, table: Mapping[str, object]) -> ReminderPolicy:
        """The policy from the TOML file's ``[reminders]`` table, naming any unknown key.

        The checks here are the policy's own (strict: ``send_hour = true`` is refused, not read
        as hour 1), so settings validate into this type rather than a lax copy of it.
        """
        known = {spec.name for spec in fields(cls)}
        unknown = sorted(set(table) - known)
        if unknown:
            raise ValueError(
                f"unknown setting {', '.join(unknown)}; the [reminders] table takes "
                + ", ".join(sorted(known))
            )
        return cls(**table)  # type: ignore[arg-type]

    def __post_init__(self) -> None:
        for spec in fields(self):
            value = getattr(self, spec.name)
            if spec.name in _TUPLE_FIELDS:
                # TOML arrays arrive as lists; keep the policy hashable and in stage order.
                if not isinstance(value, list | tuple):
                    raise ValueError(f"{spec.name} must be a list of whole numbers, got {value!r}")
                for number in value:
                    _check_int(spec.name, number, minimum=1)
                if len(set(value)) != len(value):
                    raise ValueError(f"{spec.name} repeats a value: {list(value)}")
                object.__setattr__(self, spec.name, tuple(sorted(value, reverse=True)))
            elif spec.name == "remind_on_the_day":
                if not isinstance(value, bool):
                    raise ValueError(f"remind_on_the_day must be true or false, got {value!r}")
            elif spec.name == "send_hour":
                _check_int(spec.name, value, minimum=0, maximum=23)
            elif spec.name == "overdue_max":
                _check_int(spec.name, value, minimum=0)
            elif spec.name == "sweep_minutes":
                _check_int(spec.name, value, minimum=1, maximum=_DAY_MINUTES)
            else:
                _check_int(spec.name, value, minimum=1)

    @property
    def lookahead_days(self) -> int:
        """How far ahead `items_open` must look for every first reminder to be planned."""
        earliest_lead = max(
            31 * max(self.treaty_months_before, default=0),
            max(self.annual_days_before, default=0),
            max(self.custom_days_before, default=0),
        )
        return earliest_lead + _WEEK  # a first reminder may move a few days earlier

    @property
    def lookback_days(self) -> int:
        """How far back `items_open` must look for the escalation to be planned.

        Beyond a week for a weekend move, four more weeks let a bot that was down over
        the escalation day still escalate once when it comes back.
        """
        return (self.overdue_max + 1) * self.overdue_every_days + _WEEK + _DOWNTIME


def open_items(cal: StateCalendar, today: date, policy: ReminderPolicy) -> list[DueItem]:
    """The State's items within the policy's reminder window: what the planner reminds of and
    what a delegate's overview lists, so the two never disagree."""
    return items_open(
        cal, today, lookahead_days=policy.lookahead_days, lookback_days=policy.lookback_days
    )


@dataclass(frozen=True, slots=True)
class Stage:
    """One reminder of one item: its name (the ledger key) and the local day it is sent."""

    name: str
    on: date


def is_working_day(day: date, weekend: frozenset[int]) -> bool:
    """Whether `day` is outside `weekend` (0=Monday … 6=Sunday, as Babel numbers them)."""
    _check_weekend(weekend)
    return day.weekday() not in weekend


def previous_working_day(day: date, weekend: frozenset[int]) -> date:
    """`day` itself if it is a working day, else the closest working day before it."""
    while not is_working_day(day, weekend):
        day -= timedelta(days=1)
    return day


def next_working_day(day: date, weekend: frozenset[int]) -> date:
    """`day` itself if it is a working day, else the closest working day after it."""
    while not is_working_day(day, weekend):
        day += timedelta(days=1)
    return day


def send_at(local_day: date, tz: ZoneInfo, hour: int) -> datetime:
    """The UTC instant of `hour`:00 on `local_day` in `tz`.

    A repeated hour (autumn) means its first occurrence; a skipped one (spring, or
    Santiago's midnight) means the first instant after the gap.
    """
    _check_int("hour", hour, minimum=0, maximum=23)
    return local_instant(local_day, time(hour), tz)


def stages_for(item: DueItem, policy: ReminderPolicy) -> list[Stage]:
    """The item's stages on their nominal days, in order, before weekends are considered."""
    due = item.due
    if item.kind is ItemKind.TREATY:
        return [Stage(f"{n}m", add_months(due, -n)) for n in policy.treaty_months_before]
    days_before = (
        policy.annual_days_before if item.kind is ItemKind.ART7 else policy.custom_days_before
    )
    stages = [Stage(f"{n}d", due - timedelta(days=n)) for n in days_before]
    if policy.remind_on_the_day:
        stages.append(Stage(DAY, due))
    if item.kind is ItemKind.ART7:
        every = timedelta(days=policy.overdue_every_days)
        stages.extend(
            Stage(f"overdue-{k}", due + k * every) for k in range(1, policy.overdue_max + 1)
        )
        stages.append(Stage(ESCALATE, due + (policy.overdue_max + 1) * every))
    return stages


def scheduled_stages(item: DueItem, policy: ReminderPolicy, weekend: frozenset[int]) -> list[Stage]:
    """The stages moved onto working days: earlier up to the due date, later after it.

    Moving keeps the order, so only neighbours can meet on a day; the later stage wins
    (the one closest to the deadline, or the furthest overdue), so no day gets two.
    """
    moved: list[Stage] = []
    for stage in stages_for(item, policy):
        if stage.on <= item.due:
            day = previous_working_day(stage.on, weekend)
        else:
            day = next_working_day(stage.on, weekend)
        if moved and moved[-1].on == day:
            moved.pop()
        moved.append(Stage(stage.name, day))
    return moved


def current_stage(
    item: DueItem,
    policy: ReminderPolicy,
    weekend: frozenset[int],
    tz: ZoneInfo,
    now: datetime,
) -> Stage | None:
    """The latest stage whose send instant has come, or None before the first.

    Earlier stages that have also come are superseded, never returned: after downtime
    the State gets one reminder, the latest. After the escalation this keeps answering
    `escalate`; the caller's ledger makes it happen once.
    """
    _require_aware(now)
    latest: Stage | None = None
    for stage in scheduled_stages(item, policy, weekend):
        if send_at(stage.on, tz, policy.send_hour) > now:
            break
        latest = stage
    return latest


def next_send(
    item: DueItem,
    policy: ReminderPolicy,
    weekend: frozenset[int],
    tz: ZoneInfo,
    now: datetime,
) -> tuple[Stage, datetime] | None:
    """The first stage still to come and its UTC send instant: when to wake up next."""
    _require_aware(now)
    for stage in scheduled_stages(item, policy, weekend):
        instant = send_at(stage.on, tz, policy.send_hour)
        if instant > now:
            return stage, instant
    return None


def stages_on(
    item: DueItem, policy: ReminderPolicy, weekend: frozenset[int], local_day: date
) -> list[Stage]:
    """The stages sent on `local_day` (at most one), for previewing a day's reminders."""
    return [stage for stage in scheduled_stages(item, policy, weekend) if stage.on == local_day]


def snooze_until(today: date, policy: ReminderPolicy) -> date:
    """The first day a snoozed item may be reminded of again."""
    return today + timedelta(days=policy.snooze_days)


def _check_int(name: str, value: object, *, minimum: int, maximum: int | None = None) -> None:
    # bool is an int subclass; `send_hour = true` in TOML is a mistake, not hour 1.
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    if value < minimum or (maximum is not None and value > maximum):
        bounds = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
        raise ValueError(f"{name} must be {bounds}, got {value}")


def _check_weekend(weekend: frozenset[int]) -> None:
    if not weekend <= frozenset(range(7)):
        raise ValueError(f"weekend days are 0 (Monday) to 6 (Sunday), got {sorted(weekend)}")
    if len(weekend) == 7:
        raise ValueError("a weekend of all seven days leaves no working day")


def _require_aware(now: datetime) -> None:
    if now.utcoffset() is None:
        raise ValueError(f"now must be timezone-aware, got naive {now}")
