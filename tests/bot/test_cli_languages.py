"""The command line speaks the ISU's language (CCM_ISU_LANGUAGE), on SQLite and PostgreSQL:
results, tables, summaries and failures, with dates and numbers written the reader's way.
What programs read (``--json``, exported files) is the same whatever the language."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from tests.bot.test_cli import EXAMPLES, Invoke, cli  # noqa: F401 - the fixture
from tests.bot.test_cli_mail import DELEGATE, _given_up
from tests.bot.test_cli_queries import loaded  # noqa: F401 - the fixture

NNBSP = "\u202f"  # how French groups thousands: 1 200 000


@pytest.mark.parametrize(
    ("language", "summary", "headings", "amount"),
    [
        (
            "fr",
            "besoins au titre de l'article 4 : 2 résultats.",
            ("Référence", "État", "Catégorie", "Visible par", "Montant"),
            f"1{NNBSP}200{NNBSP}000 USD",
        ),
        (
            "es",
            "necesidades del artículo 4: 2 resultados.",
            ("Referencia", "Estado", "Categoría", "Visible para", "Importe"),
            "1.200.000 USD",
        ),
    ],
)
def test_a_listing_is_in_the_isu_language(
    loaded: Invoke,  # noqa: F811 - pytest's fixture by name
    monkeypatch: pytest.MonkeyPatch,
    language: str,
    summary: str,
    headings: tuple[str, ...],
    amount: str,
) -> None:
    monkeypatch.setenv("CCM_ISU_LANGUAGE", language)

    listed = loaded("needs", "list", "article", "4")

    assert listed.exit_code == 0, listed.output
    first, header, *rows = listed.output.splitlines()
    assert first == summary
    assert [heading for heading in headings if heading in header] == list(headings)
    assert "Reference" not in header
    assert any(amount in row for row in rows), rows


@pytest.mark.parametrize(
    ("language", "heading", "rows"),
    [
        (
            "fr",
            "Année de référence 2025 (rapports attendus le 30 avril 2026), au 1 novembre 2026 :",
            ("Rapports reçus", "Article 4  États parties ayant des obligations"),
        ),
        (
            "es",
            "Año de referencia 2025 (plazo de los informes: 30 de abril de 2026), a fecha de "
            "1 de noviembre de 2026:",
            ("Informes recibidos", "Artículo 4  Estados Partes con obligaciones"),
        ),
    ],
)
def test_the_yearly_figures_are_in_the_isu_language(
    loaded: Invoke,  # noqa: F811 - pytest's fixture by name
    monkeypatch: pytest.MonkeyPatch,
    language: str,
    heading: str,
    rows: tuple[str, ...],
) -> None:
    monkeypatch.setenv("CCM_ISU_LANGUAGE", language)

    shown = loaded("stats", "--year", "2025", "--as-of", "2026-11-01")

    assert shown.exit_code == 0, shown.output
    lines = shown.output.splitlines()
    assert lines[0] == heading
    for label in rows:  # each with its figure: 6 reports received, 6 with Article 4 obligations
        assert any(re.fullmatch(rf"{label} +6", line) for line in lines), (label, lines)
    assert "Reports received" not in shown.output


@pytest.mark.parametrize(
    ("language", "args", "exit_code", "last_line"),
    [
        (
            "fr",
            ("states", "show", "Atlantis"),
            1,
            "ccm-bot: aucun État ne correspond à 'Atlantis'. Indiquez un code ISO3 (par exemple "
            "LAO) ou un nom en anglais, en français ou en espagnol ; lancez `ccm-bot states load` "
            "si la liste est vide.",
        ),
        (
            "es",
            ("states", "show", "Atlantis"),
            1,
            "ccm-bot: ningún Estado coincide con 'Atlantis'. Indique un código ISO3 (por ejemplo, "
            "LAO) o un nombre en inglés, francés o español; ejecute `ccm-bot states load` si la "
            "lista está vacía.",
        ),
        (
            "fr",
            ("reminders", "preview", "--on", "31/03/2027"),
            2,
            "Error: Invalid value for '--on': '31/03/2027' n'est pas une date ; écrivez-la au "
            "format AAAA-MM-JJ, par exemple 2027-03-31.",
        ),
        (
            "es",
            ("deadlines", "add", "LBN", "Extension request due", "2040-15-01"),
            2,
            "Error: Invalid value for 'DUE': '2040-15-01' no es una fecha; escríbala en el formato "
            "AAAA-MM-DD, por ejemplo 2027-03-31.",
        ),
        (
            "fr",
            ("digest", "send", "--week", "2030-W13", "--now", "2027-03-31T08:00:00+00:00"),
            1,
            "ccm-bot: la semaine 2030-W13 n'est pas encore terminée ; envoyez son résumé une fois "
            "qu'elle le sera",
        ),
        (
            "es",
            ("mail", "retry", "999"),
            1,
            "ccm-bot: no existe el correo n.º 999; `ccm-bot mail status` muestra la lista",
        ),
    ],
)
def test_failures_say_how_to_fix_them_in_the_isu_language(
    cli: Invoke,  # noqa: F811 - pytest's fixture by name
    monkeypatch: pytest.MonkeyPatch,
    language: str,
    args: tuple[str, ...],
    exit_code: int,
    last_line: str,
) -> None:
    assert cli("states", "load").exit_code == 0
    monkeypatch.setenv("CCM_ISU_LANGUAGE", language)

    result = cli(*args)

    assert result.exit_code == exit_code
    assert result.output.splitlines()[-1] == last_line


@pytest.mark.parametrize(
    ("language", "nothing_on_new_year", "sent", "counts"),
    [
        (
            "fr",
            "Rien ne partirait le 1 janvier 2027.",
            "Rappels planifiés : {n}, retirés : 0, messages envoyés : {n}, en échec : 0.",
            "envoyés : {n}",
        ),
        (
            "es",
            "No se enviaría nada el 1 de enero de 2027.",
            "Recordatorios programados: {n}, retirados: 0, mensajes enviados: {n}, fallidos: 0.",
            "enviados: {n}",
        ),
    ],
)
def test_reminders_report_in_the_isu_language(
    cli: Invoke,  # noqa: F811 - pytest's fixture by name
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    language: str,
    nothing_on_new_year: str,
    sent: str,
    counts: str,
) -> None:
    cli("states", "load")
    cli("contacts", "import", str(EXAMPLES / "contacts.csv"))
    monkeypatch.setenv("CCM_ISU_LANGUAGE", language)

    quiet = cli("reminders", "preview", "--on", "2027-01-01")
    ran = cli("reminders", "run-once", "--now", "2027-03-31T12:00:00Z")
    status = cli("reminders", "status")

    n = len(list((tmp_path / "outbox").glob("*.eml")))
    assert n > 0
    assert quiet.output == f"{nothing_on_new_year}\n"
    assert ran.output == f"{sent.format(n=n)}\n"
    assert status.output.splitlines()[0] == counts.format(n=n)


@pytest.mark.parametrize(
    ("language", "given_up", "sent", "already"),
    [
        (
            "fr",
            "en échec : 1",
            "Courriel nº {id} à {to} envoyé.",
            "ccm-bot: le courriel nº {id} à {to} a déjà été envoyé",
        ),
        (
            "es",
            "fallidos: 1",
            "Correo n.º {id} a {to} enviado.",
            "ccm-bot: el correo n.º {id} a {to} ya se envió",
        ),
    ],
)
def test_mail_commands_answer_in_the_isu_language(
    cli: Invoke,  # noqa: F811 - pytest's fixture by name
    monkeypatch: pytest.MonkeyPatch,
    database_url: str,
    language: str,
    given_up: str,
    sent: str,
    already: str,
) -> None:
    monkeypatch.delenv("CCM_ISU_EMAIL", raising=False)
    monkeypatch.setenv("CCM_ISU_LANGUAGE", language)
    mail_id = asyncio.run(_given_up(database_url))

    status = cli("mail", "status")
    retried = cli("mail", "retry", str(mail_id))
    again = cli("mail", "retry", str(mail_id))

    assert status.output.splitlines()[0] == given_up
    assert (retried.exit_code, retried.output) == (0, sent.format(id=mail_id, to=DELEGATE) + "\n")
    assert (again.exit_code, again.output) == (1, already.format(id=mail_id, to=DELEGATE) + "\n")


JSON_COMMANDS = (
    ("states", "show", "LAO", "--json"),
    ("contacts", "list", "--json"),
    ("needs", "list", "article", "5", "--json"),
    ("offers", "list", "training", "--json"),
    ("overview", "LBN", "--json"),
    ("overdue", "2025", "--json"),
    ("stats", "--year", "2025", "--as-of", "2026-11-01", "--names", "--json"),
    ("reminders", "preview", "--on", "2027-03-31", "--json"),
)


def test_what_programs_read_is_the_same_in_every_language(
    loaded: Invoke,  # noqa: F811 - pytest's fixture by name
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    def read_everything(language: str) -> tuple[list[str], bytes]:
        monkeypatch.setenv("CCM_ISU_LANGUAGE", language)
        outputs = []
        for args in JSON_COMMANDS:
            result = loaded(*args)
            assert result.exit_code == 0, (args, result.output)
            outputs.append(result.stdout)
        exported = tmp_path / f"needs-{language}.csv"
        assert loaded("export", "needs", "-o", str(exported)).exit_code == 0
        return outputs, exported.read_bytes()

    english = read_everything("en")

    assert '"understood": "needs for Article 5"' in english[0][2]
    assert read_everything("fr") == english
    assert read_everything("es") == english
