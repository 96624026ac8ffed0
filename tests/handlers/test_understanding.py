"""understand(): replies by keyword and in free sentences, in English, French and Spanish."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from handlers.understanding import (
    ARTICLE_BY_CATEGORY,
    KEYWORDS,
    Category,
    Intent,
    Understanding,
    understand,
)

TODAY = date(2026, 5, 20)  # a Wednesday
FIELDS = {field.name for field in dataclasses.fields(Understanding)}


def read(text: str, default_language: str = "en") -> Understanding:
    return understand(text, today=TODAY, default_language=default_language)


def picked(understanding: Understanding, expected: dict[str, Any]) -> dict[str, Any]:
    assert set(expected) <= FIELDS
    return {name: getattr(understanding, name) for name in expected}


# --- the sentences the bot must understand ---------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "We submitted our report on 12 April",
            {"intent": Intent.REPORT_SUBMITTED, "language": "en", "on": date(2026, 4, 12)},
            id="submitted-on-day-month",
        ),
        pytest.param(
            "Our Article 7 report for 2026 was sent yesterday",
            {
                "intent": Intent.REPORT_SUBMITTED,
                "on": date(2026, 5, 19),
                "year": 2026,
                "article": None,
                "keyword": False,
            },
            id="sent-yesterday-with-year",
        ),
        pytest.param(
            "Our Article 7 report for 2026 was sent today",
            {"intent": Intent.REPORT_SUBMITTED, "on": TODAY, "year": 2026},
            id="sent-today-with-year",
        ),
        pytest.param(
            "Nous avons besoin d'un appui technique pour l'enquête non technique, "
            "environ 250 000 USD",
            {
                "intent": Intent.NEED,
                "language": "fr",
                "amount": Decimal(250000),
                "currency": "USD",
                "category": Category.SURVEY_CLEARANCE,
                "article": 4,
            },
            id="french-need-survey",
        ),
        pytest.param(
            "Podemos ofrecer capacitación en educación sobre riesgos",
            {"intent": Intent.OFFER, "language": "es", "category": Category.RISK_EDUCATION},
            id="spanish-offer-risk-education-beats-training",
        ),
        pytest.param(
            "NEED: non-technical survey in the north, about USD 250,000",
            {
                "intent": Intent.NEED,
                "language": "en",
                "amount": Decimal(250000),
                "currency": "USD",
                "category": Category.SURVEY_CLEARANCE,
                "article": 4,
                "keyword": True,
                "text": "non-technical survey in the north, about USD 250,000",
            },
            id="need-keyword-survey",
        ),
        pytest.param(
            "We need 1.2 million euros for victim assistance",
            {
                "intent": Intent.NEED,
                "amount": Decimal(1200000),
                "currency": "EUR",
                "category": Category.VICTIM_ASSISTANCE,
                "article": 5,
            },
            id="need-million-euros-victims",
        ),
        pytest.param(
            "Necesitamos 50.000 dólares para equipos de desminado",
            {
                "intent": Intent.NEED,
                "language": "es",
                "amount": Decimal(50000),
                "currency": "USD",
                "category": Category.EQUIPMENT,
            },
            id="spanish-need-equipment-dot-thousands",
        ),
        pytest.param(
            "nous avons soumis notre rapport le 3 mars",
            {"intent": Intent.REPORT_SUBMITTED, "language": "fr", "on": date(2026, 3, 3)},
            id="french-submitted",
        ),
        pytest.param(
            "Hemos presentado el informe el 12 de abril de 2027",
            {
                "intent": Intent.REPORT_SUBMITTED,
                "language": "es",
                "on": date(2027, 4, 12),
                "year": None,
            },
            id="spanish-submitted-full-date",
        ),
        pytest.param("remind me next week", {"intent": Intent.SNOOZE}, id="remind-me"),
        pytest.param("plus tard svp", {"intent": Intent.SNOOZE, "language": "fr"}, id="plus-tard"),
        pytest.param("más tarde", {"intent": Intent.SNOOZE, "language": "es"}, id="mas-tarde"),
        pytest.param(
            "I'm not the right person, please write to ana.perez@mre.gob.cl",
            {"intent": Intent.NOT_ME, "email": "ana.perez@mre.gob.cl", "keyword": False},
            id="not-the-right-person",
        ),
        pytest.param("please stop sending these", {"intent": Intent.STOP}, id="stop-english"),
        pytest.param(
            "arrêtez ces rappels", {"intent": Intent.STOP, "language": "fr"}, id="stop-french"
        ),
        pytest.param("hello?", {"intent": Intent.UNKNOWN}, id="hello"),
        pytest.param("", {"intent": Intent.UNKNOWN, "text": ""}, id="empty"),
        pytest.param("asdfgh", {"intent": Intent.UNKNOWN}, id="gibberish"),
    ],
)
def test_understands_the_brief(text: str, expected: dict[str, Any]) -> None:
    assert picked(read(text), expected) == expected


# --- keywords ----------------------------------------------------------------------------------


def test_every_language_has_a_keyword_for_every_reply() -> None:
    # Buttons, never typed: Edit, and an answer's More, Show the names and Share (and /ccm's Ask).
    buttons = {Intent.EDIT, Intent.ASK, Intent.MORE, Intent.NAMES, Intent.SHARE}
    replies = set(Intent) - {Intent.UNKNOWN} - buttons
    assert set(KEYWORDS) == {"en", "fr", "es"}
    for language, table in KEYWORDS.items():
        assert set(table) == replies, language
        assert all(words for words in table.values()), language


KEYWORD_CASES = [
    pytest.param(word, intent, language, id=f"{language}-{word}")
    for language, table in KEYWORDS.items()
    for intent, words in table.items()
    for word in words
]


@pytest.mark.parametrize(("word", "intent", "language"), KEYWORD_CASES)
def test_keyword_alone(word: str, intent: Intent, language: str) -> None:
    shared = sum(word in table.get(intent, ()) for table in KEYWORDS.values()) > 1
    default = "es" if language == "en" else "en"
    understanding = read(word, default_language=default)
    assert understanding.intent is intent
    assert understanding.keyword is True
    assert understanding.text == ""
    # A keyword of one language tells the language; STOP, shared, leaves the default.
    assert understanding.language == (default if shared else language)


@pytest.mark.parametrize(("word", "intent", "language"), KEYWORD_CASES)
def test_keyword_any_case_no_accents_then_text(word: str, intent: Intent, language: str) -> None:
    written = word.lower().replace("Á", "a").replace("á", "a").replace("ê", "e")
    understanding = read(f"  {written} :  N-2026-0042 colleague@example.org  ")
    assert understanding.intent is intent
    assert understanding.keyword is True
    assert understanding.text == "N-2026-0042 colleague@example.org"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "NOT ME colleague@example.org",
            {"intent": Intent.NOT_ME, "email": "colleague@example.org"},
            id="not-me",
        ),
        pytest.param(
            "Pas moi : Jean.Dupont@Diplomatie.GOUV.fr",
            {
                "intent": Intent.NOT_ME,
                "email": "Jean.Dupont@diplomatie.gouv.fr",
                "language": "fr",
            },
            id="pas-moi-domain-normalised",
        ),
        pytest.param(
            "NO SOY YO, ana@mre.gob.cl",
            {"intent": Intent.NOT_ME, "email": "ana@mre.gob.cl", "keyword": True},
            id="no-soy-yo-comma",
        ),
        pytest.param(
            "NOT ME colleague@x", {"intent": Intent.NOT_ME, "email": None}, id="not-me-bad-address"
        ),
        pytest.param(
            "CORRECT n-2026-0042 amount is USD 300,000",
            {
                "intent": Intent.CORRECT,
                "reference": "N-2026-0042",
                "amount": Decimal(300000),
                "currency": "USD",
                "year": None,
            },
            id="correct-reference-normalised",
        ),
        pytest.param(
            "WITHDRAW N-2026-0042",
            {"intent": Intent.WITHDRAW, "reference": "N-2026-0042", "year": None},
            id="withdraw",
        ),
        pytest.param(
            "retirer c-2026-7",
            {"intent": Intent.WITHDRAW, "reference": "C-2026-0007", "language": "fr"},
            id="retirer-short-number-padded",
        ),
        pytest.param(
            "CONFIRMAR N-2026-0042",
            {"intent": Intent.CONFIRM, "reference": "N-2026-0042", "language": "es"},
            id="confirmar-with-reference",
        ),
        pytest.param(
            "SOUMIS le 3 mars",
            {"intent": Intent.REPORT_SUBMITTED, "on": date(2026, 3, 3), "text": "le 3 mars"},
            id="soumis-with-date",
        ),
        pytest.param(
            "Later: 3 June",
            {"intent": Intent.SNOOZE, "on": date(2026, 6, 3)},
            id="later-date-is-ahead",
        ),
        pytest.param(
            "*Need*: funding for clearance",
            {"intent": Intent.NEED, "keyword": True, "text": "funding for clearance"},
            id="markdown-bold-keyword",
        ),
        pytest.param(
            "\ufeffSTOP\u200b", {"intent": Intent.STOP, "keyword": True}, id="byte-order-mark"
        ),
        pytest.param(
            "NEED -500 USD for clearance",
            {"intent": Intent.NEED, "amount": None, "text": "-500 USD for clearance"},
            id="separator-keeps-minus-sign",
        ),
        pytest.param(
            "Correct, we sent the report yesterday",
            {"intent": Intent.REPORT_SUBMITTED, "keyword": False, "on": date(2026, 5, 19)},
            id="correct-comma-is-a-sentence",
        ),
        pytest.param(
            "Stopped the reminders? Needed more info",
            {"keyword": False},
            id="keyword-must-end-the-word",
        ),
    ],
)
def test_keyword_replies(text: str, expected: dict[str, Any]) -> None:
    assert picked(read(text), expected) == expected


# --- free sentences ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        pytest.param("We have submitted the report.", Intent.REPORT_SUBMITTED, id="en-submitted"),
        pytest.param("Report filed on Monday", Intent.REPORT_SUBMITTED, id="en-filed"),
        pytest.param("Enviamos el informe ayer", Intent.REPORT_SUBMITTED, id="es-enviamos"),
        pytest.param("Le rapport a été transmis hier", Intent.REPORT_SUBMITTED, id="fr-transmis"),
        pytest.param("No, we submitted it on 2 May", Intent.REPORT_SUBMITTED, id="no-comma"),
        pytest.param("We sent you an email", Intent.UNKNOWN, id="sent-without-report"),
        pytest.param("We haven't submitted yet, remind me next week", Intent.SNOOZE, id="not-yet"),
        pytest.param("We will submit it next week", Intent.SNOOZE, id="future-submit"),
        pytest.param("The report will be submitted in June", Intent.UNKNOWN, id="will-be"),
        pytest.param("Nous n'avons pas encore soumis le rapport", Intent.UNKNOWN, id="fr-pas"),
        pytest.param("Todavía no hemos presentado el informe", Intent.UNKNOWN, id="es-no"),
        pytest.param("We need more time", Intent.SNOOZE, id="more-time-beats-need"),
        pytest.param("Nous avons besoin de plus de temps", Intent.SNOOZE, id="fr-plus-de-temps"),
        pytest.param("la semana que viene", Intent.SNOOZE, id="es-next-week"),
        pytest.param("pas maintenant", Intent.SNOOZE, id="fr-not-now"),
        pytest.param("We don't need anything", Intent.UNKNOWN, id="negated-need"),
        pytest.param("Ya no necesitamos apoyo", Intent.UNKNOWN, id="es-negated-need"),
        pytest.param("We can provide 2 detectors", Intent.OFFER, id="can-provide"),
        pytest.param("Nous pouvons offrir une formation", Intent.OFFER, id="fr-offer"),
        pytest.param("We can offer training to anyone who needs it", Intent.OFFER, id="first-wins"),
        pytest.param("We need training; we could provide trainers", Intent.NEED, id="need-first"),
        pytest.param("Please unsubscribe me", Intent.STOP, id="unsubscribe"),
        pytest.param("Dejen de enviar estos correos", Intent.STOP, id="es-stop"),
        pytest.param("We need help to stop contamination", Intent.NEED, id="stop-as-a-verb"),
        pytest.param("Je ne suis plus en charge de ce dossier", Intent.NOT_ME, id="fr-not-me"),
        pytest.param("Ya no trabajo en el ministerio", Intent.NOT_ME, id="es-not-me"),
        pytest.param("Please forward this to bob@example.org", Intent.NOT_ME, id="forward-email"),
        pytest.param("Please cancel our need N-2026-0042", Intent.WITHDRAW, id="cancel-ref"),
        pytest.param("Please update N-2026-0042 to USD 5", Intent.CORRECT, id="update-ref"),
        pytest.param("Please cancel", Intent.UNKNOWN, id="cancel-without-reference"),
        pytest.param("Yes", Intent.CONFIRM, id="yes"),
        pytest.param("d'accord", Intent.CONFIRM, id="fr-agreed"),
        pytest.param("Confirmado", Intent.CONFIRM, id="es-confirmed"),
        pytest.param("What can I reply?", Intent.HELP, id="what-can-i-reply"),
        pytest.param("Comment ça marche ?", Intent.HELP, id="fr-how"),
        pytest.param("¿Cómo funciona?", Intent.HELP, id="es-how"),
        pytest.param("Thanks!", Intent.UNKNOWN, id="thanks"),
    ],
)
def test_free_sentence_intent(text: str, intent: Intent) -> None:
    understanding = read(text)
    assert understanding.intent is intent
    assert understanding.keyword is False


# --- what needs and offers are about -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "category", "article"),
    [
        pytest.param(
            "We need support for stockpile destruction", "stockpile_destruction", 3, id="sd"
        ),
        pytest.param("besoin: destruction des stocks", "stockpile_destruction", 3, id="fr-sd"),
        pytest.param("Necesitamos destruir existencias", "stockpile_destruction", 3, id="es-sd"),
        pytest.param("We need clearance of 3 areas", "survey_clearance", 4, id="clearance"),
        pytest.param("besoin: dépollution au nord", "survey_clearance", 4, id="fr-depollution"),
        pytest.param("We need risk education materials", "risk_education", 4, id="re"),
        pytest.param("besoin: éducation aux risques", "risk_education", 4, id="fr-re"),
        pytest.param("We need prosthetics for survivors", "victim_assistance", 5, id="va"),
        pytest.param("Necesitamos rehabilitación", "victim_assistance", 5, id="es-va"),
        pytest.param("We need livelihood projects", "socio_economic", None, id="socio-economic"),
        pytest.param("besoin: insertion socio-économique", "socio_economic", None, id="fr-socio"),
        pytest.param("We need help with our national strategy", "national_planning", None, id="np"),
        pytest.param("We need 4 vehicles", "equipment", None, id="equipment"),
        pytest.param("We need expertise", "training_expertise", None, id="expertise"),
        pytest.param("besoin: appui technique", "training_expertise", None, id="fr-appui"),
        pytest.param("We need funding", "funding", None, id="funding"),
        pytest.param("We need USD 250,000", "funding", None, id="amount-alone-is-funding"),
        pytest.param("We need funding for clearance", "survey_clearance", 4, id="subject-wins"),
        pytest.param("We need training in victim assistance", "victim_assistance", 5, id="va-t"),
        pytest.param("We need detectors for clearance", "equipment", None, id="eq-wins"),
        pytest.param("We need something", None, None, id="nothing-recognised"),
        pytest.param("We need support under article 6", None, 6, id="stated-article"),
        pytest.param("We need clearance (art. 3)", "survey_clearance", 3, id="stated-wins"),
        pytest.param("We need clearance, Article 7 report", "survey_clearance", 4, id="art-7"),
    ],
)
def test_need_category_and_article(text: str, category: str | None, article: int | None) -> None:
    understanding = read(text)
    assert understanding.intent in (Intent.NEED, Intent.OFFER)
    assert understanding.category == (Category(category) if category else None)
    assert understanding.article == article


def test_article_by_category_follows_the_convention() -> None:
    assert dict(ARTICLE_BY_CATEGORY) == {
        Category.STOCKPILE_DESTRUCTION: 3,
        Category.SURVEY_CLEARANCE: 4,
        Category.RISK_EDUCATION: 4,
        Category.VICTIM_ASSISTANCE: 5,
    }


# --- ugly input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "  WE   NEED\t1,5 MILLION D'EUROS   FOR STOCKPILE DESTRUCTION  ",
            {
                "intent": Intent.NEED,
                "amount": Decimal(1500000),
                "currency": "EUR",
                "category": Category.STOCKPILE_DESTRUCTION,
                "text": "WE NEED 1,5 MILLION D'EUROS FOR STOCKPILE DESTRUCTION",
            },
            id="capitals-and-extra-whitespace",
        ),
        pytest.param(
            "NEED: survey equipment; contact ana.perez@mre.gob.cl for details",
            {"intent": Intent.NEED, "email": None, "category": Category.EQUIPMENT},
            id="email-inside-need-keyword",
        ),
        pytest.param(
            "We need survey support, please contact ana.perez@mre.gob.cl",
            {"intent": Intent.NEED, "email": None, "category": Category.SURVEY_CLEARANCE},
            id="email-inside-need-sentence",
        ),
        pytest.param(
            "We need support; write to clearance.victims@mre.gob.cl",
            {"intent": Intent.NEED, "category": None, "article": None},
            id="email-words-are-not-categories",
        ),
        pytest.param(
            "We need -500 USD for clearance",
            {"intent": Intent.NEED, "amount": None, "currency": None},
            id="negative-amount",
        ),
        pytest.param("We need 0 EUR", {"intent": Intent.NEED, "amount": None}, id="zero-amount"),
        pytest.param(
            "We need USD 2026 for the 2027 workshop",
            {"amount": Decimal(2026), "year": 2027},
            id="amount-is-not-a-year",
        ),
        pytest.param(
            "Nous avons besoin de 10\u202f000\u00a0€ pour la sensibilisation",
            {"amount": Decimal(10000), "currency": "EUR", "category": Category.RISK_EDUCATION},
            id="french-no-break-spaces",
        ),
        pytest.param(
            "We need R&D support «déminage» <urgent>",
            {"intent": Intent.NEED, "category": Category.SURVEY_CLEARANCE},
            id="decoded-html-entities",
        ),
        pytest.param(
            "nous avons soumis notre rapport le 12 avri\u0301l",
            {"intent": Intent.REPORT_SUBMITTED},
            id="stray-combining-mark",
        ),
        pytest.param(
            "Nous avons soumis le rapport aujourd\u2019hui",
            {"intent": Intent.REPORT_SUBMITTED, "on": TODAY, "language": "fr"},
            id="curly-apostrophe",
        ),
        pytest.param(
            "Nous avons soumis le rapport e\u0301te\u0301 2026",
            {"intent": Intent.REPORT_SUBMITTED, "year": 2026},
            id="decomposed-accents",
        ),
        pytest.param(
            "Report submitted, see https://example.org/report-2025.pdf",
            {"intent": Intent.REPORT_SUBMITTED, "year": None},
            id="year-in-a-link-ignored",
        ),
        pytest.param(
            "Please cancel N-2026-0042",
            {"intent": Intent.WITHDRAW, "year": None, "on": None},
            id="reference-is-not-a-year",
        ),
        pytest.param(
            "First line\r\n\r\n\r\n\r\nsecond   line",
            {"text": "First line\n\nsecond line"},
            id="blank-lines-collapsed",
        ),
    ],
)
def test_ugly_input(text: str, expected: dict[str, Any]) -> None:
    assert picked(read(text), expected) == expected


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("\x00\x01\x02", id="controls"),
        pytest.param("\ud800 need USD 5", id="lone-surrogate"),
        pytest.param("🙂" * 50, id="emoji"),
        pytest.param("İSTANBUL ß ŉ ǅ", id="odd-case-mappings"),
        pytest.param("@@@ ... ,,, '''", id="punctuation"),
        pytest.param("N- C- 2026- -0042", id="broken-references"),
        pytest.param("We need USD " + "9" * 5000, id="huge-number"),
        pytest.param("We need " + "1" * 5000 + " USD", id="huge-number-after"),
        pytest.param("NEED", id="keyword-without-text"),
        pytest.param("31/02/2026 29 February 2026 2026-02-30", id="only-impossible-dates"),
        pytest.param("a@b@c@d.e", id="odd-address"),
    ],
)
def test_never_raises(text: str) -> None:
    understanding = read(text)
    assert isinstance(understanding.intent, Intent)
    assert understanding.language in {"en", "fr", "es"}


def test_hundred_kilobytes_are_read_to_the_end() -> None:
    # Long enough that a backtracking regex would never return; no timing assertion.
    filler = "We need clearance equipment in the north 1 000, 2 000. a.b.c@ N-2026- " * 1500
    text = "NEED: " + filler + "about USD 250,000"
    assert len(text) > 100_000
    understanding = read(text)
    assert understanding.intent is Intent.NEED
    assert understanding.keyword is True
    assert understanding.amount == Decimal(250000)
    assert understanding.currency == "USD"
    assert understanding.category is Category.EQUIPMENT


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("a" * 100_000, id="one-long-word"),
        pytest.param("1" * 100_000, id="one-long-number"),
        pytest.param("1 " * 50_000, id="many-numbers"),
        pytest.param("1,000," * 17_000, id="many-groups"),
        pytest.param("a." * 50_000, id="almost-an-address"),
        pytest.param("12 April " * 11_000, id="many-dates"),
        pytest.param(" " * 100_000, id="only-spaces"),
    ],
)
def test_hundred_kilobytes_of_pathological_text(text: str) -> None:
    understanding = read(text)
    assert understanding.intent is Intent.UNKNOWN
    assert understanding.amount is None
