"""One reminder worker in its own OS process, for the race and crash tests.

    python -m tests.schedules.worker_process --url URL --outbox DIR --worker NAME --now ISO
        [--crash after-claim|after-send] [--wait] [--batch N] [--latency SECONDS]

It runs one `Sweep` (plan, then dispatch) into a `DirectoryOutbox`. With ``--wait`` it connects,
prints ``ready`` and starts only when a line arrives on stdin, so a test can release two workers
at the same moment. ``--crash`` makes the outbox SIGKILL the process at that point. On success
it prints one JSON line: how many reminders it planned and which messages it sent.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import text

from schedules.clock import FixedClock
from schedules.dispatch import Dispatcher, DispatchResult
from schedules.jobs import Sweep
from storage.db import open_store
from storage.models import Channel
from tests.schedules.helpers import CRASH_POINTS, POLICY, SECRETARIAT, DirectoryOutbox


@dataclass
class BatchedDispatcher(Dispatcher):
    """Claims a few messages at a time, so two racing workers interleave their claims."""

    batch: int = 50

    async def dispatch(self, now: datetime, *, limit: int | None = None) -> DispatchResult:
        return await super().dispatch(now, limit=limit or self.batch)


async def run(args: argparse.Namespace) -> dict[str, object]:
    now = datetime.fromisoformat(args.now)
    store = await open_store(args.url, migrate=False)
    try:
        outbox = DirectoryOutbox(Path(args.outbox), args.worker, args.crash, args.latency)
        dispatcher = BatchedDispatcher(
            store, {Channel.EMAIL: outbox}, args.worker, args.batch, fallback_zone="Etc/UTC"
        )
        sweep = Sweep(store, POLICY, dispatcher, FixedClock(now), False, SECRETARIAT)
        if args.wait:
            async with store.engine.connect() as connection:  # connect before the start line
                await connection.execute(text("SELECT 1"))
            print("ready", flush=True)
            sys.stdin.readline()
        planned, sent = await sweep.run()
        return {
            "worker": args.worker,
            "planned": planned.planned,
            "sent": [o.message_id for o in sent.sent],
            "failed": sent.failed,
        }
    finally:
        await store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--outbox", required=True)
    parser.add_argument("--worker", required=True)
    parser.add_argument("--now", required=True, help="an aware ISO 8601 time")
    parser.add_argument("--crash", choices=CRASH_POINTS)
    parser.add_argument("--wait", action="store_true")
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per send")
    print(json.dumps(asyncio.run(run(parser.parse_args()))), flush=True)


if __name__ == "__main__":
    main()
