"""Finding a State from what a delegate or the ISU types."""

from __future__ import annotations

import pytest

from storage.state_names import StateIndex, normalize
from storage.treaty_data import load_treaty_data


@pytest.fixture(scope="module")
def index() -> StateIndex:
    return StateIndex(load_treaty_data().states)


@pytest.mark.parametrize(
    ("text", "normalized"),
    [
        ("C\u00f4te d\u2019Ivoire", "cote divoire"),  # CLDR's apostrophe
        ("Cote dIvoire", "cote divoire"),
        ("COTE D'IVOIRE", "cote divoire"),
        ("C\u00f4te d\u00b4Ivoire", "cote divoire"),  # an acute accent typed as apostrophe
        ("St. Kitts & Nevis", "st kitts and nevis"),
        ("Bolivia (Plurinational State of)", "bolivia plurinational state of"),
        ("  The Gambia ", "gambia"),
        ("Guinée-Bissau", "guinee bissau"),
        ("U.K.", "uk"),
    ],
)
def test_normalize(text: str, normalized: str) -> None:
    assert normalize(text) == normalized


@pytest.mark.parametrize(
    ("query", "iso3"),
    [
        # codes, any case
        ("AFG", "AFG"),
        ("afg", "AFG"),
        ("AF", "AFG"),
        ("fr", "FRA"),
        ("BiH", "BIH"),
        # English, French and Spanish names, from the data and CLDR
        ("Chad", "TCD"),
        ("Tchad", "TCD"),
        ("Allemagne", "DEU"),
        ("Alemania", "DEU"),
        ("México", "MEX"),
        ("Mexico", "MEX"),
        ("Czechia", "CZE"),
        ("Czech Republic", "CZE"),
        ("République tchèque", "CZE"),
        ("Laos", "LAO"),
        ("Lao PDR", "LAO"),
        ("Lao People's Democratic Republic", "LAO"),
        ("Bosnia and Herzegovina", "BIH"),
        ("Bosnia & Herzegovina", "BIH"),
        ("Bosnia", "BIH"),  # unambiguous start of a name
        ("Bosnie", "BIH"),
        ("Côte d'Ivoire", "CIV"),
        ("Ivory Coast", "CIV"),
        ("Cote dIvoire", "CIV"),
        ("Costa de Marfil", "CIV"),
        ("Holy See", "VAT"),
        ("Vatican", "VAT"),
        ("Saint-Siège", "VAT"),
        ("UK", "GBR"),
        ("United Kingdom", "GBR"),
        ("United Kingdom of Great Britain and Northern Ireland", "GBR"),
        ("Royaume-Uni", "GBR"),
        ("Reino Unido", "GBR"),
        ("Republic of Moldova", "MDA"),
        ("Moldova", "MDA"),
        ("Moldavie", "MDA"),
        ("Palestine", "PSE"),
        ("State of Palestine", "PSE"),
        ("État de Palestine", "PSE"),
        ("Congo", "COG"),
        ("Republic of the Congo", "COG"),
        ("Congo-Brazzaville", "COG"),
        ("Democratic Republic of the Congo", "COD"),
        ("DRC", "COD"),
        ("Macedonia", "MKD"),
        ("North Macedonia", "MKD"),
        ("Macédoine du Nord", "MKD"),
        ("Eswatini", "SWZ"),
        ("Swaziland", "SWZ"),
        ("Cabo Verde", "CPV"),
        ("Cape Verde", "CPV"),
        ("The Gambia", "GMB"),
        ("St Lucia", "LCA"),
        ("Bolivia", "BOL"),
        ("Niger", "NER"),  # exact beats the longer Nigeria
        ("Nigeria", "NGA"),
        ("Guinea", "GIN"),
        # typos
        ("Afganistan", "AFG"),
        ("Phillipines", "PHL"),
        ("Columbia", "COL"),
        # signatories and the withdrawn State are found too
        ("Angola", "AGO"),
        ("Tanzania", "TZA"),
        ("Lithuania", "LTU"),
    ],
)
def test_find(index: StateIndex, query: str, iso3: str) -> None:
    state = index.find(query)
    assert state is not None
    assert state.iso3 == iso3


@pytest.mark.parametrize(
    "query",
    [
        "",
        "  ",
        "US",  # not in the index
        "United States",
        "Sudan",  # a State outside the index, though "Sudán del Sur" starts with it
        "Soudan",
        "Dominica",  # not "Dominican Republic": prefixes match whole words only
        "Iran",  # not a typo for Iraq
        "Equatorial Guinea",
        "Republic",  # Moldova or the Congo
        "Austrai",  # Australia or Austria
        "Nigera",  # Nigeria or Niger
        "Saint",
    ],
)
def test_find_nothing_when_unknown_or_ambiguous(index: StateIndex, query: str) -> None:
    assert index.find(query) is None


def test_signatory_found_with_its_status(index: StateIndex) -> None:
    angola = index.find("angola")
    assert angola is not None
    assert angola.status.value == "signatory"


@pytest.mark.parametrize(
    ("query", "suggestions"),
    [
        ("Austrai", ["Australia", "Austria"]),
        ("Nigera", ["Nigeria", "Niger"]),
        ("Republic", ["Congo", "Republic of Moldova"]),
        ("Sudan", ["South Sudan"]),
        ("Iran", ["Iraq", "Ireland"]),
        ("Chad", ["Chad"]),
        ("Atlantis", []),
    ],
)
def test_suggest(index: StateIndex, query: str, suggestions: list[str]) -> None:
    assert index.suggest(query) == suggestions


def test_suggest_respects_limit(index: StateIndex) -> None:
    assert len(index.suggest("Saint", limit=2)) == 2
