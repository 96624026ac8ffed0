"""Exactly once, with real processes: two workers racing, and workers killed mid-send.

Each worker is a separate OS process (``worker_process``) writing ``<message id>.eml`` into a
shared outbox with O_EXCL and logging every write to an append-only file, so a message sent
twice is caught (by the failed exclusive create and by the log) and a lost one is a missing file.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from storage import ledger
from storage.claims import CLAIM_LEASE
from storage.db import Store
from storage.models import Channel, MessageStatus
from tests.schedules.helpers import (
    ART7_2026,
    DirectoryOutbox,
    add_contact,
    all_deliveries,
    all_messages,
    external_id,
    load_shipped_states,
)

REPO = Path(__file__).resolve().parents[2]
# Wednesday 31 March 2027, late morning across Europe: the 30-day stage is due for everyone.
NOW = datetime(2027, 3, 31, 10, 0, tzinfo=UTC)
EUROPE = ["AUT", "BEL", "DEU", "DNK", "ESP", "FRA", "IRL", "ITA", "NLD", "NOR", "PRT", "SWE"]
WORKER_TIMEOUT = 60
# Small batches and a few milliseconds per send keep both workers claiming at the same time.
RACE = ("--batch", "4", "--latency", "0.005")

BOTH_BACKENDS = pytest.mark.parametrize(
    "database_url",
    ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
    indirect=True,
)


@dataclass
class Finished:
    returncode: int
    stdout: str
    stderr: str

    @property
    def report(self) -> dict[str, Any]:
        return json.loads(self.stdout.splitlines()[-1])


async def start_worker(
    url: str, outbox: Path, worker: str, now: datetime, *extra: str
) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.schedules.worker_process",
        *("--url", url, "--outbox", str(outbox), "--worker", worker, "--now", now.isoformat()),
        *extra,
        cwd=REPO,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def finish(process: asyncio.subprocess.Process) -> Finished:
    stdout, stderr = await asyncio.wait_for(process.communicate(), WORKER_TIMEOUT)
    assert process.returncode is not None
    return Finished(process.returncode, stdout.decode(), stderr.decode())


async def run_worker(url: str, outbox: Path, worker: str, now: datetime, *extra: str) -> Finished:
    return await finish(await start_worker(url, outbox, worker, now, *extra))


async def delegates(store: Store, states: list[str], per_state: int) -> list[int]:
    await load_shipped_states(store, only=states)
    return [
        await add_contact(store, iso3, f"Delegate {n} {iso3}")
        for iso3 in states
        for n in range(per_state)
    ]


async def assert_each_message_sent_once(store: Store, outbox: DirectoryOutbox) -> dict[int, str]:
    """Every message recorded sent, written once, none missing; who wrote each."""
    messages = await all_messages(store)
    assert messages
    assert {m.status for m in messages} == {MessageStatus.SENT}, [m.error for m in messages]
    assert all(m.external_id == external_id(m.id) for m in messages)
    ids = {m.id for m in messages}
    assert outbox.files() == ids  # none lost
    written = Counter(i for i, _ in outbox.writes())
    assert {i: n for i, n in written.items() if n > 1} == {}  # none twice
    assert set(written) == ids
    return dict(outbox.writes())


@BOTH_BACKENDS
async def test_two_racing_workers_send_every_reminder_once(
    store: Store, database_url: str, tmp_path: Path
) -> None:
    contacts = await delegates(store, EUROPE, per_state=3)
    outbox = DirectoryOutbox(tmp_path)
    workers = [
        await start_worker(database_url, tmp_path, name, NOW, "--wait", *RACE)
        for name in ("left", "right")
    ]
    for worker in workers:  # both connected; release them together
        assert worker.stdout is not None
        assert (await asyncio.wait_for(worker.stdout.readline(), WORKER_TIMEOUT)) == b"ready\n"
    for worker in workers:
        assert worker.stdin is not None
        worker.stdin.write(b"go\n")
        await worker.stdin.drain()
    left, right = [await finish(worker) for worker in workers]

    assert (left.returncode, right.returncode) == (0, 0), left.stderr + right.stderr
    deliveries = await all_deliveries(store)
    messages = await all_messages(store)
    assert len(contacts) >= 30
    assert sorted(m.contact_id for m in messages) == sorted(contacts)  # one message each
    # Each reminder was planned by exactly one of the two, and each message sent by one.
    assert left.report["planned"] + right.report["planned"] == len(deliveries)
    sent = [*left.report["sent"], *right.report["sent"]]
    assert sorted(sent) == sorted(m.id for m in messages)
    await assert_each_message_sent_once(store, outbox)


@BOTH_BACKENDS
@pytest.mark.parametrize("crash", ["after-claim", "after-send"])
async def test_worker_killed_mid_send_is_finished_by_the_next_once(
    store: Store, database_url: str, tmp_path: Path, crash: str
) -> None:
    await delegates(store, ["FRA", "DEU", "ESP"], per_state=1)
    outbox = DirectoryOutbox(tmp_path)

    killed = await run_worker(database_url, tmp_path, "killed", NOW, "--crash", crash)

    assert killed.returncode == -signal.SIGKILL, killed.stderr
    held = await all_messages(store)
    assert {(m.status, m.claimed_by) for m in held} == {(MessageStatus.CLAIMED, "killed")}
    assert len(outbox.files()) == (1 if crash == "after-send" else 0)
    written_before = set(outbox.files())

    later = NOW + CLAIM_LEASE + timedelta(seconds=1)
    restarted = await run_worker(database_url, tmp_path, "restarted", later)

    assert restarted.returncode == 0, restarted.stderr
    writers = await assert_each_message_sent_once(store, outbox)
    messages = await all_messages(store)
    assert {m.claimed_by for m in messages} == {"restarted"}
    assert sorted(restarted.report["sent"]) == sorted(m.id for m in messages)
    # What went out before the crash was recognised (find_sent), not written again.
    assert writers == {m.id: "killed" if m.id in written_before else "restarted" for m in messages}


async def wait_until_blocked_on_a_lock(store: Store) -> None:
    """Return once some session of this database waits for a lock (PostgreSQL only).

    There is no event to await for "that transaction is now blocked", so this polls the
    database; the deadline (the workers' own) only turns a hang into a failure on a busy machine.
    """
    query = text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    deadline = asyncio.get_running_loop().time() + WORKER_TIMEOUT
    while asyncio.get_running_loop().time() < deadline:
        async with store.engine.connect() as connection:
            if await connection.scalar(query):
                return
        await asyncio.sleep(0.01)
    raise AssertionError(f"the second planner never blocked within {WORKER_TIMEOUT}s")


@pytest.mark.parametrize(
    "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
async def test_losing_a_planning_race_leaves_no_stray_message(store: Store) -> None:
    """The loser finds the day's message claimed: it must not open tomorrow's for nothing."""
    await load_shipped_states(store, only=["FRA"])
    claire = await add_contact(store, "FRA", "Claire Martin")
    reminder = ledger.PlannedReminder(
        "FRA", ART7_2026, "30d", date(2027, 4, 30), claire, Channel.EMAIL,
        date(2027, 3, 31), NOW, "fr", "Europe/Paris",
    )  # fmt: skip

    async def plan_in_own_transaction() -> bool:
        async with store.transaction() as session:
            return await ledger.plan(session, reminder, NOW)

    async with store.transaction() as winner:
        assert await ledger.plan(winner, reminder, NOW)
        await winner.flush()
        loser = asyncio.create_task(plan_in_own_transaction())
        await wait_until_blocked_on_a_lock(store)  # on the winner's uncommitted message
        assert len(await ledger.claim(winner, "fast-worker", NOW)) == 1
    assert await loser is False

    [message] = await all_messages(store)
    assert (message.status, len(message.deliveries)) == (MessageStatus.CLAIMED, 1)
