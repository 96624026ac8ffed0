"""One rule for a person's language, zone and weekend: the contact's own, their State's, ours."""

from __future__ import annotations

import pytest

from schedules.locale import locale_of, zone_of_state
from schedules.policy import SATURDAY_SUNDAY
from storage.models import Contact, State

LEBANON = State(iso3="LBN", language="fr", timezone="Asia/Beirut", weekend=[6])
TYPO = State(iso3="XTY", language="es", timezone="Mars/Olympus", weekend=[4, 5])


@pytest.mark.parametrize(
    ("contact", "state", "expected"),
    [
        (Contact(), LEBANON, ("fr", "Asia/Beirut", frozenset({6}))),
        (Contact(language="en", timezone="Europe/Geneva"), LEBANON, ("en", "Europe/Zurich", {6})),
        # A zone nobody can resolve is skipped, down to the State's, then the secretariat's.
        (Contact(timezone="Asia/Beyrouth"), LEBANON, ("fr", "Asia/Beirut", {6})),
        (Contact(timezone="nowhere"), TYPO, ("es", "Europe/Zurich", {4, 5})),
        # A coordinator speaks for no State: English, the secretariat's zone, Saturday-Sunday.
        (Contact(), None, ("en", "Europe/Zurich", SATURDAY_SUNDAY)),
        (
            Contact(language="es", timezone="America/Santiago"),
            None,
            ("es", "America/Santiago", SATURDAY_SUNDAY),
        ),
    ],
)
def test_locale_of_a_contact(
    contact: Contact, state: State | None, expected: tuple[str, str, set[int]]
) -> None:
    local = locale_of(contact, state, "Europe/Geneva")
    assert (local.language, local.zone.key, local.weekend) == expected


def test_zone_of_a_state_with_a_bad_name_is_the_secretariats() -> None:
    assert zone_of_state(TYPO, "Europe/Geneva").key == "Europe/Zurich"
    assert zone_of_state(LEBANON, "Europe/Geneva").key == "Asia/Beirut"
