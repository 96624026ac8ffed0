"""``ccm-bot chat``: a plain answer is recorded in one line, a guess waits for its keyword."""

from __future__ import annotations

from tests.bot.test_cli import Invoke, cli  # noqa: F401  (cli: the fixture)
from tests.bot.test_cli_amounts import CLAIRE, loaded, needs  # noqa: F401  (loaded: the fixture)


def test_a_keyword_need_is_recorded_in_one_line_with_its_receipt(
    loaded: Invoke,  # noqa: F811 - pytest's fixture by name
) -> None:
    said = "BESOIN : enquête non technique dans le nord (Borkou), environ 250 000 USD"
    talked = loaded("chat", "--as", CLAIRE, input=f"{said}\n\n")
    assert talked.exit_code == 0, talked.output
    shown = talked.output
    assert "Enregistré aussitôt sous la référence N-" in shown
    assert "enquête non technique dans le nord (Borkou)" in shown
    assert "[CORRIGER N-" in shown
    assert "] Modifier" in shown
    assert "[RETIRER N-" in shown
    [need] = needs(loaded)
    assert need["state"] == "FRA"
    assert "Borkou" in need["description"]


def test_a_guessed_need_waits_for_confirm_and_its_choices_are_in_one_language(
    loaded: Invoke,  # noqa: F811 - pytest's fixture by name
) -> None:
    said = "Nous avons besoin d'un appui pour l'enquête non technique, 250 000 USD"
    talked = loaded("chat", "--as", CLAIRE, input=f"{said}\n\n")
    assert talked.exit_code == 0, talked.output
    assert "Rien n'est enregistré tant que vous n'avez pas confirmé." in talked.output
    assert "[CONFIRMER] Confirmer" in talked.output
    assert "[ANNULER] Annuler" in talked.output
    assert "[edit]" not in talked.output  # no English action names among French answers
    assert needs(loaded) == []

    confirmed = loaded("chat", "--as", CLAIRE, input="CONFIRMER\n\n")
    assert "N-" in confirmed.output
    assert len(needs(loaded)) == 1
