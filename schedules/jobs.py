"""The timetable: every recurring job, registered in one place with a fixed id.

APScheduler is only the clock here. Jobs keep no state of their own: each run reads the store,
so a restart, a missed run or a second bot process changes nothing about what is sent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from schedules.clock import Clock
from schedules.dispatch import Dispatcher, DispatchResult
from schedules.planner import SweepPlan, plan_due_reminders
from schedules.policy import ReminderPolicy
from storage.db import Store
from storage.housekeeping import forget_abandoned_imports, forget_old_events

log = logging.getLogger(__name__)

SWEEP_JOB = "reminder-sweep"
HOUSEKEEPING_JOB = "housekeeping"
DIGEST_JOB = "weekly-digest"
MAIL_RETRY_JOB = "mail-retry"
# The first retry of a mail comes a minute after its failure (storage.claims.retry_delay).
MAIL_RETRY_MINUTES = 1
# The digest job checks this often whether a week's digest is due; sending is once per person
# and week whatever the number of checks (bot.mail.digest_sending), and a check on the hour
# meets the configured send hour exactly.
DIGEST_CHECK = "*/5"


class WeeklyDigest(Protocol):
    """What the timetable needs of the digest service (bot.mail.digest_sending.DigestService)."""

    @property
    def clock(self) -> Clock: ...

    async def run_logged(self) -> None: ...


class QueuedMail(Protocol):
    """What the timetable needs of the outgoing mail (bot.mail.outgoing.MailQueue)."""

    @property
    def clock(self) -> Clock: ...

    async def run_logged(self) -> None: ...


@dataclass
class Sweep:
    """Plan what is due, then send it: one pass of the reminder engine."""

    store: Store
    policy: ReminderPolicy
    dispatcher: Dispatcher
    clock: Clock
    slack: bool
    secretariat_zone: str

    async def run(self, now: datetime | None = None) -> tuple[SweepPlan, DispatchResult]:
        moment = now or self.clock.now()
        async with self.store.transaction() as session:
            planned = await plan_due_reminders(
                session,
                self.policy,
                moment,
                slack=self.slack,
                secretariat_zone=self.secretariat_zone,
            )
        sent = await self.dispatcher.dispatch(moment)
        if planned.planned or sent.sent or sent.failed:
            log.info(
                "sweep: %d planned, %d cancelled, %d sent, %d failed",
                planned.planned,
                planned.cancelled,
                len(sent.sent),
                sent.failed,
            )
        return planned, sent

    async def run_logged(self) -> None:
        """The scheduled form: a failing sweep is logged and retried at the next tick."""
        try:
            await self.run()
        except Exception:
            log.exception("reminder sweep failed; it runs again at the next interval")


@dataclass
class Housekeeping:
    """Daily tidying of the store (old Slack event ids, rows of killed imports)."""

    store: Store
    clock: Clock

    async def run(self) -> int:
        now = self.clock.now()
        async with self.store.transaction() as session:
            forgotten = await forget_old_events(session, now)
        # A batch per transaction: each deleted entry updates SQLite's description index.
        while True:
            async with self.store.transaction() as session:
                if not await forget_abandoned_imports(session, now):
                    return forgotten

    async def run_logged(self) -> None:
        try:
            forgotten = await self.run()
        except Exception:
            log.exception("housekeeping failed; it runs again tomorrow")
            return
        if forgotten:
            log.info("housekeeping: forgot %d old Slack event ids", forgotten)


class InFlight:
    """The job runs under way, so a stopping bot lets them finish instead of cancelling them.

    APScheduler's shutdown cancels running coroutine jobs: a sweep cut off between sending and
    recording would leave its claims to go stale.
    """

    def __init__(self) -> None:
        self._runs: set[asyncio.Task[None]] = set()

    def track(self, job: Callable[[], Awaitable[None]]) -> Callable[[], Awaitable[None]]:
        async def tracked() -> None:
            task = asyncio.current_task()
            assert task is not None
            self._runs.add(task)
            try:
                await job()
            finally:
                self._runs.discard(task)

        return tracked

    async def drain(self, timeout: float) -> None:  # noqa: ASYNC109
        if self._runs:
            await asyncio.wait(set(self._runs), timeout=timeout)


def register_jobs(
    scheduler: AsyncIOScheduler,
    *,
    sweep: Sweep,
    sweep_minutes: int,
    digest: WeeklyDigest | None = None,
    mail: QueuedMail | None = None,
    in_flight: InFlight | None = None,
) -> None:
    """The whole timetable. Call before ``scheduler.start()``, inside the running loop."""
    track = in_flight.track if in_flight is not None else (lambda job: job)
    scheduler.add_job(
        track(Housekeeping(sweep.store, sweep.clock).run_logged),
        IntervalTrigger(days=1),
        id=HOUSEKEEPING_JOB,
        name="tidy the store",
        replace_existing=True,
        max_instances=1,
        coalesce=True,
    )
    scheduler.add_job(
        track(sweep.run_logged),
        IntervalTrigger(minutes=sweep_minutes),
        id=SWEEP_JOB,
        name="plan and send due reminders",
        replace_existing=True,
        max_instances=1,
        coalesce=True,
        next_run_time=sweep.clock.now(),  # a restarted bot catches up at once
    )
    if digest is not None:
        # Weekly (default Monday 08:00, CCM_TIMEZONE): each check sends the latest due week's
        # digest to whoever has not had it, so a bot that was down sends the missed one once.
        scheduler.add_job(
            track(digest.run_logged),
            CronTrigger(minute=DIGEST_CHECK, timezone=scheduler.timezone),
            id=DIGEST_JOB,
            name="send the weekly digest once it is due",
            replace_existing=True,
            max_instances=1,
            coalesce=True,
            next_run_time=digest.clock.now(),
        )
    if mail is not None:
        # Answers and ISU notices that could not be sent at once, when their retry is due; at
        # start, whatever a crash left unsent.
        scheduler.add_job(
            track(mail.run_logged),
            IntervalTrigger(minutes=MAIL_RETRY_MINUTES),
            id=MAIL_RETRY_JOB,
            name="send queued mail whose retry is due",
            replace_existing=True,
            max_instances=1,
            coalesce=True,
            next_run_time=mail.clock.now(),
        )
