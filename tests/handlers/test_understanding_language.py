"""detect_language: short replies in English, French or Spanish; the default when unsure."""

from __future__ import annotations

import pytest

from handlers.understanding import detect_language


@pytest.mark.parametrize(
    ("text", "default", "expected"),
    [
        pytest.param("We submitted our report on 12 April", "fr", "en", id="english"),
        pytest.param("I don't know", "es", "en", id="english-contraction"),
        pytest.param("nous avons soumis notre rapport le 3 mars", "en", "fr", id="french"),
        pytest.param("l'enquête", "en", "fr", id="french-elision"),
        pytest.param("plus tard svp", "en", "fr", id="french-short"),
        pytest.param("ARRÊTEZ CES RAPPELS", "en", "fr", id="french-capitals"),
        pytest.param("Hemos presentado el informe", "en", "es", id="spanish"),
        pytest.param("más tarde", "en", "es", id="spanish-short"),
        pytest.param("MAS TARDE", "en", "es", id="spanish-no-accent"),
        pytest.param("¿Cómo funciona?", "en", "es", id="spanish-punctuation"),
        pytest.param("hello?", "fr", "en", id="hello"),
        pytest.param("asdfgh", "fr", "fr", id="gibberish-default"),
        pytest.param("", "es", "es", id="empty-default"),
        pytest.param("STOP", "fr", "fr", id="shared-word-default"),
        pytest.param("12/04/2027 USD 5", "es", "es", id="numbers-only-default"),
        pytest.param("de la", "fr", "fr", id="shared-function-words-default"),
        pytest.param("the rapport", "fr", "fr", id="tie-keeps-default"),
        pytest.param("the rapport", "es", "en", id="tie-without-default-takes-first"),
    ],
)
def test_detect_language(text: str, default: str, expected: str) -> None:
    assert detect_language(text, default) == expected
