"""Money amounts with their currency, in the ways delegates write them in three languages."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from babel.numbers import get_currency_name, get_currency_symbol, list_currencies

from handlers.understanding._text import build_alternation, fold, fold_word, normalise

_LOCALES = ("en", "fr", "es")

# Lower-case codes are accepted only for these; other ISO codes must be written in capitals,
# because lower case "top", "all", "try", "cup" or "mad" after a number is seldom money.
_LOWER_CASE_CODES = frozenset(
    {"usd", "eur", "gbp", "chf", "cad", "aud", "jpy", "nok", "sek", "dkk"}
)

# Codes that are also common words read as money only after a number: "10 000 TOP" is
# Tongan pa'anga, "TOP 10 PRIORITIES" is not.
_WORD_LIKE_CODES = frozenset({"all", "top", "try", "cup", "mad", "sos", "bob", "mop", "gel", "ron"})

# Words the CLDR names do not cover. A bare "dollar" is a US dollar in CCM cooperation work.
_ALIASES = {
    "dollar": "USD",
    "dollars": "USD",
    "dolar": "USD",
    "dolares": "USD",
    "dollars us": "USD",
    "dollars americains": "USD",
    "dolares americanos": "USD",
    "us dollars": "USD",
    "pound sterling": "GBP",
    "pounds sterling": "GBP",
    "francs cfa": "XOF",
    "franc cfa": "XOF",
}


def _is_precious_metal_or_test(code: str) -> bool:
    # XAU (gold, "or" in French), XAG ("argent"), XTS... are not money anyone pledges.
    return code.startswith("X") and code not in {"XOF", "XAF", "XCD", "XPF"}


def _currency_words() -> dict[str, str]:
    words: dict[str, str] = {}
    for code in sorted(list_currencies()):
        if _is_precious_metal_or_test(code):
            continue
        for locale in _LOCALES:
            names = {
                get_currency_name(code, locale=locale),
                get_currency_name(code, count=1, locale=locale),
                get_currency_name(code, count=2, locale=locale),
            }
            for name in names:
                folded = fold_word(name)
                # Skip withdrawn currencies ("peseta (1868-2001)") and names that are the code.
                if "(" not in folded and folded != code.lower():
                    words.setdefault(folded, code)
            symbol = fold_word(get_currency_symbol(code, locale=locale))
            # One- and two-letter symbols ("F", "FB") would read ordinary letters as money.
            if symbol != code.lower() and (not symbol.isalpha() or len(symbol) > 2):
                words.setdefault(symbol, code)
    words.update(_ALIASES)
    return words


_WORDS = _currency_words()
_CODES = frozenset(
    code.lower() for code in list_currencies() if not _is_precious_metal_or_test(code)
)


def _lengths_by(edge: int) -> dict[str, tuple[int, ...]]:
    """For each first (edge=0) or last (edge=-1) character, the lengths of words having it, longest
    first: a currency next to a number is found with a few dictionary look-ups, not a regex of
    1,700 names tried at every position."""
    lengths: dict[str, set[int]] = {}
    for word in _WORDS:
        lengths.setdefault(word[edge], set()).add(len(word))
    return {char: tuple(sorted(found, reverse=True)) for char, found in lengths.items()}


_LENGTHS_BY_FIRST = _lengths_by(0)
_LENGTHS_BY_LAST = _lengths_by(-1)
_CODE_AFTER = re.compile(r"[a-z]{3}(?![a-z0-9])")
_CODE_BEFORE = re.compile(r"(?<![a-z0-9])[a-z]{3}$")

# Thousands grouped by one repeated separator (space, comma, dot, apostrophe), or plain digits;
# either with an optional decimal part, and an exponent ("1e308") so that E notation is read as
# one figure, never as "308". ASCII digits only, as schedules.periods reads them. Every
# quantifier is bounded by a distinct character, so the scan stays linear on long text.
_NUMBER = re.compile(
    r"(?<![\d.,'])(?:"
    r"(?P<grouped>[1-9][0-9]{0,2}(?P<sep>[ ,.'])[0-9]{3}(?:(?P=sep)[0-9]{3})*)"
    r"(?:(?P<gdec>[.,])(?P<gfrac>[0-9]+))?"
    r"|(?P<plain>[0-9]+)(?:[.,](?P<pfrac>[0-9]+))?"
    r")(?P<exponent>e[+-]?[0-9]+)?(?!\d)"
)

# Powers of ten, so that "1,5 million" is built exactly from its digits (Decimal("1.5E6")).
_MULTIPLIERS = {
    "k": 3,
    "thousand": 3,
    "mille": 3,
    "mil": 3,
    "m": 6,
    "mn": 6,
    "mio": 6,
    "million": 6,
    "millions": 6,
    "millon": 6,
    "millones": 6,
    "bn": 9,
    "billion": 9,
    "billions": 9,
    "milliard": 9,
    "milliards": 9,
    "mil millones": 9,
    "millardo": 9,
    "millardos": 9,
}
_MULTIPLIER = re.compile(
    r"\s*(?P<word>" + build_alternation(_MULTIPLIERS) + r")\.?(?![a-z0-9])"
    r"(?:\s*(?:d'|de\s+|of\s+))?"
)

_CONTEXT = 8  # spaces allowed between a number and its currency
# In running text a longer figure is a serial number, not money, even next to a currency.
_MAX_DIGITS = 15


@dataclass(frozen=True)
class FoundAmount:
    amount: Decimal
    currency: str
    start: int
    end: int


def _is_word_char(char: str) -> bool:
    return char.isalnum()


def _code(code: str, written: str) -> str | None:
    """An ISO code typed as a word; lower case only for the common ones (see _LOWER_CASE_CODES)."""
    if code not in _CODES:
        return None
    return code.upper() if code in _LOWER_CASE_CODES or written.isupper() else None


def _currency_after(original: str, folded: str, position: int) -> tuple[str, int] | None:
    """The currency starting at `position` (after spaces), and where it ends."""
    start = position
    while start < len(folded) and start - position < _CONTEXT and folded[start].isspace():
        start += 1
    if start >= len(folded):
        return None
    for length in _LENGTHS_BY_FIRST.get(folded[start], ()):
        end = start + length
        word = folded[start:end]
        if word in _WORDS and not (
            end < len(folded) and _is_word_char(folded[end]) and _is_word_char(word[-1])
        ):
            return _WORDS[word], end
    code = _CODE_AFTER.match(folded, start)
    if code is not None:
        found = _code(code[0], original[code.start() : code.end()])
        if found is not None:
            return found, code.end()
    return None


def _currency_before(original: str, folded: str, position: int) -> tuple[str, int] | None:
    """The currency ending at `position` (before spaces), and where it starts."""
    end = position
    while end > 0 and position - end < _CONTEXT and folded[end - 1].isspace():
        end -= 1
    if end == 0:
        return None
    for length in _LENGTHS_BY_LAST.get(folded[end - 1], ()):
        start = end - length
        word = folded[max(start, 0) : end]
        if (
            start >= 0
            and word in _WORDS
            and not (start > 0 and _is_word_char(folded[start - 1]) and _is_word_char(word[0]))
        ):
            return _WORDS[word], start
    code = _CODE_BEFORE.search(folded, max(0, end - 3), end)
    if (
        code is not None
        and code[0] not in _WORD_LIKE_CODES
        and (code.start() == 0 or not _is_word_char(folded[code.start() - 1]))
    ):
        found = _code(code[0], original[code.start() : code.end()])
        if found is not None:
            return found, code.start()
    return None


def _figure(number: re.Match[str]) -> tuple[str, str] | None:
    """The integer digits and the figure as Decimal reads it ("250000.50", "1.5e6"), or None
    for "1,234,56", where no reading is safe."""
    if number["grouped"] is not None:
        if number["gdec"] == number["sep"]:
            return None
        digits = number["grouped"].replace(number["sep"], "")
        fraction = number["gfrac"]
    else:
        digits, fraction = number["plain"], number["pfrac"]
    return digits, (f"{digits}.{fraction}" if fraction else digits) + (number["exponent"] or "")


def _value(figure: str, exponent: bool, multiplier: re.Match[str] | None) -> Decimal:
    """The figure's exact value, times its multiplier, written in plain digits.

    A figure in E notation is kept as written (1E+308), multiplier or not: the amount rule
    refuses it and says to write the figure out, rather than anyone guessing what it meant.
    """
    if exponent:
        return Decimal(figure)
    power = _MULTIPLIERS[re.sub(r"\s+", " ", multiplier["word"])] if multiplier else 0
    # Built from the string and printed with "f", never multiplied: exact at any length.
    value = Decimal(format(Decimal(f"{figure}E{power}"), "f"))
    whole = value.to_integral_value()
    return whole if value == whole else value  # "€1.2m" is 1200000, not 1200000.0


def _is_negative(folded: str, position: int) -> bool:
    """A minus sign just before `position` that is not a hyphen inside a code ("N-2026")."""
    if position == 0 or folded[position - 1] != "-":
        return False
    return position == 1 or not _is_word_char(folded[position - 2])


def find_amount(original: str, folded: str) -> FoundAmount | None:
    """The first positive amount with a currency next to it: before ("USD 10", "€1.2m")
    or after ("250 000 $US", "1,5 million d'euros").

    The amount is what was written, exactly: the amount rule (handlers.money) judges it, so
    "0.001 USD" or "USD 1e308" is answered with how to write it, not dropped or rounded.
    """
    for number in _NUMBER.finditer(folded):
        figure = _figure(number)
        if figure is None or len(figure[0]) > _MAX_DIGITS:
            continue
        start, end = number.span()
        negative = _is_negative(folded, start)
        sign_start = start - 1 if negative else start
        multiplier = _MULTIPLIER.match(folded, end)
        after = multiplier.end() if multiplier else end
        value = _value(figure[1], bool(number["exponent"]), multiplier)

        before = _currency_before(original, folded, sign_start)
        if before is not None:
            code, span_start = before
            negative = negative or _is_negative(folded, span_start)
            found = FoundAmount(value, code, span_start, after)
        else:
            suffix = _currency_after(original, folded, after)
            if suffix is None:
                continue
            code, span_end = suffix
            # "2026 € 500": the euro sign belongs to the number that follows it.
            following = folded[span_end : span_end + 3].lstrip()
            if following[:1].isdigit():
                continue
            found = FoundAmount(value, code, sign_start, span_end)
        if negative or found.amount <= 0:
            continue
        return found
    return None


def parse_amount(text: str) -> tuple[Decimal, str] | None:
    """A positive amount and its ISO 4217 currency, or None when there is none (or it is <= 0)."""
    original = normalise(text)
    found = find_amount(original, fold(original))
    return None if found is None else (found.amount, found.currency)


def read_figure(text: str) -> Decimal | None:
    """The signed number that is the whole of ``text``, maybe with a multiplier ("250 000",
    "-5", "1,5 million"), exactly; None for anything else (words, NaN, E notation, a currency).

    No length limit here: a form field holds one figure, and a long one is too large, not a
    serial number.
    """
    folded = fold(normalise(text)).strip()
    sign = folded[:1] if folded[:1] in ("-", "+") else ""
    body = folded[len(sign) :].lstrip()
    number = _NUMBER.match(body)
    figure = None if number is None or number["exponent"] else _figure(number)
    if number is None or figure is None:
        return None
    multiplier = _MULTIPLIER.match(body, number.end())
    if (multiplier.end() if multiplier else number.end()) != len(body):
        return None
    value = _value(figure[1], False, multiplier)
    return value.copy_negate() if sign == "-" else value  # exact, unlike unary minus
