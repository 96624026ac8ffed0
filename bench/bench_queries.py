"""How fast the Coordinators' and the ISU's questions are answered on a large store.

Fills a store with 100,000 needs and 100,000 offers (plus reports, assistance and reminders for
every State), on SQLite (a temporary file) and on PostgreSQL (its own database ``ccm_bench``,
created and dropped), then prints the 95th-percentile time of each question on both, against
the 50 ms target. PostgreSQL is skipped, with a note, when the server does not answer.

    .venv/bin/python -m bench.bench_queries [--entries 100000] [--runs 40]

Listings are timed as Slack answers them: counted up to ``COUNT_CAP`` ("more than 1,000").
``CCM_BENCH_POSTGRES_URL`` names the server's maintenance database (default
``postgresql+asyncpg://postgres@127.0.0.1:5432/postgres``). It prints figures; nothing asserts.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import insert, make_url, select, text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from handlers.questions import (
    ExportKind,
    export_table,
    overdue_reports,
    upcoming_deadlines,
)
from handlers.stats import yearly_analysis
from storage.audit import SYSTEM
from storage.db import Store, open_store
from storage.listings import REGIONS, Filters, entries
from storage.models import (
    AssistanceRecord,
    Category,
    Channel,
    Contact,
    Delivery,
    Direction,
    Entry,
    EntryKind,
    EntryStatus,
    Message,
    MessageStatus,
    Report,
    ReportKind,
    Role,
    State,
    StateStatus,
    Via,
    Visibility,
)
from storage.overview import state_overview
from storage.states import load_states
from storage.treaty_data import load_treaty_data
from storage.visibility import Viewer

TARGET_MS = 50.0
TODAY = date(2027, 3, 31)
NOW = datetime(2027, 3, 31, 8, 0, tzinfo=UTC)
CHUNK = 5_000
DEFAULT_ADMIN = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
BENCH_DB = "ccm_bench"
WORDS = (  # noqa: SIM905 - a sentence of words reads better than a list of them
    "survey clearance cluster munition remnants victims rehabilitation prosthetics training "
    "deminers equipment detectors vehicles funding programme national database risk education "
    "schools returnees border villages stockpile destruction technical support mentoring "
    "formation déminage despeje víctimas enquête sensibilisation capacitación"
).split()
# Each description names one of 200 places, so a place is in about 0.5% of them: what a real
# search looks like. "Kandahar" is one; "clearance" is a common word, in about a third.
PLACES = ["Kandahar", *(f"Place{n:03d}" for n in range(199))]


# --- filling -------------------------------------------------------------------------------


async def fill(store: Store, entries_per_kind: int, seed: int = 7) -> dict[str, int]:
    rng = random.Random(seed)
    async with store.transaction() as session:
        await load_states(session, load_treaty_data(), SYSTEM, NOW)
    async with store.transaction() as session:
        states = (await session.scalars(select(State))).all()
        parties = [s for s in states if s.status is not StateStatus.SIGNATORY]
        contacts = await _contacts(session, parties)
        counts = {"contacts": len(contacts)}
        counts["needs"] = await _entries(session, rng, EntryKind.NEED, parties, entries_per_kind)
        counts["offers"] = await _entries(session, rng, EntryKind.OFFER, parties, entries_per_kind)
        counts["reports"] = await _reports(session, rng, parties)
        counts["assistance"] = await _assistance(session, rng, parties)
        counts["deliveries"] = await _reminders(session, rng, contacts)
    return counts


async def _bulk(session: AsyncSession, model: Any, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), CHUNK):
        await session.execute(insert(model), rows[start : start + CHUNK])


async def _contacts(session: AsyncSession, parties: list[State]) -> list[tuple[int, str]]:
    rows = [
        {
            "name": f"Delegate of {s.name_en}",
            "email": f"delegate@{s.iso3.lower()}.example",
            "role": Role.DELEGATE,
            "state_iso3": s.iso3,
            "channel": Channel.EMAIL,
            "created_at": NOW,
        }
        for s in parties
    ]
    rows.append(
        {
            "name": "Coordinator",
            "email": "coordinator@example.org",
            "role": Role.COORDINATOR,
            "state_iso3": "NOR",
            "channel": Channel.EMAIL,
            "created_at": NOW,
        }
    )
    await _bulk(session, Contact, rows)
    found = await session.execute(
        select(Contact.id, Contact.state_iso3).where(Contact.role == Role.DELEGATE)
    )
    return [(contact_id, iso3 or "") for contact_id, iso3 in found.all()]


async def _entries(
    session: AsyncSession, rng: random.Random, kind: EntryKind, parties: list[State], count: int
) -> int:
    numbers: dict[int, int] = {}
    prefix = "N" if kind is EntryKind.NEED else "C"
    start = datetime(2019, 1, 1, tzinfo=UTC)
    span = (NOW - start).total_seconds()
    created = sorted(start + timedelta(seconds=rng.random() * span) for _ in range(count))
    regions = list(REGIONS)
    rows = []
    for at in created:
        number = numbers[at.year] = numbers.get(at.year, 0) + 1
        state = rng.choice(parties)
        amount = Decimal(rng.randrange(10_000, 5_000_000)) if rng.random() < 0.6 else None
        rows.append(
            {
                "kind": kind,
                "reference": f"{prefix}-{at.year}-{number:05d}",
                "ref_year": at.year,
                "ref_number": number,
                "state_iso3": state.iso3,
                "organisation": None,
                "article": rng.choice((3, 4, 4, 5, 5, 6, None)),
                "category": rng.choice(list(Category)),
                "description": " ".join([*rng.choices(WORDS, k=13), rng.choice(PLACES)]),
                "amount": amount,
                "currency": rng.choice(("USD", "EUR", "NOK")) if amount else None,
                "focus": rng.sample(regions, 2) if kind is EntryKind.OFFER else [],
                "status": rng.choices(list(EntryStatus), weights=(5, 2, 2, 1))[0],
                "visibility": rng.choices(list(Visibility), weights=(3, 6, 1))[0],
                "via": Via.IMPORT,
                "created_at": at,
                "updated_at": at,
            }
        )
    await _bulk(session, Entry, rows)
    return len(rows)


async def _reports(session: AsyncSession, rng: random.Random, parties: list[State]) -> int:
    rows = []
    for state in parties:
        if state.entry_into_force is None:
            continue
        for year in range(state.entry_into_force.year, 2026):
            if rng.random() < 0.75:
                due = date(year + 1, 4, 30)
                rows.append(
                    {
                        "state_iso3": state.iso3,
                        "kind": ReportKind.ANNUAL,
                        "year": year,
                        "due": due,
                        "submitted_on": due + timedelta(days=rng.randrange(-60, 90)),
                        "learned_note": "",
                    }
                )
    await _bulk(session, Report, rows)
    return len(rows)


async def _assistance(session: AsyncSession, rng: random.Random, parties: list[State]) -> int:
    rows = []
    for _ in range(20_000):
        state = rng.choice(parties)
        rows.append(
            {
                "direction": rng.choice(list(Direction)),
                "state_iso3": state.iso3,
                "provider": state.name_en,
                "recipient": rng.choice(parties).name_en,
                "year": rng.randrange(2015, 2027),
                "article": rng.choice((3, 4, 5, 6, None)),
                "amount": Decimal(rng.randrange(1_000, 9_000_000)),
                "currency": rng.choice(("USD", "EUR", "NOK")),
                "source": "bench",
            }
        )
    await _bulk(session, AssistanceRecord, rows)
    return len(rows)


async def _reminders(
    session: AsyncSession, rng: random.Random, contacts: list[tuple[int, str]]
) -> int:
    messages, deliveries = [], []
    for contact_id, iso3 in contacts:
        for year in range(2015, 2026):
            for stage, days in (("d-14", -14), ("d-7", -7), ("d0", 0), ("d+7", 7)):
                day = date(year + 1, 4, 30) + timedelta(days=days)
                sent = datetime(day.year, day.month, day.day, 7, tzinfo=UTC)
                messages.append(
                    {
                        "contact_id": contact_id,
                        "channel": Channel.EMAIL,
                        "purpose": "reminder",
                        "local_day": day,
                        "send_at": sent,
                        "language": "en",
                        "status": MessageStatus.SENT,
                        "attempts": 1,
                        "sent_at": sent,
                        "created_at": sent,
                    }
                )
                deliveries.append(
                    {
                        "state_iso3": iso3,
                        "item": f"art7-annual-{year}",
                        "stage": stage,
                        "due": date(year + 1, 4, 30),
                        "contact_id": contact_id,
                        "channel": Channel.EMAIL,
                        "cancelled": False,
                        "answered_at": sent + timedelta(hours=2) if rng.random() < 0.2 else None,
                        "created_at": sent,
                    }
                )
    await _bulk(session, Message, messages)
    ids = (await session.scalars(select(Message.id).order_by(Message.id))).all()
    for delivery, message_id in zip(deliveries, ids, strict=True):
        delivery["message_id"] = message_id
    await _bulk(session, Delivery, deliveries)
    return len(deliveries)


# --- timing --------------------------------------------------------------------------------

DELEGATE = Viewer(Role.DELEGATE, "LBN")
COORDINATOR = Viewer(Role.COORDINATOR, "NOR")
ISU = Viewer(Role.ISU)


def questions(workdir: Path) -> dict[str, Callable[[AsyncSession], Awaitable[Any]]]:
    page = workdir / "page.csv"
    return {
        "needs: article 4, Africa, open (delegate)": lambda s: entries(
            s,
            EntryKind.NEED,
            DELEGATE,
            Filters(article=4, region="Africa", status=EntryStatus.OPEN),
        ),
        "needs: State + text 'kandahar'": lambda s: entries(
            s, EntryKind.NEED, COORDINATOR, Filters(state="AFG", text=("kandahar",))
        ),
        "needs: text 'kandahar' (in 0.5%)": lambda s: entries(
            s, EntryKind.NEED, COORDINATOR, Filters(text=("kandahar",))
        ),
        "needs: text 'clearance' (in 1/3)": lambda s: entries(
            s, EntryKind.NEED, COORDINATOR, Filters(text=("clearance",))
        ),
        "needs: text 'zanzibar' (in none)": lambda s: entries(
            s, EntryKind.NEED, COORDINATOR, Filters(text=("zanzibar",))
        ),
        "needs: text 'clearance kandahar'": lambda s: entries(
            s, EntryKind.NEED, COORDINATOR, Filters(text=("clearance", "kandahar"))
        ),
        "offers: newest page and total": lambda s: entries(s, EntryKind.OFFER, ISU),
        "offers: Middle East, training (delegate)": lambda s: entries(
            s,
            EntryKind.OFFER,
            DELEGATE,
            Filters(region="Middle East", category=Category.TRAINING_EXPERTISE),
        ),
        "state overview (LBN)": lambda s: state_overview(s, "LBN", COORDINATOR),
        "overdue 2025": lambda s: overdue_reports(s, 2025, TODAY),
        "deadlines 12 months": lambda s: upcoming_deadlines(s, TODAY, 12),
        "stats 2025": lambda s: yearly_analysis(s, 2025, TODAY),
        "export one page (500 needs, CSV)": lambda s: export_table(
            s, ExportKind.NEEDS, ISU, page, limit=500
        ),
    }


async def p95_ms(
    store: Store, question: Callable[[AsyncSession], Awaitable[Any]], runs: int
) -> float:
    for _ in range(3):  # warm the caches and the statement cache
        async with store.transaction() as session:
            await question(session)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        async with store.transaction() as session:
            await question(session)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.quantiles(times, n=20, method="inclusive")[18]


async def measure(url: str, entries_per_kind: int, runs: int, workdir: Path) -> dict[str, float]:
    store = await open_store(url)
    try:
        started = time.perf_counter()
        counts = await fill(store, entries_per_kind)
        if store.backend == "postgresql":
            # The steady state autovacuum leaves: planner statistics, and the visibility map
            # that lets a count read an index alone. SQLite is left as deployments leave it,
            # without the statistics of ANALYZE.
            autocommit = store.engine.execution_options(isolation_level="AUTOCOMMIT")
            async with autocommit.connect() as connection:
                await connection.execute(text("VACUUM ANALYZE"))
        print(
            f"  {store.backend}: filled in {time.perf_counter() - started:.1f} s "
            + ", ".join(f"{n:,} {what}" for what, n in counts.items()),
            flush=True,
        )
        return {name: await p95_ms(store, q, runs) for name, q in questions(workdir).items()}
    finally:
        await store.close()


async def postgres(admin_url: str) -> str | None:
    try:
        engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
        async with engine.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)'))
            await connection.execute(text(f'CREATE DATABASE "{BENCH_DB}"'))
        await engine.dispose()
    except (OSError, Exception) as exc:  # any failure to reach the server: skip, say why
        print(f"  PostgreSQL skipped: {type(exc).__name__}: {str(exc).splitlines()[0]}")
        return None
    return make_url(admin_url).set(database=BENCH_DB).render_as_string(hide_password=False)


async def drop_postgres(admin_url: str) -> None:
    engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    async with engine.connect() as connection:
        await connection.execute(text(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)'))
    await engine.dispose()


def report(results: dict[str, dict[str, float]]) -> None:
    names = list(next(iter(results.values())))
    width = max(len(n) for n in names)
    backends = list(results)
    header = f"{'question':<{width}}" + "".join(
        f"  {b + ' p95':>16}  {'/50ms':>6}" for b in backends
    )
    print(header)
    print("-" * len(header))
    for name in names:
        cells = "".join(
            f"  {results[b][name]:>13.1f} ms  {results[b][name] / TARGET_MS:>6.2f}"
            for b in backends
        )
        print(f"{name:<{width}}{cells}")


async def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000, help="needs, and as many offers")
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args(argv)
    admin = os.environ.get("CCM_BENCH_POSTGRES_URL", DEFAULT_ADMIN)
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="ccm-bench-") as tmp:
        workdir = Path(tmp)
        print(f"{args.entries:,} needs and {args.entries:,} offers; p95 of {args.runs} runs")
        sqlite_url = f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
        results["SQLite"] = await measure(sqlite_url, args.entries, args.runs, workdir)
        pg_url = await postgres(admin)
        if pg_url is not None:
            try:
                results["PostgreSQL"] = await measure(pg_url, args.entries, args.runs, workdir)
            finally:
                await drop_postgres(admin)
    report(results)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
