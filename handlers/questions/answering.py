"""Answering a question, whichever way it was asked: a sentence (a Slack DM, an email reply, the
terminal), a ``/ccm`` subcommand, or a choice that asks it again (*More*, *Show the names*,
*Share*). Every answer is a channel-neutral ``Reply``; its choices carry the question to ask
again (``Ask``) where the channel has buttons (``Asker.pages``).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.i18n import Translator
from handlers.questions.ask import (
    Answered,
    Ask,
    Asker,
    channel_audience,
    clip_words,
    viewer_of,
)
from handlers.questions.figures import stats_answer
from handlers.questions.listings import listing
from handlers.questions.overdue import deadlines_answer, overdue_answer
from handlers.questions.parsing import Question, Resolver, Topic, parse_question
from handlers.questions.state import state_answer
from handlers.questions.wording import subject
from handlers.replies import Choice, Reply
from handlers.turns import Speaker
from handlers.understanding.keywords import Intent
from storage.listings import state_names


def ask_of(question: Question, text: str) -> Ask | None:
    """The set form of a question read from a sentence, to answer it and ask it again; None
    for a plea for help, which has no answer in the records."""
    topic = question.topic
    if topic in (Topic.NEEDS, Topic.OFFERS):
        return Ask(topic.value, clip_words(text))
    if topic is Topic.OVERVIEW:
        return Ask("state", question.filters.state or "")
    if topic in (Topic.OVERDUE, Topic.STATS):
        return Ask(topic.value, str(question.year or ""))
    if topic is Topic.DEADLINES:
        return Ask("deadlines", str(question.months or ""))
    return None


def examples(t: Translator) -> str:
    """What one may ask, with examples in the reader's language."""
    return t.gettext(
        "Ask me, for example: “who needs help with clearance in Africa?”, “needs article 4 "
        "africa open”, “who can help with training?”, “which States have not submitted their "
        "2025 report?”, “deadlines 6 months”, “stats 2025”, or the name of a State."
    )


async def answer_question(
    session: AsyncSession,
    question: Question,
    text: str,
    asker: Asker,
    *,
    resolve_state: Resolver,
) -> Reply:
    """The answer to a question read from a sentence (``text``, parsed once as ``question``)."""
    ask = ask_of(question, text)
    if ask is None:
        return Reply(asker.t.language, subject(asker.t), examples(asker.t))
    listed = question if question.topic in (Topic.NEEDS, Topic.OFFERS) else None
    return await answer_ask(session, ask, asker, resolve_state=resolve_state, question=listed)


async def answer_ask(
    session: AsyncSession,
    ask: Ask,
    asker: Asker,
    *,
    resolve_state: Resolver,
    question: Question | None = None,
) -> Reply:
    """The answer to a question in its set form, with the choices that ask it again.

    ``question`` is the listing's question already read (from a sentence); without it the
    words of ``ask`` are read, the topic being the one the Ask names.
    """
    answered = await _answered(session, ask, asker, resolve_state, question)
    return with_choices(answered, ask, asker)


async def share(session: AsyncSession, ask: Ask, asker: Asker, *, resolve_state: Resolver) -> Reply:
    """The answer for everyone in a channel, as any delegate sees it, without choices.

    ``extra["note"]`` tells a Coordinator or the ISU what was left out of it.
    """
    audience = replace(asker, viewer=channel_audience(asker.viewer))
    reply = (await _answered(session, ask, audience, resolve_state, None)).reply
    note = ""
    if asker.viewer.sees_everything:
        note = asker.t.gettext(
            "Shared as any delegate sees it: records for the Coordinators only, contacts "
            "and reminders are left out."
        )
    return replace(reply, choices=(), extra={"note": note} if note else {})


def with_choices(answered: Answered, ask: Ask, asker: Asker) -> Reply:
    """*More*, *Show the names* and *Share in channel*, where the channel has buttons."""
    if not asker.pages:
        return answered.reply
    t = asker.t
    choices = []
    if answered.more is not None:
        choices.append(Choice(Intent.MORE, t.gettext("More"), "", answered.more.to_value()))
    if answered.names is not None:
        label = t.gettext("Show the names")
        choices.append(Choice(Intent.NAMES, label, "", answered.names.to_value()))
    choices.append(Choice(Intent.SHARE, t.gettext("Share in channel"), "", ask.to_value()))
    return replace(answered.reply, choices=tuple(choices))


async def _answered(
    session: AsyncSession,
    ask: Ask,
    asker: Asker,
    resolve_state: Resolver,
    question: Question | None,
) -> Answered:
    names = await state_names(session)
    language = asker.t.language

    def name_of(iso3: str) -> str:
        return names[iso3].name(language) if iso3 in names else iso3

    if ask.topic in ("needs", "offers"):
        if question is None:
            topic = Topic(ask.topic)
            question = parse_question(
                ask.words, resolve_state=resolve_state, today=asker.today, topic=topic
            )
        return await listing(session, question, ask, asker, name_of)
    if ask.topic == "state":
        return await state_answer(session, ask.words, asker, name_of, resolve_state)
    if ask.topic == "overdue":
        return await overdue_answer(session, ask, asker, name_of)
    if ask.topic == "deadlines":
        return await deadlines_answer(session, ask, asker, name_of)
    return await stats_answer(session, ask, asker, name_of)


async def answer(
    session: AsyncSession,
    speaker: Speaker | None,
    text: str,
    *,
    today: date,
    resolve_state: Resolver,
    t: Translator,
    pages: bool = False,
) -> Reply:
    """Answer a question asked in words, saying first how it was understood.

    For callers outside a conversation (the command line, tests): the conversation core reads
    a turn's text once and calls ``answer_question`` itself.
    """
    if speaker is None:
        return Reply(
            t.language,
            subject(t),
            t.gettext("I can only answer people the ISU has registered. Ask the ISU."),
        )
    asker = Asker(viewer_of(speaker), t, today, speaker.zone, pages)
    question = parse_question(text, resolve_state=resolve_state, today=today)
    return await answer_question(session, question, text, asker, resolve_state=resolve_state)
