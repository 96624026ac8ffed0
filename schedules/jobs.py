"""The timetable: every recurring job, registered in one place with a fixed id.

APScheduler is only the clock here. Jobs keep no state of their own: each run reads the store,
so a restart, a missed run or a second bot process changes nothing about what is sent.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
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

log = logging.getLogger(__name__)

SWEEP_JOB = "reminder-sweep"
DIGEST_JOB = "weekly-digest"
# The digest job checks this often whether a week's digest is due; sending is once per person
# and week whatever the number of checks (bot.mail.digest), and a check on the hour meets the
# configured send hour exactly.
DIGEST_CHECK = "*/5"


class WeeklyDigest(Protocol):
    """What the timetable needs of the digest service (bot.mail.digest.DigestService)."""

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
    _running: asyncio.Lock = field(default_factory=asyncio.Lock, init=False, repr=False)

    async def run(self, now: datetime | None = None) -> tuple[SweepPlan, DispatchResult]:
        async with self._running:
            return await self._run(now or self.clock.now())

    async def finished(self) -> None:
        """Wait for a sweep in progress, so a stopping bot does not pull the store from under it."""
        async with self._running:
            return

    async def _run(self, moment: datetime) -> tuple[SweepPlan, DispatchResult]:
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


def register_jobs(
    scheduler: AsyncIOScheduler,
    *,
    sweep: Sweep,
    sweep_minutes: int,
    digest: WeeklyDigest | None = None,
) -> None:
    """The whole timetable. Call before ``scheduler.start()``, inside the running loop."""
    scheduler.add_job(
        sweep.run_logged,
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
            digest.run_logged,
            CronTrigger(minute=DIGEST_CHECK, timezone=scheduler.timezone),
            id=DIGEST_JOB,
            name="send the weekly digest once it is due",
            replace_existing=True,
            max_instances=1,
            coalesce=True,
            next_run_time=digest.clock.now(),
        )
