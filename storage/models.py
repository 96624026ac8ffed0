"""The shared store's tables, as typed SQLAlchemy 2 models.

Every date a State is held to carries its basis (sourced from a public document, computed from the
treaty's rules, or a default from CLDR) and the source, because the ISU must be able to say where a
deadline comes from before a delegate is reminded of it.

One module (about 650 lines) on purpose: the schema is read and reviewed as a whole against the
migrations (``tests/storage/test_db.py`` checks they build exactly these tables).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

# Stable constraint names so Alembic migrations are the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC in, aware UTC out, on PostgreSQL and on SQLite (which keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; pass an aware UTC time")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime(), dict[str, Any]: JSON}


def _enum(enum: type[StrEnum]) -> Enum:
    # Stored as plain strings: adding a value later needs no ALTER TYPE on PostgreSQL.
    return Enum(
        enum,
        native_enum=False,
        create_constraint=False,
        length=32,
        values_callable=lambda members: [m.value for m in members],
    )


class Basis(StrEnum):
    SOURCED = "sourced"
    COMPUTED = "computed"
    DEFAULT = "default"
    ISU = "isu"


class StateStatus(StrEnum):
    PARTY = "party"
    SIGNATORY = "signatory"
    WITHDRAWN = "withdrawn"


class Role(StrEnum):
    DELEGATE = "delegate"
    COORDINATOR = "coordinator"
    ISU = "isu"
    PARTNER = "partner"


class Channel(StrEnum):
    SLACK = "slack"
    EMAIL = "email"
    BOTH = "both"


class Via(StrEnum):
    """Through which channel a record or change arrived."""

    SLACK = "slack"
    EMAIL = "email"
    CLI = "cli"
    IMPORT = "import"
    TERMINAL = "terminal"
    SYSTEM = "system"


class EntryKind(StrEnum):
    NEED = "need"
    OFFER = "offer"


class Category(StrEnum):
    STOCKPILE_DESTRUCTION = "stockpile_destruction"
    SURVEY_CLEARANCE = "survey_clearance"
    RISK_EDUCATION = "risk_education"
    VICTIM_ASSISTANCE = "victim_assistance"
    SOCIO_ECONOMIC = "socio_economic"
    NATIONAL_PLANNING = "national_planning"
    EQUIPMENT = "equipment"
    TRAINING_EXPERTISE = "training_expertise"
    FUNDING = "funding"
    OTHER = "other"


class EntryStatus(StrEnum):
    OPEN = "open"
    IN_DISCUSSION = "in_discussion"
    MET = "met"
    WITHDRAWN = "withdrawn"


class Visibility(StrEnum):
    PUBLIC = "public"
    STATES_PARTIES = "states_parties"
    COORDINATORS = "coordinators"


class Direction(StrEnum):
    PROVIDED = "provided"
    RECEIVED = "received"


class ReportKind(StrEnum):
    INITIAL = "initial"
    ANNUAL = "annual"


class State(Base):
    """A State Party (or signatory, or a State that withdrew) and its defaults for reminders."""

    __tablename__ = "states"

    iso3: Mapped[str] = mapped_column(String(3), primary_key=True)
    iso2: Mapped[str] = mapped_column(String(2))
    name_en: Mapped[str] = mapped_column(String(120))
    name_fr: Mapped[str] = mapped_column(String(120))
    name_es: Mapped[str] = mapped_column(String(120))
    region: Mapped[str] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(5))
    timezone: Mapped[str] = mapped_column(String(64))
    weekend: Mapped[list[int]] = mapped_column(JSON)
    status: Mapped[StateStatus] = mapped_column(_enum(StateStatus))
    status_date: Mapped[date | None] = mapped_column(Date)
    instrument_deposited: Mapped[date | None] = mapped_column(Date)
    entry_into_force: Mapped[date | None] = mapped_column(Date)
    entry_into_force_basis: Mapped[Basis | None] = mapped_column(_enum(Basis))
    source: Mapped[str] = mapped_column(Text, default="")
    # Fields the ISU set by hand: a reload of the treaty data leaves them alone.
    overridden: Mapped[list[str]] = mapped_column(JSON, default=list)

    obligations: Mapped[list[Obligation]] = relationship(
        back_populates="state", order_by="Obligation.article", lazy="raise"
    )

    def name(self, language: str) -> str:
        return {"fr": self.name_fr, "es": self.name_es}.get(language, self.name_en)


class Obligation(Base):
    """A treaty obligation of one State (Articles 3, 4, 5, 7) with its dated history."""

    __tablename__ = "obligations"
    __table_args__ = (
        UniqueConstraint("state_iso3", "article"),
        CheckConstraint("article IN (3, 4, 5, 7)", name="article"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    state_iso3: Mapped[str] = mapped_column(ForeignKey("states.iso3", ondelete="CASCADE"))
    article: Mapped[int] = mapped_column(Integer)
    original_deadline: Mapped[date | None] = mapped_column(Date)
    original_basis: Mapped[Basis | None] = mapped_column(_enum(Basis))
    original_source: Mapped[str] = mapped_column(Text, default="")
    completed_on: Mapped[date | None] = mapped_column(Date)
    completed_note: Mapped[str] = mapped_column(Text, default="")
    completed_source: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")

    state: Mapped[State] = relationship(back_populates="obligations", lazy="raise")
    extensions: Mapped[list[Extension]] = relationship(
        back_populates="obligation",
        order_by="Extension.deadline",
        lazy="raise",
        cascade="all, delete-orphan",
    )

    @property
    def is_completed(self) -> bool:
        return self.completed_on is not None or bool(self.completed_note)


class Extension(Base):
    """One extended deadline granted (or requested) for an obligation."""

    __tablename__ = "extensions"
    __table_args__ = (UniqueConstraint("obligation_id", "deadline"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    obligation_id: Mapped[int] = mapped_column(ForeignKey("obligations.id", ondelete="CASCADE"))
    deadline: Mapped[date] = mapped_column(Date)
    basis: Mapped[Basis] = mapped_column(_enum(Basis))
    source: Mapped[str] = mapped_column(Text, default="")
    note: Mapped[str] = mapped_column(Text, default="")

    obligation: Mapped[Obligation] = relationship(back_populates="extensions", lazy="raise")


class Contact(Base):
    """A person the bot talks to. Personal fields are blanked by ``contacts forget``."""

    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    slack_user_id: Mapped[str | None] = mapped_column(String(32), unique=True)
    state_iso3: Mapped[str | None] = mapped_column(ForeignKey("states.iso3"), index=True)
    organisation: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(_enum(Role))
    language: Mapped[str | None] = mapped_column(String(5))
    timezone: Mapped[str | None] = mapped_column(String(64))
    channel: Mapped[Channel] = mapped_column(_enum(Channel), default=Channel.EMAIL)
    active: Mapped[bool] = mapped_column(default=True)
    alternate_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    email_bouncing: Mapped[bool] = mapped_column(default=False)
    digest: Mapped[bool | None] = mapped_column(default=None)
    forgotten_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class Report(Base):
    """An Article 7 transparency report owed by a State: initial, or annual covering ``year``."""

    __tablename__ = "reports"
    __table_args__ = (UniqueConstraint("state_iso3", "kind", "year"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    state_iso3: Mapped[str] = mapped_column(ForeignKey("states.iso3"), index=True)
    kind: Mapped[ReportKind] = mapped_column(_enum(ReportKind))
    # The year an annual report covers; for the initial report, the year of entry into force.
    year: Mapped[int] = mapped_column(Integer)
    due: Mapped[date] = mapped_column(Date)
    submitted_on: Mapped[date | None] = mapped_column(Date)
    learned_via: Mapped[Via | None] = mapped_column(_enum(Via))
    learned_note: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    recorded_at: Mapped[datetime | None]


class Entry(Base):
    """A need (request for assistance) or an offer (capacity to assist), with its provenance."""

    __tablename__ = "entries"
    __table_args__ = (
        UniqueConstraint("kind", "ref_year", "ref_number"),
        CheckConstraint("article IS NULL OR article IN (3, 4, 5, 6)", name="article"),
        CheckConstraint("amount IS NULL OR amount > 0", name="amount_positive"),
        Index("ix_entries_kind_status_created", "kind", "status", "created_at"),
        Index("ix_entries_kind_article_category", "kind", "article", "category"),
        # storage.listings, storage.overview and storage.yearly_figures: newest-first pages and
        # exports; a State's entries (and how many are open); the yearly figures; listings of a
        # category; and the counts of filtered listings, read from the index alone.
        Index("ix_entries_kind_created", "kind", "created_at", "id"),
        Index("ix_entries_state_kind_created", "state_iso3", "kind", "created_at"),
        Index("ix_entries_state_kind_status", "state_iso3", "kind", "status"),
        Index("ix_entries_kind_article_state_year", "kind", "article", "state_iso3", "ref_year"),
        Index("ix_entries_kind_year_state_article", "kind", "ref_year", "state_iso3", "article"),
        Index("ix_entries_kind_category_created", "kind", "category", "created_at"),
        Index(
            "ix_entries_filters",
            "kind",
            "status",
            "article",
            "category",
            "visibility",
            "state_iso3",
        ),
        # An import's staged rows, found by its publish, its cleanup and housekeeping; empty
        # once nothing is staged, so it costs published rows nothing.
        Index(
            "ix_entries_staged_by",
            "staged_by",
            sqlite_where=text("staged_by IS NOT NULL"),
            postgresql_where=text("staged_by IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[EntryKind] = mapped_column(_enum(EntryKind))
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    ref_year: Mapped[int] = mapped_column(Integer)
    ref_number: Mapped[int] = mapped_column(Integer)
    state_iso3: Mapped[str | None] = mapped_column(ForeignKey("states.iso3"), index=True)
    organisation: Mapped[str | None] = mapped_column(String(200))
    article: Mapped[int | None] = mapped_column(Integer)
    category: Mapped[Category] = mapped_column(_enum(Category))
    description: Mapped[str] = mapped_column(Text)
    amount: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    currency: Mapped[str | None] = mapped_column(String(3))
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)
    focus: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[EntryStatus] = mapped_column(_enum(EntryStatus), default=EntryStatus.OPEN)
    visibility: Mapped[Visibility] = mapped_column(
        _enum(Visibility), default=Visibility.STATES_PARTIES
    )
    via: Mapped[Via] = mapped_column(_enum(Via))
    original_text: Mapped[str | None] = mapped_column(Text)
    original_language: Mapped[str | None] = mapped_column(String(5))
    message_id: Mapped[str | None] = mapped_column(String(998))
    logged_by_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    confirmed_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # The import that wrote this row and has not yet published it (storage.records.stage_entries):
    # no read path shows it (storage.records.published) until that import's final transaction
    # empties it.
    staged_by: Mapped[str | None] = mapped_column(String(32))


class AssistanceRecord(Base):
    """Assistance a State reported providing or receiving in a year (from Article 7 reports)."""

    __tablename__ = "assistance"
    __table_args__ = (
        CheckConstraint("article IS NULL OR article IN (3, 4, 5, 6)", name="article"),
        # The yearly figures: who reported what for a year, read from the index alone.
        Index(
            "ix_assistance_year_direction_state_article",
            "year",
            "direction",
            "state_iso3",
            "article",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    direction: Mapped[Direction] = mapped_column(_enum(Direction))
    # The reporting State: the provider when ``direction`` is provided, else the recipient.
    state_iso3: Mapped[str] = mapped_column(ForeignKey("states.iso3"), index=True)
    provider: Mapped[str] = mapped_column(String(200))
    recipient: Mapped[str] = mapped_column(String(200))
    year: Mapped[int] = mapped_column(Integer)
    article: Mapped[int | None] = mapped_column(Integer)
    amount: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    currency: Mapped[str | None] = mapped_column(String(3))
    source: Mapped[str] = mapped_column(Text, default="")


class AuditColumns:
    """What an audit row says: who, when, through which channel, before and after."""

    at: Mapped[datetime]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(200))
    via: Mapped[Via] = mapped_column(_enum(Via))
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(20))
    before: Mapped[dict[str, Any] | None]
    after: Mapped[dict[str, Any] | None]


class AuditEntry(AuditColumns, Base):
    """Append-only history of every change: who, when, through which channel, before and after."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)


