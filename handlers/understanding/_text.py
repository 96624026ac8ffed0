"""Length-preserving text folding, so a match found in folded text slices the original."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

_SPACES = "\u00a0\u202f\u2007\u2009\u200a\u2002\u2003\u2004\u2005\u2006\u2008\u205f\u3000"
_APOSTROPHES = "\u2019\u2018\u02bc\u00b4`"
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2212"


def _fold_char(char: str) -> str:
    # Zero-width characters, byte-order marks and controls read as spaces.
    if char in _SPACES or (char not in "\n\r\t" and unicodedata.category(char) in ("Cc", "Cf")):
        return " "
    if char in _APOSTROPHES:
        return "'"
    if char in _DASHES:
        return "-"
    base = unicodedata.normalize("NFD", char)[0]
    lower = base.lower()
    # A few characters lower-case to two ("İ"); folding must keep one character per character.
    return lower if len(lower) == 1 else base


class _FoldTable(dict[int, str]):
    """str.translate table filled on first sight of each code point."""

    def __missing__(self, key: int) -> str:
        folded = _fold_char(chr(key))
        self[key] = folded
        return folded


_FOLD_TABLE = _FoldTable()


def normalise(text: str) -> str:
    """NFC, so that accents written as combining marks fold like precomposed ones."""
    return unicodedata.normalize("NFC", text)


def fold(text: str) -> str:
    """Lower-case, strip accents, unify spaces, apostrophes and dashes; same length as `text`."""
    return text.translate(_FOLD_TABLE)


def fold_word(text: str) -> str:
    """Fold a library or table string (month, currency, keyword) for matching."""
    return fold(normalise(text)).strip()


_HORIZONTAL_SPACE = re.compile(r"[ \t\f\v\u00a0\u202f]{2,}|[\t\f\v]")
_BLANK_LINES = re.compile(r"\n\s*\n(?:\s*\n)+")


def tidy(text: str) -> str:
    """Trim, collapse runs of spaces and of blank lines; keep single non-breaking spaces."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _HORIZONTAL_SPACE.sub(" ", text)
    text = _BLANK_LINES.sub("\n\n", text)
    return "\n".join(line.strip() for line in text.split("\n")).strip()


def blank(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """Replace the given spans with spaces, keeping every other position where it was."""
    chars = list(text)
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)


def build_alternation(words: Iterable[str]) -> str:
    """A regex alternation of literal words, longest first so that 'march' beats 'mar'."""
    unique = sorted(set(words), key=lambda word: (-len(word), word))
    return "|".join(re.escape(word).replace(r"\ ", r"\s+") for word in unique)
