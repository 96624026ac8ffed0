"""Reply keywords for email: the table templates show to readers, and the matcher."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from handlers.understanding._text import build_alternation, fold_word


class Intent(StrEnum):
    REPORT_SUBMITTED = "report_submitted"
    NEED = "need"
    OFFER = "offer"
    SNOOZE = "snooze"
    NOT_ME = "not_me"
    STOP = "stop"
    HELP = "help"
    CONFIRM = "confirm"
    # Drop a proposal waiting for Confirm: nothing is recorded.
    CANCEL = "cancel"
    CORRECT = "correct"
    WITHDRAW = "withdraw"
    # Only ever a button: open the form again to change a draft or a record.
    EDIT = "edit"
    # A question asked in a set form, its value the question (``handlers.questions.Ask``):
    # a ``/ccm needs …`` command, or an answer's *More* and *Show the names* buttons, which ask
    # it again. *Share* asks it for everyone in a channel. Never typed, so no keywords.
    ASK = "ask"
    MORE = "more"
    NAMES = "names"
    SHARE = "share"
    UNKNOWN = "unknown"


LANGUAGES: tuple[str, ...] = ("en", "fr", "es")

# Written as the reader should type them; matching ignores case and accents.
KEYWORDS: Mapping[str, Mapping[Intent, tuple[str, ...]]] = MappingProxyType(
    {
        "en": MappingProxyType(
            {
                Intent.REPORT_SUBMITTED: ("SUBMITTED",),
                Intent.NEED: ("NEED",),
                Intent.OFFER: ("OFFER",),
                Intent.SNOOZE: ("LATER",),
                Intent.NOT_ME: ("NOT ME",),
                Intent.STOP: ("STOP",),
                Intent.HELP: ("HELP",),
                Intent.CONFIRM: ("CONFIRM",),
                Intent.CANCEL: ("CANCEL",),
                Intent.CORRECT: ("CORRECT",),
                Intent.WITHDRAW: ("WITHDRAW",),
            }
        ),
        "fr": MappingProxyType(
            {
                Intent.REPORT_SUBMITTED: ("SOUMIS",),
                Intent.NEED: ("BESOIN",),
                Intent.OFFER: ("OFFRE",),
                Intent.SNOOZE: ("PLUS TARD",),
                Intent.NOT_ME: ("PAS MOI",),
                Intent.STOP: ("STOP", "ARRÊT"),
                Intent.HELP: ("AIDE",),
                Intent.CONFIRM: ("CONFIRMER",),
                Intent.CANCEL: ("ANNULER",),
                Intent.CORRECT: ("CORRIGER",),
                Intent.WITHDRAW: ("RETIRER",),
            }
        ),
        "es": MappingProxyType(
            {
                Intent.REPORT_SUBMITTED: ("PRESENTADO",),
                Intent.NEED: ("NECESIDAD",),
                Intent.OFFER: ("OFERTA",),
                Intent.SNOOZE: ("MÁS TARDE",),
                Intent.NOT_ME: ("NO SOY YO",),
                Intent.STOP: ("STOP", "BASTA"),
                Intent.HELP: ("AYUDA",),
                Intent.CONFIRM: ("CONFIRMAR",),
                Intent.CANCEL: ("CANCELAR",),
                Intent.CORRECT: ("CORREGIR",),
                Intent.WITHDRAW: ("RETIRAR",),
            }
        ),
    }
)


@dataclass(frozen=True)
class KeywordMatch:
    intent: Intent
    language: str | None  # None when the keyword is shared by several languages (STOP)
    body_start: int  # where the text after the keyword and its separator begins


def _index() -> dict[str, tuple[Intent, frozenset[str]]]:
    index: dict[str, tuple[Intent, frozenset[str]]] = {}
    for language, table in KEYWORDS.items():
        for intent, words in table.items():
            for word in words:
                folded = fold_word(word)
                known_intent, languages = index.get(folded, (intent, frozenset()))
                if known_intent is not intent:
                    raise ValueError(f"keyword {word!r} means two things")
                index[folded] = (intent, languages | {language})
    return index


_INDEX = _index()

# Leading markup a mail client or a person may put before the keyword ("*NEED*", "> ").
# The keyword must end the word: "STOPPED", "Helpful" and "Needed" are sentences.
_KEYWORD = re.compile(
    r"[\s*_\"'«»>]*(?P<keyword>" + build_alternation(_INDEX) + r")[*_]*"
    r"(?P<separator>$|[\s:;,.!]|-(?!\d))\s*(?:[:;,.!]|-(?!\d))?\s*"
)


def match_keyword(folded: str) -> KeywordMatch | None:
    """The reply keyword at the start of folded text, if any."""
    found = _KEYWORD.match(folded)
    if found is None:
        return None
    keyword = re.sub(r"\s+", " ", found["keyword"])
    intent, languages = _INDEX[keyword]
    if intent is Intent.CORRECT and found["separator"] == ",":
        return None  # "Correct, we sent it yesterday" agrees; it does not ask for a correction
    language = next(iter(languages)) if len(languages) == 1 else None
    return KeywordMatch(intent=intent, language=language, body_start=found.end())
