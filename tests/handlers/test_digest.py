"""The weekly digest's content, per reader, on SQLite and PostgreSQL.

One populated week (2027-W12, 22 to 28 March 2027, Geneva time; the clocks go forward on its
Sunday) is built from the example CSV files plus a few direct records, then read as the ISU
(Spanish), a Coordinator (English) and a French delegate who opted in. ``build_week`` is shared
by the mail, CLI and job tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path

import pytest
from sqlalchemy import select, update

from handlers.digest import digest_switch, load_digest_facts, load_shared_facts, window_start
from handlers.digest_composition import Digest, compose_digest, compose_summary
from handlers.imports import ImportKind, run_import
from handlers.turns import speaker_for
from schedules.periods import Period, iso_week
from schedules.zones import resolve_zone
from storage.audit import SYSTEM
from storage.contacts import contact_by_email
from storage.db import Store
from storage.digest import digest_subscribers, set_digest
from storage.ledger import PlannedReminder, plan
from storage.models import (
    AuditEntry,
    Basis,
    Channel,
    Contact,
    CustomDeadline,
    Delivery,
    Entry,
    EntryKind,
    EntryStatus,
    Extension,
    Message,
    MessageStatus,
    Obligation,
    ReportKind,
    Role,
    Via,
    Visibility,
)
from storage.records import add_entry, mark_report_submitted
from storage.states import load_states
from storage.treaty_data import TreatyData, load_treaty_data
from storage.visibility import Viewer

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
ZONE = resolve_zone("Europe/Geneva")
WEEK = iso_week(2027, 12, ZONE)  # Monday 22 March to Monday 29 March 2027, 00:00 Geneva
BEFORE = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
MONDAY = datetime(2027, 3, 22, 9, 0, tzinfo=UTC)
STATES = {"AFG", "CHL", "DEU", "ESP", "FRA", "LBN", "NOR", "SEN"}

ISU = "s.martinez@ccm-isu.example"  # isu, Spanish
COORDINATOR = "jonas.weber@auswaertiges-amt.de.example"  # coordinator, English
DELEGATE = "claire.dubois@diplomatie.gouv.fr.example"  # delegate, French, opts in
PARTNER = "kari.nordmann@npaid.no.example"  # partner, English
SENEGAL = "awa.diop@diplomatie.gouv.sn.example"  # delegate of the State that did not answer

# Who gets the week's digest: the Coordinators and the ISU by role, the two who opted in.
SUBSCRIBERS = (
    COORDINATOR,
    "ingrid.solberg@mfa.no.example",
    ISU,
    DELEGATE,
    PARTNER,
)

HOSTILE = '<script>alert("x")</script> Prothèses & <b>orthèses</b> "Nabatieh"'
SECRET_NEED = "Confidential: mobile rehabilitation team for Helmand survivors"


def at(day: int, hour: int = 10) -> datetime:
    return datetime(2027, 3, day, hour, 0, tzinfo=UTC)


@cache
def some_states() -> TreatyData:
    data = load_treaty_data()
    return TreatyData(
        states=tuple(s for s in data.states if s.iso3 in STATES),
        history=tuple(e for e in data.history if e.iso3 in STATES),
    )


def resolve(text: str) -> str | None:
    code = text.strip().upper()
    return code if code in STATES else None


@dataclass(frozen=True)
class World:
    """What ``build_week`` made, by the names tests use."""

    hostile: str  # reference of the new need with a hostile description
    secret: str  # reference of the new coordinators-only need
    secret_updated: str  # reference of the example's coordinators-only need, changed this week


async def load_examples(store: Store) -> None:
    async with store.transaction() as session:
        await load_states(session, some_states(), SYSTEM, BEFORE)
        for kind, name in (
            (ImportKind.CONTACTS, "contacts.csv"),
            (ImportKind.NEEDS, "needs.csv"),
            (ImportKind.CAPACITIES, "capacities.csv"),
            (ImportKind.REPORTS, "reports.csv"),
        ):
            await run_import(
                session, kind, EXAMPLES / name, actor=SYSTEM, now=BEFORE, resolve_state=resolve
            )


async def _sent(
    store: Store, email: str, state: str, item: str, stage: str, due: date, on: datetime
) -> int:
    """A reminder (or escalation) that went out: planned through the ledger, marked sent."""
    async with store.transaction() as session:
        contact = await contact_by_email(session, email)
        assert contact is not None
        purpose = "escalation" if stage == "escalate" else "reminder"
        reminder = PlannedReminder(
            state, item, stage, due, contact.id, Channel.EMAIL, on.date(), on, "en", "UTC", purpose
        )
        assert await plan(session, reminder, on)
        delivery = await session.scalar(
            select(Delivery).where(
                Delivery.state_iso3 == state,
                Delivery.item == item,
                Delivery.stage == stage,
                Delivery.contact_id == contact.id,
            )
        )
        assert delivery is not None
        await session.execute(
            update(Message)
            .where(Message.id == delivery.message_id)
            .values(status=MessageStatus.SENT, sent_at=on)
        )
        return delivery.id


async def build_week(store: Store) -> World:
    """The examples recorded on 1 March, then a busy week 2027-W12."""
    await load_examples(store)
    async with store.transaction() as session:
        hostile = await add_entry(
            session,
            SYSTEM,
            at(23),
            kind=EntryKind.NEED,
            state_iso3="LBN",
            category="victim_assistance",
            description=HOSTILE,
            amount=Decimal("350000"),
            currency="EUR",
            via=Via.EMAIL,
        )
        secret = await add_entry(
            session,
            SYSTEM,
            at(24),
            kind=EntryKind.NEED,
            state_iso3="AFG",
            category="victim_assistance",
            description=SECRET_NEED,
            visibility=Visibility.COORDINATORS,
            via=Via.EMAIL,
        )
        await add_entry(
            session,
            SYSTEM,
            at(24),
            kind=EntryKind.OFFER,
            state_iso3="NOR",
            category="training_expertise",
            description="Mentoring for national mine action authorities",
            visibility=Visibility.PUBLIC,
            via=Via.SLACK,
        )
        # Changed this week: the AFG coordinators-only need and an offer from the examples.
        afg = await session.scalar(
            select(Entry).where(
                Entry.kind == EntryKind.NEED,
                Entry.visibility == Visibility.COORDINATORS,
                Entry.created_at == BEFORE,
            )
        )
        offer = await session.scalar(
            select(Entry).where(Entry.kind == EntryKind.OFFER, Entry.state_iso3 == "DEU")
        )
        assert afg is not None
        assert offer is not None
        afg.status, afg.updated_at = EntryStatus.IN_DISCUSSION, at(25)
        offer.status, offer.updated_at = EntryStatus.MET, at(25)
        secret_updated = afg.reference

        # Annual reports covering 2026: Germany early, Norway this week. Covering 2025 (the
        # year before), only Spain had reported by 28 March 2026.
        for state, year, on in (
            ("DEU", 2026, date(2027, 2, 10)),
            ("NOR", 2026, date(2027, 3, 23)),
            ("ESP", 2025, date(2026, 3, 2)),
        ):
            recorded = datetime.combine(on, datetime.min.time(), UTC).replace(hour=12)
            await mark_report_submitted(
                session,
                SYSTEM,
                recorded,
                state=state,
                kind=ReportKind.ANNUAL,
                year=year,
                due=date(year + 1, 4, 30),
                submitted_on=on,
                via=Via.EMAIL,
            )

        # Deadlines ahead: Lebanon's Article 4 extended to 1 May 2027, and one the ISU added.
        art4 = await session.scalar(
            select(Obligation).where(Obligation.state_iso3 == "LBN", Obligation.article == 4)
        )
        assert art4 is not None
        session.add(
            Extension(
                obligation_id=art4.id, deadline=date(2027, 5, 1), basis=Basis.ISU, source="ISU"
            )
        )
        session.add(
            CustomDeadline(
                state_iso3="SEN",
                title="Extension request consultation",
                due=date(2027, 5, 15),
                created_at=BEFORE,
            )
        )
        # The French delegate opts in; the partner does too, to prove what partners see.
        for email in (DELEGATE, PARTNER):
            contact = await contact_by_email(session, email)
            assert contact is not None
            await set_digest(session, contact.id, True, now=BEFORE)

    # Senegal was reminded of its 2025 report and never answered; it was escalated this week.
    await _sent(
        store, SENEGAL, "SEN", "art7-annual-2025", "overdue-2", date(2026, 4, 30), at(10, 8)
    )
    await _sent(
        store, COORDINATOR, "SEN", "art7-annual-2025", "escalate", date(2026, 4, 30), at(23, 8)
    )
    # Answered (Afghanistan), or done since (Lebanon reported): neither is "unanswered".
    answered = await _sent(
        store, "n.karimi@dmac.gov.af.example", "AFG", "art4", "m1", date(2026, 3, 1), at(5, 8)
    )
    async with store.transaction() as session:
        row = await session.get(Delivery, answered)
        assert row is not None
        row.answered_at = at(6)
    await _sent(
        store,
        "rami.haddad@lmac.gov.lb.example",
        "LBN",
        "art7-annual-2025",
        "overdue-1",
        date(2026, 4, 30),
        at(5, 8),
    )
    return World(hostile.reference, secret.reference, secret_updated)


async def digest_for(store: Store, email: str, period: Period = WEEK) -> Digest:
    async with store.transaction() as session:
        contact = await contact_by_email(session, email)
        assert contact is not None
        speaker = await speaker_for(session, contact, ZONE.key)
        shared = await load_shared_facts(session, period, ZONE)
        since = await window_start(session, contact.id, period)
        facts = await load_digest_facts(session, Viewer.of(contact), shared, since)
        return compose_digest(facts, name=contact.name, language=speaker.language)


def lines(digest: Digest, key: str) -> tuple[str, ...]:
    section = digest.section(key)
    return section.lines if section else ()


def everything(digest: Digest) -> str:
    return plain(digest.reply().text)


def plain(text: str) -> str:
    """Babel writes no-break and thin spaces where French and Spanish want them, and an en
    dash between two dates: compared here as plain spaces and a hyphen."""
    for odd, usual in (("\xa0", " "), ("\u202f", " "), ("\u2009", " "), ("\u2013", "-")):
        text = text.replace(odd, usual)
    return text


@pytest.fixture
async def week(store: Store) -> World:
    return await build_week(store)


ALL_SECTIONS = [
    "needs_new",
    "needs_updated",
    "offers_new",
    "offers_updated",
    "deadlines",
    "reports_received",
    "reports_missing",
    "reporting_rate",
    "unanswered",
    "escalations",
]


async def test_coordinator_digest_has_every_section_in_english(store: Store, week: World) -> None:
    digest = await digest_for(store, COORDINATOR)

    assert [s.key for s in digest.sections] == ALL_SECTIONS
    assert plain(digest.subject) == "CCM weekly digest: 22 - 28 Mar 2027"
    assert digest.intro.startswith("Dear Jonas Weber,")
    assert [line.split(" · ")[0] for line in lines(digest, "needs_new")] == [
        week.hostile,
        week.secret,
    ]
    assert "€350,000.00" in lines(digest, "needs_new")[0]
    assert lines(digest, "needs_updated") == (
        f"{week.secret_updated} · Afghanistan · Directorate of Mine Action Coordination · "
        "Victim assistance · US$750,000.00 · In discussion · Coordinators only — Physical "
        "rehabilitation and psychosocial support for cluster munition survivors in Kandahar "
        "and Helmand",
    )
    assert [line.split(" · ")[1] for line in lines(digest, "offers_new")] == ["Norway"]
    assert " · Met — " in lines(digest, "offers_updated")[0]
    assert lines(digest, "deadlines") == (
        "1 May 2027: Lebanon — Article 4 deadline: clearance of contaminated areas",
        "15 May 2027: Senegal — Extension request consultation",
    )
    assert lines(digest, "reports_received") == (
        "Norway: Article 7 annual transparency report covering 2026 (23 March 2027)",
    )
    # Eight parties owe the 2026 report; Germany and Norway sent it. A year earlier, by the
    # same date, only Spain had sent its 2025 report.
    assert lines(digest, "reports_missing") == (
        "Afghanistan, Chile, France, Lebanon, Senegal, Spain",
    )
    assert lines(digest, "reporting_rate") == (
        "Reports covering 2026, as of 28 March 2027: 2 of 8 (25%)",
        "Reports covering 2025, as of 28 March 2026: 1 of 8 (12%)",
    )
    assert [(bar.rate, bar.current) for bar in digest.chart] == [(0.25, True), (0.125, False)]
    assert lines(digest, "unanswered") == (
        "Senegal: Article 7 annual transparency report covering 2025 (due 30 April 2026): "
        "1 reminder, no answer",
    )
    assert lines(digest, "escalations") == (
        "Senegal: Article 7 annual transparency report covering 2025, escalated on 23 March 2027",
    )
    assert "Reply STOP" in digest.footer
    # Matching has not landed: no section pretends to suggest matches.
    assert "match" not in everything(digest).lower()


async def test_isu_reads_it_in_spanish(store: Store, week: World) -> None:
    digest = await digest_for(store, ISU)

    assert digest.language == "es"
    assert plain(digest.subject) == "Resumen semanal de la CCM: 22-28 de marzo de 2027"
    assert digest.intro.startswith("Estimado/a Sofía Martínez:")
    titles = [s.title for s in digest.sections]
    assert titles[:4] == [
        "Nuevas necesidades",
        "Necesidades actualizadas",
        "Nuevas ofertas",
        "Ofertas actualizadas",
    ]
    assert "Informes relativos a 2026, al 28 de marzo de 2027: 2 de 8 (25 %)" in everything(digest)
    assert lines(digest, "deadlines")[0].startswith("1 de mayo de 2027: Líbano")
    assert week.secret in everything(digest)  # the ISU sees coordinators-only needs
    assert "350.000,00 €" in plain(lines(digest, "needs_new")[0])


async def test_french_delegate_reads_it_in_french_without_coordinators_only_items(
    store: Store, week: World
) -> None:
    digest = await digest_for(store, DELEGATE)
    text = everything(digest)

    assert plain(digest.subject) == "Résumé hebdomadaire de la CCM : 22-28 mars 2027"
    assert digest.intro.startswith("Cher/Chère Claire Dubois,")
    assert [s.title for s in digest.sections][:2] == ["Nouveaux besoins", "Nouvelles offres"]
    assert [line.split(" · ")[0] for line in lines(digest, "needs_new")] == [week.hostile]
    assert week.hostile in text
    assert week.secret not in text
    assert week.secret_updated not in text
    assert SECRET_NEED not in text
    assert "Coordonnateurs uniquement" not in text
    # A delegate is told of reminders about their own State only (France: none).
    assert digest.section("unanswered") is None
    assert digest.section("escalations") is None
    assert "Rapports portant sur 2026, au 28 mars 2027 : 2 sur 8 (25 %)" in text


async def test_partner_sees_public_records_only(store: Store, week: World) -> None:
    digest = await digest_for(store, PARTNER)
    text = everything(digest)

    assert week.hostile not in text  # shared with States Parties, not the public
    assert week.secret not in text
    assert "Mentoring for national mine action authorities" in text  # public
    assert digest.section("escalations") is None


async def test_subscribers_are_coordinators_isu_and_those_who_opted_in(
    store: Store, week: World
) -> None:
    async with store.transaction() as session:
        emails = [c.email for c in await digest_subscribers(session)]
        assert sorted(e or "" for e in emails) == sorted(SUBSCRIBERS)
        coordinator = await contact_by_email(session, COORDINATOR)
        assert coordinator is not None
        assert await set_digest(session, coordinator.id, False, now=MONDAY)
        assert not await set_digest(session, coordinator.id, False, now=MONDAY)
        audit = await session.scalar(
            select(AuditEntry)
            .where(AuditEntry.entity == "contacts", AuditEntry.entity_id == str(coordinator.id))
            .order_by(AuditEntry.id.desc())
        )
        assert audit is not None
        assert (audit.before or {})["digest"] is None
        assert (audit.after or {})["digest"] is False
        assert COORDINATOR not in [c.email for c in await digest_subscribers(session)]


async def test_digest_switch_answers_in_the_persons_language(store: Store, week: World) -> None:
    async with store.transaction() as session:
        contact = await contact_by_email(session, DELEGATE)
        assert contact is not None
        speaker = await speaker_for(session, contact, ZONE.key)
        off = await digest_switch(session, speaker, False, now=MONDAY, via=Via.SLACK)
        assert off.intro.startswith("Vous ne recevrez plus le résumé hebdomadaire.")
        assert contact.digest is False
        on = await digest_switch(session, speaker, True, now=MONDAY, via=Via.SLACK)
        assert on.intro == "Vous recevrez le résumé hebdomadaire par courriel."
        assert contact.digest is True


async def test_quiet_week_is_two_lines(store: Store) -> None:
    async with store.transaction() as session:
        await load_states(session, some_states(), SYSTEM, BEFORE)
        session.add(
            Contact(
                name="Luc Martin",
                email="luc.martin@example.org",
                role=Role.COORDINATOR,
                language="fr",
                created_at=BEFORE,
            )
        )
    digest = await digest_for(store, "luc.martin@example.org", iso_week(2027, 30, ZONE))

    assert digest.quiet
    assert digest.sections == ()
    assert plain(digest.intro).split("\n") == [
        "Résumé hebdomadaire de la CCM, 26 juil. - 1 août 2027 : rien de nouveau cette semaine.",
        "Aucun besoin ni aucune offre nouveaux ou mis à jour, aucun rapport reçu, aucun rappel "
        "sans réponse ni alerte, et aucune échéance du traité dans les 90 prochains jours.",
    ]


async def test_new_since_the_last_digest_covers_a_missed_week(store: Store, week: World) -> None:
    """Sent for W10, nothing for W11 (the bot was down): W12's digest starts where W10 ended."""
    from storage.digest import SENT
    from storage.models import DigestSend

    w10 = iso_week(2027, 10, ZONE)
    async with store.transaction() as session:
        contact = await contact_by_email(session, COORDINATOR)
        assert contact is not None
        session.add(
            DigestSend(
                contact_id=contact.id,
                period_start=w10.start,
                period_end=w10.end,
                status=SENT,
                created_at=w10.end,
            )
        )
        await session.flush()
        assert await window_start(session, contact.id, WEEK) == w10.end
        # Too old to catch up from: the week alone.
        assert await window_start(session, contact.id, iso_week(2027, 20, ZONE)) == (
            iso_week(2027, 20, ZONE).start
        )
    digest = await digest_for(store, COORDINATOR)
    assert plain(digest.intro).endswith("(15 - 28 Mar 2027).")


async def test_slack_summary_counts_only_what_delegates_may_see(store: Store, week: World) -> None:
    async with store.transaction() as session:
        shared = await load_shared_facts(session, WEEK, ZONE)
        facts = await load_digest_facts(session, Viewer(Role.DELEGATE), shared, WEEK.start)
    summary = compose_summary(facts)

    assert plain(summary).splitlines()[:3] == [
        "CCM weekly digest: 22 - 28 Mar 2027",
        "New needs: 1",  # the coordinators-only one is not counted
        "New offers: 1",
    ]
    assert plain(summary).splitlines()[-3:] == [
        "Reporting rate",
        "  Reports covering 2026, as of 28 March 2027: 2 of 8 (25%)",
        "  Reports covering 2025, as of 28 March 2026: 1 of 8 (12%)",
    ]