class StagedAudit(AuditColumns, Base):
    """The audit rows of an import's staged entries, written with them batch by batch and
    copied into the audit log by the transaction that publishes them, in one statement: the
    append-only log never holds a row of an import that did not happen."""

    __tablename__ = "audit_staging"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    staged_by: Mapped[str] = mapped_column(String(32), index=True)


class CustomDeadline(Base):
    """A one-off date the ISU adds for a State (an extension-request filing date, a meeting)."""

    __tablename__ = "custom_deadlines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    state_iso3: Mapped[str] = mapped_column(ForeignKey("states.iso3"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    due: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime]


class MessageStatus(StrEnum):
    PENDING = "pending"
    CLAIMED = "claimed"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"


class SentWithRetries:
    """The columns of a row that is sent at most once and retried until then (storage.claims).

    ``status``: pending, claimed (being sent, by ``claimed_by`` since ``claimed_at``), sent,
    failed (given up, ``error`` says why) or cancelled.
    """

    status: Mapped[MessageStatus] = mapped_column(
        _enum(MessageStatus), default=MessageStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)


class Message(SentWithRetries, Base):
    """One message to one person on one channel on one local day: the unit that is sent.

    Reminders due together are merged into it, which is how nobody gets two reminders a day.
    Its id names it everywhere (email Message-ID, Slack message metadata), so a send that
    crashed before being recorded can be recognised instead of repeated.
    """

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("contact_id", "channel", "local_day", "purpose"),
        Index("ix_messages_status_send_at", "status", "send_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"))
    channel: Mapped[Channel] = mapped_column(_enum(Channel))
    purpose: Mapped[str] = mapped_column(String(20), default="reminder")
    local_day: Mapped[date] = mapped_column(Date)
    send_at: Mapped[datetime]
    language: Mapped[str] = mapped_column(String(5))
    external_id: Mapped[str | None] = mapped_column(String(998))
    created_at: Mapped[datetime]

    deliveries: Mapped[list[Delivery]] = relationship(
        back_populates="message", lazy="raise", order_by="Delivery.id"
    )


