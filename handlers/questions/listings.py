"""Needs and offers: a listing, one page at a time, of what the asker may see.

What a person may see is decided in the query (``storage.listings.entries`` through
``storage.visibility``), never here; a record for the Coordinators only says so on every line
it is shown, so nobody repeats it to the wrong audience.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.entry_form import CATEGORY_LABELS, STATUS_LABELS, VISIBILITY_LABELS
from handlers.i18n import Translator
from handlers.questions.ask import Answered, Ask, Asker
from handlers.questions.parsing import Question, Topic
from handlers.questions.wording import describe_question, found_text, showing, subject
from handlers.replies import Reply, Section
from storage.listings import entries
from storage.models import Entry, EntryKind, Visibility

ENTRIES_PER_ANSWER = 10  # one section each: with the header and buttons, far under 50 blocks
DESCRIPTION_PREVIEW = 300


async def listing(
    session: AsyncSession,
    question: Question,
    ask: Ask,
    asker: Asker,
    name_of: Callable[[str], str],
) -> Answered:
    """One page of the needs or offers a question asks for (``ask.offset`` onwards)."""
    t = asker.t
    kind = EntryKind.NEED if question.topic is Topic.NEEDS else EntryKind.OFFER
    if question.own and asker.viewer.state:
        question = replace(question, filters=replace(question.filters, state=asker.viewer.state))
    page = await entries(
        session, kind, asker.viewer, question.filters, limit=ENTRIES_PER_ANSWER, offset=ask.offset
    )
    understood = describe_question(question, t, today=asker.today, state_name=name_of)
    more = replace(ask, offset=ask.offset + len(page.items)) if page.more else None
    footer = showing(
        t, ask.offset, len(page.items), page.total, exact=page.exact, pages=asker.pages
    )
    return Answered(
        Reply(
            t.language,
            subject(t),
            f"{understood} {found_text(t, page)}",
            sections=tuple(entry_section(entry, t, name_of) for entry in page.items),
            footer=footer,
        ),
        more=more,
    )


def entry_section(entry: Entry, t: Translator, name_of: Callable[[str], str]) -> Section:
    """One need or offer as an answer lists it: reference, owner, category; its description;
    its status, article, amount, and "Coordinators only" when it is."""
    who = name_of(entry.state_iso3) if entry.state_iso3 else None
    title = " · ".join(
        part
        for part in (
            entry.reference,
            who,
            entry.organisation,
            t.gettext(CATEGORY_LABELS[entry.category]),
        )
        if part
    )
    description = " ".join(entry.description.split())
    if len(description) > DESCRIPTION_PREVIEW:
        description = description[: DESCRIPTION_PREVIEW - 1] + "…"
    details = [t.gettext(STATUS_LABELS[entry.status])]
    if entry.article is not None:
        details.append(t.gettext("Article {article}", article=entry.article))
    if entry.amount is not None and entry.currency:
        details.append(t.money(entry.amount, entry.currency))
    if entry.visibility is Visibility.COORDINATORS:
        # Said on every such record, so nobody repeats it to the wrong audience.
        details.append(t.gettext(VISIBILITY_LABELS[Visibility.COORDINATORS]))
    return Section(title, (description, " · ".join(details)))
