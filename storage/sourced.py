"""A fact with where it came from: every date, name and default the bot holds a State to.

Shared by the treaty data's readers and the CLDR defaults, so that the ISU can always say
whether a fact is sourced from a public document, computed from the treaty's rules, or only a
default it may correct.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, Literal, TypeVar

T = TypeVar("T")

Basis = Literal["sourced", "computed", "default"]
Language = Literal["en", "fr", "es"]


@dataclass(frozen=True, slots=True)
class Sourced(Generic[T]):
    """A fact with its provenance: the source's addresses, the rule applied, or the default used."""

    value: T
    basis: Basis
    source: str