class Delivery(Base):
    """The ledger: one reminder stage of one item for one contact on one channel, at most once."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("state_iso3", "item", "stage", "contact_id", "channel"),
        Index("ix_deliveries_state_item", "state_iso3", "item"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    state_iso3: Mapped[str] = mapped_column(ForeignKey("states.iso3"))
    item: Mapped[str] = mapped_column(String(40))
    stage: Mapped[str] = mapped_column(String(20))
    due: Mapped[date] = mapped_column(Date)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), index=True)
    channel: Mapped[Channel] = mapped_column(_enum(Channel))
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), index=True)
    # Set when the item was satisfied (report submitted, snoozed…) before the message went out.
    cancelled: Mapped[bool] = mapped_column(default=False)
    answered_at: Mapped[datetime | None]
    created_at: Mapped[datetime]

    message: Mapped[Message] = relationship(back_populates="deliveries", lazy="raise")


class Snooze(Base):
    """A person asked to be reminded of an item later."""

    __tablename__ = "snoozes"
    __table_args__ = (UniqueConstraint("contact_id", "state_iso3", "item"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"))
    state_iso3: Mapped[str] = mapped_column(ForeignKey("states.iso3"))
    item: Mapped[str] = mapped_column(String(40))
    until: Mapped[date] = mapped_column(Date)


class OptOut(Base):
    """A person switched a kind of reminder off (art7, treaty or custom)."""

    __tablename__ = "opt_outs"
    __table_args__ = (UniqueConstraint("contact_id", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"))
    kind: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime]


class DraftStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    DISCARDED = "discarded"


class Draft(Base):
    """What the bot guessed from a sentence and will record once the person confirms it.

    A form, a button or a keyword answer is recorded at once; only a guess waits here, between
    the echo and the answer (Confirm, Edit or Cancel), on whichever channel the answer comes.
    """

    __tablename__ = "drafts"
    __table_args__ = (Index("ix_drafts_contact_status", "contact_id", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"))
    intent: Mapped[str] = mapped_column(String(20))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    via: Mapped[Via] = mapped_column(_enum(Via))
    original_text: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(5))
    message_id: Mapped[str | None] = mapped_column(String(998))
    status: Mapped[DraftStatus] = mapped_column(_enum(DraftStatus), default=DraftStatus.PENDING)
    created_at: Mapped[datetime]


class ProcessedEvent(Base):
    """Slack event ids already handled: a retried event is answered but not processed twice."""

    __tablename__ = "processed_events"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(index=True)


class InboundStatus(StrEnum):
    RECEIVED = "received"
    PROCESSED = "processed"
    IGNORED = "ignored"
    REFUSED = "refused"
    FAILED = "failed"


class InboundMail(Base):
    """Every accepted email, stored before it is processed, so a crash loses nothing."""

    __tablename__ = "inbound_mail"
    __table_args__ = (
        Index("ix_inbound_mail_status", "status"),
        Index("ix_inbound_mail_message_id", "message_id"),  # the duplicate check on arrival
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    received_at: Mapped[datetime]
    envelope_from: Mapped[str] = mapped_column(String(998))
    envelope_to: Mapped[list[str]] = mapped_column(JSON)
    message_id: Mapped[str | None] = mapped_column(String(998))
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[InboundStatus] = mapped_column(
        _enum(InboundStatus), default=InboundStatus.RECEIVED
    )
    outcome: Mapped[str | None] = mapped_column(Text)
    processed_at: Mapped[datetime | None]
    # What our own MTA's Authentication-Results said (pass, fail, none…); None: nothing.
    auth_spf: Mapped[str | None] = mapped_column(String(16))
    auth_dkim: Mapped[str | None] = mapped_column(String(16))
    auth_dmarc: Mapped[str | None] = mapped_column(String(16))


class OutgoingMail(SentWithRetries, Base):
    """One email the bot owes someone (an answer to a reply, a notice to the ISU), kept until sent.

    Stored in the transaction that records what it answers, so a crash cannot lose it; claimed
    before each attempt like a ``Message`` (status ``claimed``, ``claimed_by``), retried with
    the ledger's backoff, and sent as the same bytes every time: ``raw`` carries the Message-ID,
    so a resend is recognisable. ``purpose`` is ``answer`` (to the person who wrote) or
    ``notice`` (to the ISU, who is not told by mail when its own mail fails).
    """

    __tablename__ = "outgoing_mail"
    __table_args__ = (
        Index("ix_outgoing_mail_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_outgoing_mail_message_id", "message_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    inbound_id: Mapped[int | None] = mapped_column(
        ForeignKey("inbound_mail.id", ondelete="SET NULL"), index=True
    )
    purpose: Mapped[str] = mapped_column(String(20))
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(Text, default="")
    message_id: Mapped[str] = mapped_column(String(998))
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]


class DigestSend(Base):
    """One weekly digest to one person, or its summary to one Slack channel, sent at most once.

    The unique keys are the exactly-once rule: a restart, a misfire or a second bot process
    finds the row and sends nothing. The row is claimed (``sending``) and committed before the
    send, and its id names the email everywhere (reply token, Message-ID), so a send that
    crashed before being recorded is resent with the same Message-ID, never as a new mail.
    ``period_start``/``period_end`` are the ISO week it covers (``schedules.periods``).
    """

    __tablename__ = "digest_sends"
    __table_args__ = (
        UniqueConstraint("contact_id", "period_start"),
        UniqueConstraint("slack_channel", "period_start"),
        CheckConstraint("(contact_id IS NULL) <> (slack_channel IS NULL)", name="one_recipient"),
        Index("ix_digest_sends_period_status", "period_start", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    slack_channel: Mapped[str | None] = mapped_column(String(80))
    period_start: Mapped[datetime]
    period_end: Mapped[datetime]
    # sending, sent, retry (a transient failure, tried again later) or failed (given up).
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None]
    message_id: Mapped[str | None] = mapped_column(String(998))
    sent_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
