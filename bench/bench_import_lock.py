"""How long an import of needs keeps the running bot's writers waiting on SQLite.

For each size, a fresh SQLite store (a temporary file, the treaty's States loaded) takes the
same new needs twice, side by side: the old way, every row and its audit row inserted in one
final transaction (as before imports were staged), and the staged way (``run_import``'s
writes: batches of ``STAGE_BATCH`` rows in short transactions, then one final transaction that
publishes them and copies their staged audit rows, ``STAGE_PAUSE`` between batches).
Meanwhile a second process writes as the bot does, one short ``BEGIN IMMEDIATE`` transaction
after another, and reports its longest wait.
Checking the file is left out: it holds no lock either way. The staged way runs second, on a
store already holding the old way's rows.

    .venv/bin/python -m bench.bench_import_lock [--rows 20000 50000]

It prints figures; nothing asserts.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from handlers.imports import STAGE_PAUSE
from handlers.imports.entries import STAGE_BATCH
from storage.audit import Actor
from storage.db import Store, open_store
from storage.models import Category, EntryKind, Via
from storage.records import publish_entries, stage_entries
from storage.states import load_states
from storage.treaty_data import load_treaty_data

NOW = datetime(2027, 3, 31, 9, 0, tzinfo=UTC)
ACTOR = Actor("bench", Via.CLI)

# The bot's writer: one short transaction after another until told to stop, then its waits.
WRITER = """
import json, sqlite3, sys, threading, time, uuid
stop = threading.Event()
threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
db = sqlite3.connect(sys.argv[1], timeout=15, isolation_level=None)
db.execute("PRAGMA busy_timeout=15000")
waits = []
while not stop.is_set():
    started = time.monotonic()
    db.execute("BEGIN IMMEDIATE")
    db.execute("INSERT INTO processed_events (event_id, received_at) VALUES (?, ?)",
               (uuid.uuid4().hex, "2027-03-31 09:00:00"))
    db.execute("COMMIT")
    waits.append(time.monotonic() - started)
    if len(waits) == 1:
        print("writing", flush=True)
print(json.dumps({"writes": len(waits), "longest": max(waits, default=0.0)}))
"""


@dataclass(frozen=True)
class Run:
    final: float  # seconds the final transaction held the lock
    longest_wait: float  # the bot's writer's longest wait
    writes: int


def needs(count: int) -> list[dict[str, Any]]:
    return [
        {
            "state_iso3": "TCD",
            "category": Category.SURVEY_CLEARANCE,
            "description": f"Survey of suspected hazardous area {number} near Faya-Largeau",
            "via": Via.IMPORT,
        }
        for number in range(count)
    ]


async def old_way(store: Store, rows: list[dict[str, Any]]) -> float:
    """Every row and audit row in the final transaction, as imports were written before."""
    started = time.perf_counter()
    async with store.transaction() as session:
        staged_by = secrets.token_hex(16)
        await stage_entries(session, ACTOR, NOW, EntryKind.NEED, staged_by, rows)
        await publish_entries(session, staged_by, len(rows))
    return time.perf_counter() - started


async def staged_way(store: Store, rows: list[dict[str, Any]]) -> float:
    """Batches in short transactions, then one short publish."""
    staged_by = secrets.token_hex(16)
    for start in range(0, len(rows), STAGE_BATCH):
        async with store.transaction() as session:
            batch = rows[start : start + STAGE_BATCH]
            await stage_entries(session, ACTOR, NOW, EntryKind.NEED, staged_by, batch)
        await asyncio.sleep(STAGE_PAUSE)
    started = time.perf_counter()
    async with store.transaction() as session:
        await publish_entries(session, staged_by, len(rows))
    return time.perf_counter() - started


async def measure(
    path: Path, store: Store, way: Callable[..., Awaitable[float]], rows: list[Any]
) -> Run:
    writer = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        WRITER,
        str(path),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert writer.stdout is not None
    await writer.stdout.readline()  # the writer is under way before the import writes
    final = await way(store, rows)
    output, _ = await writer.communicate(b"")
    waits = json.loads(output)
    return Run(final, waits["longest"], waits["writes"])


async def bench(count: int) -> tuple[Run, Run]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.db"
        store = await open_store(f"sqlite+aiosqlite:///{path}")
        try:
            async with store.transaction() as session:
                await load_states(session, load_treaty_data(), ACTOR, NOW)
            rows = needs(count)
            old = await measure(path, store, old_way, rows)
            staged = await measure(path, store, staged_way, rows)
        finally:
            await store.close()
    return old, staged


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[20_000, 50_000])
    arguments = parser.parse_args()
    print(f"{'rows':>7} {'way':>7} {'final tx':>9} {'longest wait':>13} {'writes':>7}")
    for count in arguments.rows:
        old, staged = asyncio.run(bench(count))
        for name, run in (("old", old), ("staged", staged)):
            print(
                f"{count:>7,} {name:>7} {run.final:>8.3f}s {run.longest_wait:>12.3f}s "
                f"{run.writes:>7,}"
            )
        print(
            f"{'':>7} {'ratio':>7} {old.final / staged.final:>8.1f}x "
            f"{old.longest_wait / staged.longest_wait:>12.1f}x"
        )


if __name__ == "__main__":
    main()
