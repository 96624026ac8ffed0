"""Read a reply (keyword or free sentence) into one Understanding."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from email_validator import EmailNotValidError, validate_email

from handlers.understanding._text import blank, fold, normalise, tidy
from handlers.understanding.amounts import find_amount
from handlers.understanding.categories import find_article, find_category
from handlers.understanding.dates import date_spans, find_date
from handlers.understanding.intents import classify
from handlers.understanding.keywords import Intent, match_keyword
from handlers.understanding.language import best_language, language_scores
from storage.models import Category


@dataclass(frozen=True)
class Understanding:
    intent: Intent
    language: str  # "en" | "fr" | "es": the language the text is written in (best guess)
    text: str  # what the fields were read from; for NEED/OFFER the description, keyword removed
    on: date | None  # for REPORT_SUBMITTED (past) and SNOOZE (ahead)
    year: int | None  # a reporting year mentioned outside a date ("our 2026 report")
    amount: Decimal | None  # for NEED, OFFER, CORRECT; always > 0
    currency: str | None  # ISO 4217, with amount
    article: int | None  # 3-6, stated or implied by the category
    category: Category | None
    email: str | None  # for NOT_ME: the colleague's address
    reference: str | None  # for CONFIRM, CORRECT, WITHDRAW: "N-2026-0042"
    keyword: bool  # the text started with a reply keyword


# The keyword of a unique language counts as this many words of that language.
_KEYWORD_WEIGHT = 2

# Bounded runs separated by distinct characters: linear on long text.
_EMAIL = re.compile(r"(?<![\w.+\-])[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+")
_URL = re.compile(r"\b(?:https?://|www\.)\S+")
_REFERENCE = re.compile(
    r"(?<![\w\-])(?P<kind>[nc])\s*-\s*(?P<year>\d{4})\s*-\s*(?P<number>\d{1,6})(?![\w\-])"
)
_YEAR = re.compile(r"(?<![\w.,'/\-])(?P<year>20\d{2})(?![\w/\-]|[.,']\d)")

_AMOUNT_INTENTS = frozenset({Intent.NEED, Intent.OFFER, Intent.CORRECT})
_REFERENCE_INTENTS = frozenset({Intent.CONFIRM, Intent.CORRECT, Intent.WITHDRAW})


def _first_email(original: str, matches: list[re.Match[str]]) -> str | None:
    for found in matches:
        try:
            checked = validate_email(
                original[found.start() : found.end()], check_deliverability=False
            )
        except EmailNotValidError:
            continue
        return checked.normalized
    return None


def _reference(found: re.Match[str]) -> str:
    return f"{found['kind'].upper()}-{found['year']}-{found['number'].zfill(4)}"


def understand(text: str, *, today: date, default_language: str = "en") -> Understanding:
    """What a delegate's reply means. Never raises; unreadable text is Intent.UNKNOWN."""
    original = normalise(text)
    folded = fold(original)
    keyword = match_keyword(folded)
    start = keyword.body_start if keyword else 0
    body, folded_body = original[start:], folded[start:]

    emails = list(_EMAIL.finditer(folded_body))
    references = list(_REFERENCE.finditer(folded_body))
    urls = list(_URL.finditer(folded_body))
    # Addresses, links and references hold words and numbers that are not the message's
    # ("mre.gob.cl", "N-2026-0042"): blank them before reading categories, amounts and years.
    plain = blank(folded_body, (m.span() for m in [*emails, *references, *urls]))

    if keyword is not None:
        intent = keyword.intent
    else:
        intent = classify(plain, has_reference=bool(references), has_email=bool(emails))

    scores = language_scores(original, folded)
    if keyword is not None and keyword.language is not None:
        scores[keyword.language] += _KEYWORD_WEIGHT
    language = best_language(scores, default_language)

    on = None
    if intent in (Intent.REPORT_SUBMITTED, Intent.SNOOZE):
        found_date = find_date(plain, today=today, future=intent is Intent.SNOOZE)
        on = found_date.on if found_date else None

    amount = currency = category = article = None
    not_a_year = date_spans(plain, today=today)
    if intent in _AMOUNT_INTENTS:
        found_amount = find_amount(body, plain)
        if found_amount is not None:
            amount, currency = found_amount.amount, found_amount.currency
            not_a_year.append((found_amount.start, found_amount.end))
        category = find_category(plain)
        if category is None and amount is not None and intent is not Intent.CORRECT:
            category = Category.FUNDING  # "we need USD 250,000" and nothing else
        article = find_article(plain, category)

    year_match = _YEAR.search(blank(plain, not_a_year))
    return Understanding(
        intent=intent,
        language=language,
        text=tidy(body),
        on=on,
        year=int(year_match["year"]) if year_match else None,
        amount=amount,
        currency=currency,
        article=article,
        category=category,
        email=_first_email(body, emails) if intent is Intent.NOT_ME else None,
        reference=_reference(references[0])
        if references and intent in _REFERENCE_INTENTS
        else None,
        keyword=keyword is not None,
    )
