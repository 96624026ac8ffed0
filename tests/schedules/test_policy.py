"""The reminder policy: stages, weekends, send instants across DST, downtime, escalation."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from schedules.calendar import (
    DueItem,
    ItemKind,
    StateCalendar,
    items_open,
)
from schedules.policy import (
    SATURDAY_SUNDAY,
    ReminderPolicy,
    Stage,
    current_stage,
    is_working_day,
    next_send,
    next_working_day,
    previous_working_day,
    scheduled_stages,
    send_at,
    snooze_until,
    stages_for,
    stages_on,
)

ZURICH = ZoneInfo("Europe/Zurich")  # Geneva's zone: IANA has no "Europe/Geneva"
SANTIAGO = ZoneInfo("America/Santiago")
SYDNEY = ZoneInfo("Australia/Sydney")
BEIRUT = ZoneInfo("Asia/Beirut")

FRIDAY_SATURDAY = frozenset({4, 5})
FRIDAY_ONLY = frozenset({4})
THURSDAY_FRIDAY = frozenset({3, 4})
NO_WEEKEND: frozenset[int] = frozenset()

POLICY = ReminderPolicy()
# The report covering 2026 is due on Friday 30 April 2027; 30 April 2028 is a Sunday.
ANNUAL_2026 = DueItem("IRQ", "art7-annual-2026", ItemKind.ART7, date(2027, 4, 30), 7, 2026)
ANNUAL_2027 = DueItem("IRQ", "art7-annual-2027", ItemKind.ART7, date(2028, 4, 30), 7, 2027)
ART4 = DueItem("IRQ", "art4", ItemKind.TREATY, date(2028, 3, 31), 4)
CUSTOM = DueItem("IRQ", "custom-5", ItemKind.CUSTOM, date(2027, 7, 15), title="Meeting input")


def named(stages: list[Stage]) -> list[tuple[str, date]]:
    return [(stage.name, stage.on) for stage in stages]


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


# --- the policy itself -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"annual_days_before": (60, 0)}, "annual_days_before must be >= 1, got 0"),
        ({"custom_days_before": (7, -1)}, "custom_days_before must be >= 1"),
        ({"treaty_months_before": (12, 12)}, "repeats a value"),
        ({"treaty_months_before": 12}, "must be a list"),
        ({"annual_days_before": (30, 7.5)}, "whole number"),
        ({"overdue_every_days": 0}, "overdue_every_days must be >= 1"),
        ({"overdue_max": -1}, "overdue_max must be >= 0"),
        ({"send_hour": 24}, "send_hour must be between 0 and 23, got 24"),
        ({"send_hour": -1}, "send_hour must be between 0 and 23"),
        ({"send_hour": True}, "send_hour must be a whole number"),
        ({"snooze_days": 0}, "snooze_days must be >= 1"),
        ({"remind_on_the_day": 1}, "true or false"),
        ({"sweep_minutes": 0}, "sweep_minutes must be between 1 and 1440"),
        ({"sweep_minutes": 1441}, "sweep_minutes must be between 1 and 1440, got 1441"),
    ],
)
def test_policy_rejects_bad_settings(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ReminderPolicy(**changes)  # type: ignore[arg-type]


def test_policy_from_toml_lists_is_hashable_and_ordered() -> None:
    policy = ReminderPolicy(annual_days_before=[7, 60, 30], send_hour=0)  # type: ignore[arg-type]
    assert policy.annual_days_before == (60, 30, 7)
    assert hash(policy) == hash(ReminderPolicy(annual_days_before=(60, 30, 7), send_hour=0))


def test_default_policy_window_reaches_its_first_reminder_and_its_escalation() -> None:
    # 24 months ahead for the earliest treaty reminder; escalation 56 days after the due date;
    # a week for a stage moved off a weekend, four more weeks of downtime.
    assert POLICY.lookahead_days == 24 * 31 + 7
    assert POLICY.lookback_days == (3 + 1) * 14 + 7 + 28


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ({}, POLICY),
        ({"annual_days_before": [7, 60]}, replace(POLICY, annual_days_before=(60, 7))),
        ({"sweep_minutes": 1440}, replace(POLICY, sweep_minutes=1440)),
    ],
)
def test_policy_from_a_toml_table(table: dict[str, object], expected: ReminderPolicy) -> None:
    assert ReminderPolicy.from_table(table) == expected


def test_policy_from_a_toml_table_names_an_unknown_key_and_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown setting send_hours; .* takes .*send_hour,"):
        ReminderPolicy.from_table({"send_hours": 8})


# --- nominal stages ----------------------------------------------------------------------


def test_art7_stages_before_on_the_day_overdue_and_escalate() -> None:
    assert named(stages_for(ANNUAL_2026, POLICY)) == [
        ("60d", date(2027, 3, 1)),
        ("30d", date(2027, 3, 31)),
        ("14d", date(2027, 4, 16)),
        ("7d", date(2027, 4, 23)),
        ("1d", date(2027, 4, 29)),
        ("day", date(2027, 4, 30)),
        ("overdue-1", date(2027, 5, 14)),
        ("overdue-2", date(2027, 5, 28)),
        ("overdue-3", date(2027, 6, 11)),
        ("escalate", date(2027, 6, 25)),
    ]


def test_treaty_stages_use_calendar_months_clamped() -> None:
    assert named(stages_for(ART4, POLICY)) == [
        ("24m", date(2026, 3, 31)),
        ("12m", date(2027, 3, 31)),
        ("6m", date(2027, 9, 30)),
        ("3m", date(2027, 12, 31)),
        ("1m", date(2028, 2, 29)),  # 31 March 2028 - 1 month, a leap year
    ]


def test_custom_stages_have_no_overdue_or_escalation() -> None:
    assert named(stages_for(CUSTOM, POLICY)) == [
        ("30d", date(2027, 6, 15)),
        ("7d", date(2027, 7, 8)),
        ("1d", date(2027, 7, 14)),
        ("day", date(2027, 7, 15)),
    ]


@pytest.mark.parametrize(
    ("policy", "expected_tail"),
    [
        (ReminderPolicy(remind_on_the_day=False), ["1d", "overdue-1"]),
        (ReminderPolicy(overdue_max=0), ["day", "escalate"]),
        (ReminderPolicy(overdue_max=1, overdue_every_days=7), ["day", "overdue-1", "escalate"]),
    ],
)
def test_policy_shapes_the_stages(policy: ReminderPolicy, expected_tail: list[str]) -> None:
    names = [stage.name for stage in stages_for(ANNUAL_2026, policy)]
    start = names.index(expected_tail[0])
    assert names[start : start + len(expected_tail)] == expected_tail


def test_escalation_after_the_last_overdue_interval() -> None:
    policy = ReminderPolicy(overdue_max=2, overdue_every_days=10)
    assert stages_for(ANNUAL_2026, policy)[-1] == Stage("escalate", date(2027, 5, 30))


# --- working days ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "weekend", "previous", "following"),
    [
        (date(2027, 4, 24), SATURDAY_SUNDAY, date(2027, 4, 23), date(2027, 4, 26)),
        (date(2027, 4, 25), SATURDAY_SUNDAY, date(2027, 4, 23), date(2027, 4, 26)),
        (date(2027, 4, 23), FRIDAY_SATURDAY, date(2027, 4, 22), date(2027, 4, 25)),
        (date(2027, 4, 24), FRIDAY_SATURDAY, date(2027, 4, 22), date(2027, 4, 25)),
        (date(2027, 4, 23), FRIDAY_ONLY, date(2027, 4, 22), date(2027, 4, 24)),
        (date(2027, 4, 22), THURSDAY_FRIDAY, date(2027, 4, 21), date(2027, 4, 24)),
        (date(2027, 4, 21), THURSDAY_FRIDAY, date(2027, 4, 21), date(2027, 4, 21)),
        (date(2027, 1, 1), SATURDAY_SUNDAY, date(2027, 1, 1), date(2027, 1, 1)),  # Friday
        (date(2028, 1, 1), SATURDAY_SUNDAY, date(2027, 12, 31), date(2028, 1, 3)),
    ],
)
def test_working_day_moves(
    day: date, weekend: frozenset[int], previous: date, following: date
) -> None:
    assert previous_working_day(day, weekend) == previous
    assert next_working_day(day, weekend) == following
    assert is_working_day(day, weekend) is (previous == day)


@pytest.mark.parametrize(
    ("weekend", "message"),
    [(frozenset({7}), "0 \\(Monday\\) to 6"), (frozenset(range(7)), "no working day")],
)
def test_impossible_weekends_are_rejected(weekend: frozenset[int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        next_working_day(date(2027, 1, 1), weekend)


@pytest.mark.parametrize(
    ("item", "weekend", "expected"),
    [
        (
            ANNUAL_2027,  # due on a Sunday: "1d" and "day" both land on Friday, "day" wins
            SATURDAY_SUNDAY,
            [
                ("60d", date(2028, 3, 1)),
                ("30d", date(2028, 3, 31)),
                ("14d", date(2028, 4, 14)),
                ("7d", date(2028, 4, 21)),
                ("day", date(2028, 4, 28)),
                ("overdue-1", date(2028, 5, 15)),
                ("overdue-2", date(2028, 5, 29)),
                ("overdue-3", date(2028, 6, 12)),
                ("escalate", date(2028, 6, 26)),
            ],
        ),
        (
            ANNUAL_2027,  # Friday-Saturday weekend: Sunday is a working day
            FRIDAY_SATURDAY,
            [
                ("60d", date(2028, 3, 1)),
                ("30d", date(2028, 3, 30)),
                ("14d", date(2028, 4, 16)),
                ("7d", date(2028, 4, 23)),
                ("1d", date(2028, 4, 27)),
                ("day", date(2028, 4, 30)),
                ("overdue-1", date(2028, 5, 14)),
                ("overdue-2", date(2028, 5, 28)),
                ("overdue-3", date(2028, 6, 11)),
                ("escalate", date(2028, 6, 25)),
            ],
        ),
        (
            ANNUAL_2026,  # due on a Thursday-Friday weekend: early before, late after
            THURSDAY_FRIDAY,
            [
                ("60d", date(2027, 3, 1)),
                ("30d", date(2027, 3, 31)),
                ("14d", date(2027, 4, 14)),
                ("7d", date(2027, 4, 21)),
                ("day", date(2027, 4, 28)),
                ("overdue-1", date(2027, 5, 15)),
                ("overdue-2", date(2027, 5, 29)),
                ("overdue-3", date(2027, 6, 12)),
                ("escalate", date(2027, 6, 26)),
            ],
        ),
        (
            ART4,
            SATURDAY_SUNDAY,
            [
                ("24m", date(2026, 3, 31)),
                ("12m", date(2027, 3, 31)),
                ("6m", date(2027, 9, 30)),
                ("3m", date(2027, 12, 31)),
                ("1m", date(2028, 2, 29)),
            ],
        ),
        (
            replace(ART4, due=date(2027, 8, 1)),  # a Sunday; 1 Aug 2026 and 1 May 2027 Saturdays
            SATURDAY_SUNDAY,
            [
                ("24m", date(2025, 8, 1)),
                ("12m", date(2026, 7, 31)),
                ("6m", date(2027, 2, 1)),
                ("3m", date(2027, 4, 30)),
                ("1m", date(2027, 7, 1)),
            ],
        ),
    ],
)
def test_scheduled_stages_move_off_weekends(
    item: DueItem, weekend: frozenset[int], expected: list[tuple[str, date]]
) -> None:
    assert named(scheduled_stages(item, POLICY, weekend)) == expected


@pytest.mark.parametrize(
    "weekend", [NO_WEEKEND, SATURDAY_SUNDAY, FRIDAY_SATURDAY, FRIDAY_ONLY, THURSDAY_FRIDAY]
)
@pytest.mark.parametrize("kind", list(ItemKind))
def test_scheduled_stages_invariants_over_a_year_of_due_dates(
    weekend: frozenset[int], kind: ItemKind
) -> None:
    for offset in range(366):
        item = DueItem("IRQ", "x", kind, date(2027, 1, 1) + timedelta(days=offset))
        nominal = {stage.name: stage.on for stage in stages_for(item, POLICY)}
        moved = scheduled_stages(item, POLICY, weekend)
        days = [stage.on for stage in moved]
        assert days == sorted(set(days)), item  # in order, one stage a day
        assert [name for name in nominal if name in {s.name for s in moved}] == [
            stage.name for stage in moved
        ]
        assert moved[-1].name == list(nominal)[-1]  # the closest/furthest stage survives
        for stage in moved:
            assert is_working_day(stage.on, weekend)
            was = nominal[stage.name]
            if was <= item.due:
                assert was - timedelta(days=6) <= stage.on <= was
            else:
                assert was <= stage.on <= was + timedelta(days=6)


# --- send instants -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tz", "day", "hour", "expected"),
    [
        # Zurich: summer time from Sunday 28 March 02:00 to Sunday 31 October 03:00 (2027).
        (ZURICH, date(2027, 3, 27), 9, utc(2027, 3, 27, 8)),
        (ZURICH, date(2027, 3, 28), 9, utc(2027, 3, 28, 7)),
        (ZURICH, date(2027, 3, 28), 2, utc(2027, 3, 28, 1)),  # skipped: 03:00 CEST
        (ZURICH, date(2027, 10, 30), 9, utc(2027, 10, 30, 7)),
        (ZURICH, date(2027, 10, 31), 9, utc(2027, 10, 31, 8)),
        (ZURICH, date(2027, 10, 31), 2, utc(2027, 10, 31, 0)),  # repeated: the first
        (ZURICH, date(2027, 12, 31), 23, utc(2027, 12, 31, 22)),
        # Santiago changes at local midnight: 4 April (back) and 5 September 2027 (forward).
        (SANTIAGO, date(2027, 4, 3), 9, utc(2027, 4, 3, 12)),
        (SANTIAGO, date(2027, 4, 3), 23, utc(2027, 4, 4, 2)),  # repeated: the first
        (SANTIAGO, date(2027, 4, 4), 9, utc(2027, 4, 4, 13)),
        (SANTIAGO, date(2027, 9, 4), 9, utc(2027, 9, 4, 13)),
        (SANTIAGO, date(2027, 9, 5), 0, utc(2027, 9, 5, 4)),  # midnight skipped: 01:00
        (SANTIAGO, date(2027, 9, 5), 9, utc(2027, 9, 5, 12)),
        # Sydney: back on 4 April, forward on 3 October 2027; 09:00 is the previous UTC day.
        (SYDNEY, date(2027, 4, 3), 9, utc(2027, 4, 2, 22)),
        (SYDNEY, date(2027, 4, 4), 2, utc(2027, 4, 3, 15)),  # repeated: the first
        (SYDNEY, date(2027, 4, 4), 9, utc(2027, 4, 3, 23)),
        (SYDNEY, date(2027, 10, 2), 9, utc(2027, 10, 1, 23)),
        (SYDNEY, date(2027, 10, 3), 2, utc(2027, 10, 2, 16)),  # skipped: 03:00 AEDT
        (SYDNEY, date(2027, 10, 3), 9, utc(2027, 10, 2, 22)),
        (BEIRUT, date(2027, 3, 28), 0, utc(2027, 3, 27, 22)),  # midnight skipped: 01:00
    ],
)
def test_send_at_is_wall_clock_hour_in_utc(
    tz: ZoneInfo, day: date, hour: int, expected: datetime
) -> None:
    instant = send_at(day, tz, hour)
    assert instant == expected
    assert instant.utcoffset() == timedelta(0)


def test_send_at_rejects_impossible_hour() -> None:
    with pytest.raises(ValueError, match="hour must be between 0 and 23"):
        send_at(date(2027, 1, 1), ZURICH, 24)


# --- the current stage -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (utc(2027, 3, 1, 7, 59, 59), None),  # 08:59:59 in Zurich (CET)
        (utc(2027, 3, 1, 8), "60d"),
        (utc(2027, 3, 31, 6, 59), "60d"),  # 08:59 CEST: the clocks moved on 28 March
        (utc(2027, 3, 31, 7), "30d"),
        (utc(2027, 4, 24, 12), "7d"),  # down since 15 April: 14d is superseded, not sent
        (utc(2027, 4, 30, 7), "day"),
        (utc(2027, 6, 11, 7), "overdue-3"),
        (utc(2027, 6, 25, 7), "escalate"),
        (utc(2030, 1, 1), "escalate"),
    ],
)
def test_current_stage_is_the_latest_whose_time_has_come(
    now: datetime, expected: str | None
) -> None:
    stage = current_stage(ANNUAL_2026, POLICY, SATURDAY_SUNDAY, ZURICH, now)
    assert (stage.name if stage else None) == expected


def test_current_stage_uses_the_moved_day_and_the_state_zone() -> None:
    # Due Sunday 30 April 2028; with a Saturday-Sunday weekend "day" is sent Friday 28th.
    friday_9am_santiago = utc(2028, 4, 28, 13)
    assert current_stage(ANNUAL_2027, POLICY, SATURDAY_SUNDAY, SANTIAGO, friday_9am_santiago)
    stage = current_stage(
        ANNUAL_2027, POLICY, SATURDAY_SUNDAY, SANTIAGO, friday_9am_santiago - timedelta(seconds=1)
    )
    assert stage == Stage("7d", date(2028, 4, 21))


def test_current_stage_needs_an_aware_now() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        current_stage(ANNUAL_2026, POLICY, SATURDAY_SUNDAY, ZURICH, datetime(2027, 4, 1))


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (utc(2027, 1, 1), (Stage("60d", date(2027, 3, 1)), utc(2027, 3, 1, 8))),
        (utc(2027, 4, 16, 7), (Stage("7d", date(2027, 4, 23)), utc(2027, 4, 23, 7))),
        (utc(2027, 6, 25, 7), None),
    ],
)
def test_next_send(now: datetime, expected: tuple[Stage, datetime] | None) -> None:
    assert next_send(ANNUAL_2026, POLICY, SATURDAY_SUNDAY, ZURICH, now) == expected


@pytest.mark.parametrize(
    ("item", "day", "expected"),
    [
        (ANNUAL_2026, date(2027, 4, 23), ["7d"]),
        (ANNUAL_2026, date(2027, 4, 24), []),
        (ANNUAL_2027, date(2028, 4, 28), ["day"]),  # 1d merged into it
        (ANNUAL_2027, date(2028, 4, 30), []),  # a Sunday
        (CUSTOM, date(2027, 7, 15), ["day"]),
    ],
)
def test_stages_on_previews_a_day(item: DueItem, day: date, expected: list[str]) -> None:
    assert [s.name for s in stages_on(item, POLICY, SATURDAY_SUNDAY, day)] == expected


@pytest.mark.parametrize(
    ("policy", "today", "expected"),
    [
        (POLICY, date(2027, 4, 23), date(2027, 4, 30)),
        (ReminderPolicy(snooze_days=3), date(2027, 12, 30), date(2028, 1, 2)),
    ],
)
def test_snooze_until(policy: ReminderPolicy, today: date, expected: date) -> None:
    assert snooze_until(today, policy) == expected


# --- the planner's loop, end to end ------------------------------------------------------

IRQ = StateCalendar(
    iso3="IRQ",
    entry_into_force=date(2013, 11, 1),
    initial_report_submitted=True,
    submitted_annual_years=frozenset(range(2013, 2026)),
)


def run_planner(
    calendar_at: Callable[[datetime], StateCalendar],
    tz: ZoneInfo,
    weekend: frozenset[int],
    *,
    down: tuple[datetime, datetime] | None = None,
) -> list[tuple[str, str, datetime]]:
    """Wake every hour from February to August 2027, send what is due once per stage."""
    sent: list[tuple[str, str, datetime]] = []
    ledger: set[tuple[str, str]] = set()
    now = utc(2027, 2, 1)
    while now < utc(2027, 8, 1):
        if down is None or not down[0] <= now < down[1]:
            today = now.astimezone(tz).date()
            cal = calendar_at(now)
            for item in items_open(
                cal, today, lookahead_days=POLICY.lookahead_days, lookback_days=POLICY.lookback_days
            ):
                stage = current_stage(item, POLICY, weekend, tz, now)
                if stage and (item.item, stage.name) not in ledger:
                    ledger.add((item.item, stage.name))
                    sent.append((item.item, stage.name, now))
        now += timedelta(hours=1)
    return sent


def submitted_on(day: datetime) -> Callable[[datetime], StateCalendar]:
    def calendar_at(now: datetime) -> StateCalendar:
        if now < day:
            return IRQ
        return replace(IRQ, submitted_annual_years=IRQ.submitted_annual_years | {2026})

    return calendar_at


ALL_STAGES = [
    "60d",
    "30d",
    "14d",
    "7d",
    "1d",
    "day",
    "overdue-1",
    "overdue-2",
    "overdue-3",
    "escalate",
]


@pytest.mark.parametrize(
    ("submitted", "down", "expected"),
    [
        (None, None, ALL_STAGES),
        # Submitted on 20 April, between the 14-day and the 7-day reminders.
        (utc(2027, 4, 20), None, ["60d", "30d", "14d"]),
        # Down from 10 to 25 April: one 7d reminder on restart, no 14d flood.
        (None, (utc(2027, 4, 10), utc(2027, 4, 25)), ["60d", "30d", "7d", *ALL_STAGES[4:]]),
        # Down over the escalation day and beyond: escalate once, on restart.
        (None, (utc(2027, 6, 1), utc(2027, 7, 15)), [*ALL_STAGES[:8], "escalate"]),
    ],
)
def test_planner_sends_each_reminder_once(
    submitted: datetime | None,
    down: tuple[datetime, datetime] | None,
    expected: list[str],
) -> None:
    calendar_at = submitted_on(submitted) if submitted else (lambda now: IRQ)
    sent = run_planner(calendar_at, ZURICH, SATURDAY_SUNDAY, down=down)
    assert [stage for item, stage, _ in sent if item == "art7-annual-2026"] == expected
    assert {item for item, _, _ in sent} == {"art7-annual-2026"}


def test_planner_sends_at_nine_local_on_working_days_across_dst() -> None:
    sent = run_planner(lambda now: IRQ, SANTIAGO, FRIDAY_SATURDAY)
    for _, _, instant in sent:
        local = instant.astimezone(SANTIAGO)
        assert local.hour == 9, instant
        assert is_working_day(local.date(), FRIDAY_SATURDAY)
    offsets = {instant.astimezone(SANTIAGO).utcoffset() for _, _, instant in sent}
    assert offsets == {timedelta(hours=-3), timedelta(hours=-4)}  # both sides of 4 April


@pytest.mark.parametrize("policy", [POLICY, ReminderPolicy(treaty_months_before=(36, 1))])
@pytest.mark.parametrize("weekend", [SATURDAY_SUNDAY, FRIDAY_SATURDAY])
def test_policy_window_keeps_every_stage_in_view(
    policy: ReminderPolicy, weekend: frozenset[int]
) -> None:
    """An item must be open on the day of each of its stages, or the planner misses it."""
    for offset in range(0, 800, 3):
        due = date(2030, 1, 1) + timedelta(days=offset)
        cal = replace(IRQ, submitted_annual_years=frozenset(range(2013, 2100)), art4_deadline=due)
        items = items_open(
            cal,
            due,
            lookahead_days=policy.lookahead_days,
            lookback_days=policy.lookback_days,
        )
        [art4] = items
        for kind in (ItemKind.TREATY, ItemKind.ART7):
            for stage in scheduled_stages(replace(art4, kind=kind), policy, weekend):
                open_then = items_open(
                    cal,
                    stage.on,
                    lookahead_days=policy.lookahead_days,
                    lookback_days=policy.lookback_days,
                )
                assert [item.item for item in open_then] == ["art4"], (kind, stage)
