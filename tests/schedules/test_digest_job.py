"""The weekly digest's timetable: which week is due when, and once per person and week.

Periods are checked at the year's edges (2026 has an ISO week 53, which spans 31 December) and
across a change of the clocks; the job runs twice, concurrently, after downtime and after a
crash, on SQLite and PostgreSQL, and each subscriber still gets each week's digest once.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import select

from bot.mail.digest_sending import DigestService
from bot.settings import Settings
from handlers.digest import DigestSchedule, due_period, latest_completed_week, load_shared_facts
from schedules.clock import FixedClock
from schedules.delivery import DeliveryError
from schedules.dispatch import Dispatcher
from schedules.jobs import DIGEST_JOB, HOUSEKEEPING_JOB, SWEEP_JOB, Sweep, register_jobs
from schedules.periods import Period, iso_week, parse_iso_week
from schedules.policy import ReminderPolicy
from schedules.zones import resolve_zone
from storage.audit import SYSTEM
from storage.claims import CLAIM_LEASE
from storage.contacts import contact_by_email
from storage.db import Store
from storage.digest import FAILED, RETRY, SENDING, SENT, claim_digest
from storage.models import DigestSend
from storage.states import load_states
from tests.handlers.test_digest import COORDINATOR, SUBSCRIBERS, build_week, some_states

ZONE = resolve_zone("Europe/Geneva")
MONDAY = DigestSchedule()
FRIDAY_EVENING = DigestSchedule(weekday="fri", hour=17)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def week(text: str) -> Period:
    return iso_week(*parse_iso_week(text), ZONE)


# --------------------------------------------------------------------------- periods


@pytest.mark.parametrize(
    ("now", "schedule", "expected"),
    [
        # 2026 has 53 ISO weeks; W53 runs Monday 28 December 2026 to Sunday 3 January 2027.
        pytest.param(utc(2027, 1, 4, 7, 0), MONDAY, "2026-W53", id="w53-at-08:00-cet"),
        pytest.param(utc(2027, 1, 4, 6, 59), MONDAY, "2026-W52", id="w53-a-minute-early"),
        pytest.param(utc(2027, 1, 11, 7, 0), MONDAY, "2027-W01", id="first-week-after-w53"),
        # 2025-W01 began on Monday 30 December 2024.
        pytest.param(utc(2025, 1, 6, 7, 0), MONDAY, "2025-W01", id="week-spanning-new-year"),
        pytest.param(utc(2024, 12, 31, 12, 0), MONDAY, "2024-W52", id="on-31-december"),
        # The clocks went forward on Sunday 28 March 2027: 08:00 is 06:00 UTC the next day.
        pytest.param(utc(2027, 3, 29, 6, 0), MONDAY, "2027-W12", id="after-spring-forward"),
        pytest.param(utc(2027, 3, 29, 5, 59), MONDAY, "2027-W11", id="before-spring-forward"),
        # A Friday 17:00 digest still covers the last complete Monday-to-Sunday week.
        pytest.param(utc(2027, 1, 8, 16, 0), FRIDAY_EVENING, "2026-W53", id="friday"),
        pytest.param(utc(2027, 1, 8, 15, 59), FRIDAY_EVENING, "2026-W52", id="friday-early"),
        # A bot down all week sends the latest week, never an older missed one.
        pytest.param(utc(2027, 4, 14, 12, 0), MONDAY, "2027-W14", id="after-downtime"),
    ],
)
def test_due_period(now: datetime, schedule: DigestSchedule, expected: str) -> None:
    assert due_period(now, ZONE, schedule) == week(expected)


def test_week_53_spans_the_new_year_in_geneva() -> None:
    w53 = week("2026-W53")
    assert (w53.start, w53.end) == (utc(2026, 12, 27, 23, 0), utc(2027, 1, 3, 23, 0))
    assert latest_completed_week(utc(2027, 1, 4, 0, 0), ZONE) == w53
    with pytest.raises(ValueError, match="2027 has no ISO week 53"):
        parse_iso_week("2027-W53")


def test_the_spring_forward_week_is_an_hour_short() -> None:
    w12 = week("2027-W12")
    assert w12.end - w12.start == timedelta(days=7, hours=-1)
    assert MONDAY.send_time(week("2027-W13"), ZONE) == utc(2027, 3, 29, 6, 0)


@pytest.mark.parametrize(("weekday", "hour"), [("monday", 8), ("Mon", 8), ("mon", 24), ("mon", -1)])
def test_a_wrong_schedule_is_refused(weekday: str, hour: int) -> None:
    with pytest.raises(ValueError, match="digest"):
        DigestSchedule(weekday=weekday, hour=hour)


@pytest.mark.parametrize(
    ("iso", "as_of", "year"),
    [
        ("2026-W53", "2027-01-03", 2026),  # the reporting year turns with the calendar year
        ("2026-W52", "2026-12-27", 2025),
        ("2025-W01", "2025-01-05", 2024),
    ],
)
async def test_the_reporting_year_of_a_week_at_the_edges(
    store: Store, iso: str, as_of: str, year: int
) -> None:
    async with store.transaction() as session:
        shared = await load_shared_facts(session, week(iso), ZONE)
    assert (shared.as_of.isoformat(), shared.year) == (as_of, year)
    assert shared.due.isoformat() == f"{year + 1}-04-30"


# --------------------------------------------------------------------------- the job


class Outbox:
    def __init__(self, failures: list[DeliveryError] | None = None) -> None:
        self.sent: list[EmailMessage] = []
        self.failures = failures or []

    async def send_message(self, msg: EmailMessage) -> str:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(msg)
        return str(msg["Message-ID"])

    def addresses(self) -> list[str]:
        return sorted(str(m["To"]) for m in self.sent)


SETTINGS = Settings(timezone="Europe/Geneva", reply_domain="reply.ccm-bot.test", secret_key="k")
SEND_TIME = utc(2027, 3, 29, 6, 0)  # Monday 08:00 in Geneva: W12 is due


def service(
    store: Store, outbox: Outbox, *, worker: str = "bot-1", at: datetime = SEND_TIME
) -> DigestService:
    return DigestService.from_settings(
        SETTINGS, store=store, sender=outbox, clock=FixedClock(at), worker=worker
    )


async def sends(store: Store) -> list[DigestSend]:
    async with store.transaction() as session:
        return list(await session.scalars(select(DigestSend).order_by(DigestSend.id)))


@pytest.fixture
async def world(store: Store) -> Store:
    await build_week(store)
    return store


async def test_register_jobs_adds_the_weekly_digest_with_a_fixed_id(store: Store) -> None:
    clock = FixedClock(SEND_TIME)
    sweep = Sweep(
        store,
        ReminderPolicy(),
        Dispatcher(store, {}, "w", fallback_zone=ZONE.key),
        clock,
        False,
        ZONE.key,
    )
    digest = service(store, Outbox())
    scheduler = AsyncIOScheduler(timezone=ZONE)
    register_jobs(scheduler, sweep=sweep, sweep_minutes=10, digest=digest)
    register_jobs(scheduler, sweep=sweep, sweep_minutes=10, digest=digest)  # replaces
    scheduler.start(paused=True)
    try:
        job = scheduler.get_job(DIGEST_JOB)
        assert job is not None
        assert {j.id for j in scheduler.get_jobs()} == {SWEEP_JOB, DIGEST_JOB, HOUSEKEEPING_JOB}
        assert isinstance(job.trigger, CronTrigger)
        assert str(job.trigger.fields[job.trigger.FIELD_NAMES.index("minute")]) == "*/5"
        assert job.next_run_time == SEND_TIME  # a restarted bot checks at once
        assert (job.max_instances, job.coalesce) == (1, True)
    finally:
        scheduler.shutdown(wait=False)


async def test_running_the_job_twice_sends_one_digest_per_subscriber(world: Store) -> None:
    outbox = Outbox()
    first = await service(world, outbox).run()
    second = await service(world, outbox).run()

    assert first.period == second.period == week("2027-W12")
    assert sorted(first.sent) == outbox.addresses() == sorted(SUBSCRIBERS)
    assert (second.sent, second.skipped) == ([], len(SUBSCRIBERS))
    rows = await sends(world)
    assert [r.status for r in rows] == [SENT] * len(SUBSCRIBERS)
    assert {r.period_start for r in rows} == {week("2027-W12").start}
    assert sorted(r.message_id or "" for r in rows) == sorted(
        str(m["Message-ID"]) for m in outbox.sent
    )


async def test_two_bots_running_at_once_send_one_each(world: Store) -> None:
    one, two = Outbox(), Outbox()
    await asyncio.gather(
        service(world, one, worker="bot-1").run(), service(world, two, worker="bot-2").run()
    )
    assert sorted(one.addresses() + two.addresses()) == sorted(SUBSCRIBERS)
    assert len(await sends(world)) == len(SUBSCRIBERS)


async def test_a_bot_that_was_down_sends_the_missed_week_once(world: Store) -> None:
    outbox = Outbox()
    wednesday = utc(2027, 3, 31, 12, 0)  # down on Monday; back on Wednesday
    assert len((await service(world, outbox, at=wednesday).run()).sent) == len(SUBSCRIBERS)
    for moment in (utc(2027, 4, 4, 20, 0), utc(2027, 4, 5, 5, 59)):  # before next Monday 08:00
        assert (await service(world, outbox, at=moment).run()).sent == []
    assert len((await service(world, outbox, at=utc(2027, 4, 5, 6, 0)).run()).sent) == len(
        SUBSCRIBERS
    )
    # Down for W13 and W14's sending days: only the latest week goes out, not the ancient one.
    later = await service(world, outbox, at=utc(2027, 4, 21, 12, 0)).run()
    assert later.period == week("2027-W15")
    periods = {r.period_start for r in await sends(world)}
    assert periods == {week(w).start for w in ("2027-W12", "2027-W13", "2027-W15")}


async def test_a_claim_left_by_a_crashed_bot_is_taken_over_only_when_stale(
    world: Store,
) -> None:
    period = week("2027-W12")
    async with world.transaction() as session:
        contact = await contact_by_email(session, COORDINATOR)
        assert contact is not None
        crashed = await claim_digest(
            session,
            contact_id=contact.id,
            period_start=period.start,
            period_end=period.end,
            worker="crashed",
            now=SEND_TIME,
        )
        assert crashed is not None
    outbox = Outbox()
    # Minutes, not a quarter of an hour: just within CLAIM_LEASE the claim still stands.
    assert timedelta(minutes=5) >= CLAIM_LEASE
    soon = await service(world, outbox, at=SEND_TIME + CLAIM_LEASE - timedelta(seconds=1)).run()
    assert COORDINATOR not in soon.sent
    later = await service(world, outbox, at=SEND_TIME + CLAIM_LEASE + timedelta(seconds=1)).run()
    assert later.sent == [COORDINATOR]
    [row] = [r for r in await sends(world) if r.contact_id == contact.id]
    assert (row.id, row.status, row.claimed_by) == (crashed.id, SENT, "bot-1")


async def test_a_failed_send_is_retried_later_and_a_permanent_one_is_not(world: Store) -> None:
    outbox = Outbox([DeliveryError("451 busy"), DeliveryError("550 no such user", permanent=True)])
    first = await service(world, outbox).run()
    assert len(first.failed) == 2
    statuses = sorted(r.status for r in await sends(world))
    assert statuses.count(RETRY) == 1
    assert statuses.count(FAILED) == 1
    too_soon = await service(world, outbox, at=SEND_TIME + timedelta(seconds=30)).run()
    assert too_soon.sent == []
    retried = await service(world, outbox, at=SEND_TIME + timedelta(minutes=2)).run()
    assert len(retried.sent) == 1
    final = sorted(r.status for r in await sends(world))
    assert final.count(SENT) == len(SUBSCRIBERS) - 1
    assert final.count(FAILED) == 1
    assert SENDING not in final


async def test_the_slack_summary_is_posted_once_per_week(world: Store) -> None:
    posted: list[str] = []

    async def post(text: str) -> str:
        posted.append(text)
        return "1774764000.000100"

    bots = []
    for worker in ("bot-1", "bot-2"):
        digest = service(world, Outbox(), worker=worker)
        digest.post_summary, digest.summary_channel = post, "C0DIGEST"
        bots.append(digest)
    results = await asyncio.gather(*(b.run() for b in bots))
    await bots[0].run()

    assert len(posted) == 1
    assert posted[0].startswith("CCM weekly digest: 22")
    assert sum(r.summary_posted for r in results) == 1
    [row] = [r for r in await sends(world) if r.slack_channel == "C0DIGEST"]
    assert (row.status, row.message_id, row.contact_id) == (SENT, "1774764000.000100", None)


async def test_nobody_subscribed_sends_nothing(store: Store) -> None:
    async with store.transaction() as session:
        await load_states(session, some_states(), SYSTEM, SEND_TIME)
    result = await service(store, Outbox()).run()
    assert (result.sent, result.failed, result.skipped) == ([], [], 0)
