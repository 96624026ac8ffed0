"""The timetable: every recurring job, registered in one place with a fixed id.

APScheduler is only the clock here. Jobs keep no state of their own: each run reads the store,
so a restart, a missed run or a second bot process changes nothing about what is sent.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from schedules.clock import Clock
from schedules.dispatch import Dispatcher, DispatchResult
from schedules.planner import SweepPlan, plan_due_reminders
from schedules.policy import ReminderPolicy
from storage.db import Store

log = logging.getLogger(__name__)

SWEEP_JOB = "reminder-sweep"


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


def register_jobs(scheduler: AsyncIOScheduler, *, sweep: Sweep, sweep_minutes: int) -> None:
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
