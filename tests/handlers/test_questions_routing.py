"""Is a turn a question or an answer? One rule in the core, the same on every channel."""

from __future__ import annotations

from datetime import date

import pytest

from handlers.questions import is_question, parse_question
from handlers.understanding import understand
from storage.models import Role
from storage.state_names import resolve_state_code

TODAY = date(2027, 4, 20)


def routed(text: str, role: Role, *, in_thread: bool = False) -> bool:
    """The decision the conversation core makes, from the text read once by each reader."""
    understood = understand(text, today=TODAY)
    question = parse_question(text, resolve_state=resolve_state_code, today=TODAY)
    return is_question(understood, question, role, in_thread=in_thread)


@pytest.mark.parametrize(
    ("text", "role", "records"),
    [
        # Clearly questions, from anyone.
        ("who needs help with clearance in Africa?", Role.DELEGATE, True),
        ("¿quién ofrece formación?", Role.DELEGATE, True),
        ("quels États n'ont pas soumis leur rapport 2025 ?", Role.COORDINATOR, True),
        ("Qui peut aider au déminage ?", Role.PARTNER, True),
        ("who can help with training?", Role.DELEGATE, True),
        # The delegate conversation, whoever writes it.
        ("We need training for deminers", Role.COORDINATOR, False),
        ("Nous avons besoin d'un appui technique, 250 000 USD", Role.DELEGATE, False),
        ("Our report was submitted on 3 March", Role.ISU, False),
        ("LATER", Role.COORDINATOR, False),
        ("SOUMIS 2026", Role.ISU, False),
        ("Can you help me?", Role.COORDINATOR, False),  # help: the conversation explains
        ("what should I do?", Role.DELEGATE, False),
        ("thanks", Role.COORDINATOR, False),
        ("Did you receive our report?", Role.COORDINATOR, False),  # nothing the records know
        # Filters, which only the Coordinators and the ISU write as questions.
        ("article 4 africa open", Role.COORDINATOR, True),
        ("article 4 africa open", Role.DELEGATE, False),
        ("besoins article 5 afrique ouverts", Role.ISU, True),
        ("stats 2025", Role.ISU, True),
        ("Liban", Role.COORDINATOR, True),
        ("deadlines 6 months", Role.COORDINATOR, True),
        ("Norway can fund survey in Lebanon", Role.COORDINATOR, False),
    ],
)
def test_a_sentence_goes_to_the_records_or_to_the_conversation(
    text: str, role: Role, records: bool
) -> None:
    assert routed(text, role) is records


@pytest.mark.parametrize(
    ("text", "role", "records"),
    [
        # Clearly questions: answered even in a reminder's thread (an email reply).
        ("who needs help with clearance in Africa?", Role.COORDINATOR, True),
        ("which needs are open in Africa?", Role.DELEGATE, True),
        ("qui a besoin d'aide pour le déminage en Afrique ?", Role.COORDINATOR, True),
        ("¿quién necesita ayuda con el despeje en África?", Role.ISU, True),
        ("which States have not submitted their 2025 report?", Role.COORDINATOR, True),
        # Answers to the reminder, however they are put.
        ("We need 250 000 USD for clearance", Role.DELEGATE, False),
        ("We need 250 000 USD for clearance", Role.COORDINATOR, False),
        ("Which one? We submitted it on 3 March", Role.DELEGATE, False),
        ("article 4 africa open", Role.COORDINATOR, False),  # only a question outside a thread
        ("Liban", Role.COORDINATOR, False),
        ("who can I send it to?", Role.DELEGATE, False),  # nothing the records hold
        ("LATER", Role.COORDINATOR, False),
    ],
)
def test_in_a_reminders_thread_only_a_clear_question_is_a_question(
    text: str, role: Role, records: bool
) -> None:
    assert routed(text, role, in_thread=True) is records
