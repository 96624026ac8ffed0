"""Amounts through the command line, on SQLite and PostgreSQL: a need typed in ``ccm-bot chat``
and a needs file imported with ``ccm-bot import needs``. What the store cannot hold exactly is
refused with how to fix it; what it can hold is kept to the cent."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from tests.bot.test_cli import EXAMPLES, Invoke, cli  # noqa: F401  (cli: the fixture)

CLAIRE = "claire.dubois@diplomatie.gouv.fr.example"  # French delegate, in examples/contacts.csv
HEADER = "state,category,description,amount,currency,visibility\n"


@pytest.fixture
def loaded(cli: Invoke) -> Invoke:  # noqa: F811
    for args in (("states", "load"), ("contacts", "import", str(EXAMPLES / "contacts.csv"))):
        result = cli(*args)
        assert result.exit_code == 0, result.output
    return cli


def needs(run: Invoke) -> list[dict[str, str]]:
    listed = run("needs", "list", "--json")
    assert listed.exit_code == 0, listed.output
    items: list[dict[str, str]] = json.loads(listed.output)["items"]
    return items


@pytest.mark.parametrize(
    ("said", "hint"),
    [
        pytest.param(
            "BESOIN : dépollution dans le nord, 0,001 EUR",
            "Indiquez le montant avec deux décimales au plus (les centimes)",
            id="was-proposed-as-0-eur",
        ),
        pytest.param(
            "BESOIN : dépollution dans le nord, 0,0000001 EUR",
            "Indiquez le montant avec deux décimales au plus (les centimes)",
            id="tiny-was-shown-as-1E-7",
        ),
        pytest.param(
            "BESOIN : dépollution dans le nord, 1e308 EUR",
            "Le montant doit être inférieur à",
            id="was-proposed-as-308-eur",
        ),
    ],
)
def test_chat_answers_an_amount_it_cannot_keep_with_how_to_write_it(
    loaded: Invoke, said: str, hint: str
) -> None:
    talked = loaded("chat", "--as", CLAIRE, input=f"{said}\nCONFIRMER\n\n")
    assert talked.exit_code == 0, talked.output
    assert hint in talked.output
    assert needs(loaded) == []


def test_an_import_refuses_what_the_store_cannot_hold_and_keeps_the_rest_to_the_cent(
    loaded: Invoke, tmp_path: Path
) -> None:
    bad = tmp_path / "bad-needs.csv"
    bad.write_text(
        HEADER
        + "FRA,funding,Largest,9999999999999.99,EUR,public\n"
        + "FRA,funding,SQLite read it back as .98,99999999999999.99,EUR,public\n"
        + "FRA,funding,Numeric overflow,100000000000000,EUR,public\n"
        + "FRA,funding,A tenth of a cent,0.001,EUR,public\n"
        + "FRA,funding,E notation,1e308,EUR,public\n"
        + "FRA,funding,NaN,NaN,EUR,public\n"
        + "FRA,funding,Arabic-Indic digits,\u0662\u0665\u0660,EUR,public\n"
    )
    refused = loaded("import", "needs", str(bad))
    assert refused.exit_code == 1
    for line, problem in (
        (3, "'99999999999999.99' is too large (the most is 9,999,999,999,999.99)"),
        (4, "'100000000000000' is too large"),
        (5, "'0.001' has more than 2 decimals"),
        (6, "'1e308' is not an amount"),
        (7, "'NaN' is not an amount"),
        (8, "'\u0662\u0665\u0660' is not an amount"),
    ):
        assert f"line {line}, amount: amount {problem}" in refused.output, refused.output
    assert "line 2" not in refused.output
    assert needs(loaded) == []  # all or nothing

    good = tmp_path / "needs.csv"
    good.write_text(HEADER + "FRA,funding,Largest,9999999999999.99,EUR,public\n")
    imported = loaded("import", "needs", str(good))
    assert imported.exit_code == 0, imported.output
    [need] = needs(loaded)
    assert Decimal(str(need["amount"])) == Decimal("9999999999999.99")
