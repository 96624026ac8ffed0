"""Which of English, French or Spanish a short message is written in."""

from __future__ import annotations

import re
from collections import Counter

from babel.dates import get_month_names

from handlers.understanding._text import fold, fold_word, normalise


# Common words that belong to one of the three languages only, folded. Words shared by two
# ("de", "la", "en", "no", "que", "me", "nos", "si", "on") are left out: they tell nothing.
def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_WORDS: dict[str, frozenset[str]] = {
    "en": _words(
        "the and we our is was are were be been have has had to of for with this that these "
        "those it its you your i my am will would can could please thanks thank not yes hello "
        "hi report submitted sent yesterday today tomorrow week next last later need needs "
        "offer provide help right person write sending remind about around from by "
        "what how which who there here do does did an any some all"
    ),
    "fr": _words(
        "le les des du au aux et est sont etait ete pour avec sur dans par nous notre nos "
        "vous votre je il elle ils ce cet cette ces mon ma mes pas ne plus tres merci svp "
        "bonjour oui rapport soumis envoye transmis hier aujourd demain semaine prochaine "
        "tard besoin offre offrons pouvons avons sommes aide arretez arreter rappels rappel "
        "personne ecrire environ appui enquete mais ou donc qui quoi comment une"
    ),
    "es": _words(
        "el los las del y es son fue esta estan estamos para por con sobre nosotros nuestro "
        "nuestra nuestros nuestras usted ustedes yo mi mis su sus este estos estas muy gracias "
        "favor hola informe presentado enviado ayer hoy manana semana proxima tarde mas "
        "necesitamos necesita necesidad necesidades podemos ofrecer ofrecemos oferta hemos "
        "somos ayuda persona escribir dejen recordatorios aproximadamente pero o quien "
        "como una unos unas al"
    ),
}


def _month_words() -> dict[str, frozenset[str]]:
    names = {
        locale: frozenset(fold_word(n) for n in get_month_names("wide", locale=locale).values())
        for locale in _WORDS
    }
    return {
        locale: frozenset(
            word
            for word in words
            if not any(word in other for lang, other in names.items() if lang != locale)
        )
        for locale, words in names.items()
    }


_SIGNALS: dict[str, frozenset[str]] = {
    locale: words | _month_words()[locale] for locale, words in _WORDS.items()
}
# "que" and "una" are French and Spanish both; keep them Spanish-only only if not French.
_SIGNALS["es"] = _SIGNALS["es"] - _SIGNALS["fr"]

_TOKEN = re.compile(r"[a-z]+")
# French elision ("l'enquête", "d'un", "n'avons", "aujourd'hui") and English contractions
# ("don't", "I'm", "we've"): both are frequent and unmistakable.
_FRENCH_ELISION = re.compile(r"\b(?:[dljnmcst]|qu|jusqu|aujourd)'[a-z]")
_ENGLISH_CONTRACTION = re.compile(r"[a-z](?:n't|'m|'re|'ve|'ll|'s)\b")
_SPANISH_CHARS = frozenset("ñ¿¡áíóú")
_FRENCH_CHARS = frozenset("àâèêëîïôûùçœ")

LANGUAGES = tuple(_WORDS)


def language_scores(original: str, folded: str) -> Counter[str]:
    """How many signs of each language the text shows."""
    scores: Counter[str] = Counter()
    for token in _TOKEN.findall(folded):
        for language, words in _SIGNALS.items():
            if token in words:
                scores[language] += 1
    scores["fr"] += len(_FRENCH_ELISION.findall(folded))
    scores["en"] += len(_ENGLISH_CONTRACTION.findall(folded))
    for char in original.lower():
        if char in _SPANISH_CHARS:
            scores["es"] += 1
        elif char in _FRENCH_CHARS:
            scores["fr"] += 1
    return scores


def best_language(scores: Counter[str], default: str) -> str:
    """The language with most signs; the default when none shows any or it ties for first."""
    best = max(scores.values(), default=0)
    if best == 0:
        return default
    leaders = [language for language in LANGUAGES if scores[language] == best]
    return default if default in leaders else leaders[0]


def detect_language(text: str, default: str) -> str:
    """Which of "en", "fr", "es" the text is in, counting words of one language only; `default`
    when the text gives no sign ("asdfgh", "STOP", "") or is evenly split."""
    original = normalise(text)
    return best_language(language_scores(original, fold(original)), default)
