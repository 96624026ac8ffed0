"""Understanding what a delegate replied: a button's words, an email keyword, or a free
sentence in English, French or Spanish. Pure functions: today is a parameter, no I/O."""

from handlers.understanding.amounts import parse_amount
from handlers.understanding.categories import ARTICLE_BY_CATEGORY
from handlers.understanding.dates import parse_date
from handlers.understanding.keywords import KEYWORDS, LANGUAGES, Intent
from handlers.understanding.language import detect_language
from handlers.understanding.reader import Understanding, understand
from storage.models import Category

__all__ = [
    "ARTICLE_BY_CATEGORY",
    "KEYWORDS",
    "LANGUAGES",
    "Category",
    "Intent",
    "Understanding",
    "detect_language",
    "parse_amount",
    "parse_date",
    "understand",
]
