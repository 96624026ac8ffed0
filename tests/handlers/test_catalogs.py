"""Every text a person reads exists in French and Spanish, with the same placeholders."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg

from handlers.i18n import load_catalog

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2)}
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def source_messages() -> set[str | tuple[str, str]]:
    """What the code and templates ask to translate, read the way pybabel extract reads it."""
    with (ROOT / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    found: set[str | tuple[str, str]] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        ROOT, method_map, options_map, keywords=KEYWORDS
    ):
        found.add(message if isinstance(message, str) else (message[0], message[1]))
    return found


MESSAGES = sorted(source_messages(), key=str)


def test_the_code_has_messages_to_translate() -> None:
    assert len(MESSAGES) > 50


@pytest.mark.parametrize("language", ["fr", "es"])
def test_catalog_has_every_message(language: str) -> None:
    catalog = load_catalog(language)
    assert catalog is not None
    missing = []
    for message in MESSAGES:
        entry = catalog.get(message)
        translated = (
            entry is not None
            and not entry.fuzzy
            and (
                all(entry.string) if isinstance(entry.string, tuple | list) else bool(entry.string)
            )
        )
        if not translated:
            missing.append(message)
    assert missing == [], f"{language} catalog lacks {len(missing)} messages; run pybabel update"


@pytest.mark.parametrize("language", ["fr", "es"])
def test_translations_keep_the_placeholders(language: str) -> None:
    catalog = load_catalog(language)
    assert catalog is not None
    wrong = []
    for entry in catalog:
        if not entry.id or not entry.string:
            continue
        sources = entry.id if isinstance(entry.id, tuple | list) else (entry.id,)
        targets = entry.string if isinstance(entry.string, tuple | list) else (entry.string,)
        expected = set(PLACEHOLDER.findall(sources[-1]))
        for target in targets:
            if set(PLACEHOLDER.findall(target)) - expected - {"count"}:
                wrong.append((entry.id, target))
    assert wrong == []
