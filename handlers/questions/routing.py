"""Is this turn a question to the records, or an answer for the conversation?

Decided once per turn by the conversation core, from the text read once by each reader: the
reply reader (``handlers.understanding.understand``) and the question reader
(``handlers.questions.parsing.parse_question``). The same rule holds on every channel.
"""

from __future__ import annotations

from handlers.questions.parsing import Question, Topic
from handlers.understanding import Intent, Understanding
from storage.models import Role

# What the reply reader may find in a sentence that still reads as a question: "who needs
# help with clearance in Africa?" reads as a need, « quels États… » as nothing it records.
_QUESTION_INTENTS = frozenset((Intent.NEED, Intent.OFFER, Intent.UNKNOWN))


def sees_everything(role: Role | None) -> bool:
    return role in (Role.COORDINATOR, Role.ISU)


def is_question(
    understood: Understanding, question: Question, role: Role | None, *, in_thread: bool
) -> bool:
    """Whether a sentence asks the records rather than talks to the conversation (a report
    sent, a need, an offer, "later").

    - A reply keyword ("LATER", "SOUMIS 2026"), a plea for help ("what should I do?", "help")
      or nothing the records know of ("who can I write to?"): the conversation, which
      explains itself (``help`` lists what the person's role can do, questions included).
    - A sentence opening with a question word (who, which, qui, quels, quién, qué…) that
      names something the records hold (a topic word or a filter), from anyone: "which needs
      are open in Africa?" from a delegate, "who needs help with clearance in Africa?" from a
      coordinator.
    - In a reminder's thread (``in_thread``: an email reply, a Slack thread, ``chat --about``)
      only such a sentence, and only when the reply reader found no answer the reminder could
      take other than a need or offer there ("Which one? We sent it on 3 March" stays an
      answer): everything else answers the reminder.
    - Elsewhere, from a Coordinator or the ISU, also filters the records know ("article 4
      africa open", "stats 2025", "Liban") that end with "?", that the conversation reads as
      nothing it records, or that name a status or region, which a request never does. A
      delegate writing "We need 250 000 USD for clearance" proposes a need, whoever writes it.
    """
    if understood.keyword or understood.intent is Intent.HELP or question.topic is Topic.HELP:
        return False
    if not question.structured:
        return False
    if question.opens_with_question_word:
        return not in_thread or understood.intent in _QUESTION_INTENTS
    if in_thread or not sees_everything(role):
        return False
    filters = question.filters
    listing_words = filters.status is not None or filters.region is not None
    return question.asked or understood.intent is Intent.UNKNOWN or listing_words
