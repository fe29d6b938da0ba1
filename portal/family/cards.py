"""Data for the family-facing cards: the cheers card, the shared-profile card, the family
page's child card with its conference notes.

A page's route (or its one context builder) calls these with a learner it has already
authorized through `portal.policy`; they decide nothing about access, they only gather what
the card's template reads, so that nothing queries while the template renders. The htmx
route that renders a card alone calls the same function.
"""

from __future__ import annotations

from dataclasses import dataclass

from portal.auth.models import User
from portal.conferences import history as conference_history
from portal.family import services
from portal.family.models import Cheer
from portal.profiles import services as profiles

LEARNER_HOME_CHEERS = 5


@dataclass
class CheersCard:
    """Cheers on a learner's goals with their goal's wording, newest first."""

    rows: list[tuple[Cheer, str]]
    more: bool  # there are more than the card shows: link to the full list


def learner_cheers(learner: User, *, family: bool = False) -> CheersCard:
    """The learner home's cheers card: the newest visible cheers on the learner's goals.

    `family` is `portal.policy.family_view(learner)` for the reader (the learner: False).
    """
    rows = services.cheers_for_learner(learner.id, limit=LEARNER_HOME_CHEERS + 1, family=family)
    return CheersCard(rows[:LEARNER_HOME_CHEERS], len(rows) > LEARNER_HOME_CHEERS)


def shared_sections(learner: User) -> list[profiles.SectionView]:
    """The shared-profile card: the sections the learner shared with family, none locked."""
    return profiles.family_sections(learner)


@dataclass
class FamilyConferences:
    """The family's conference card: agreed goals, shared notes, and whether the reader
    may say "we have seen this goal" (decided by the route through portal.policy)."""

    notes: conference_history.FamilyNotes
    may_acknowledge: bool
    may_mark: dict  # StepOwner -> may the reader mark such a step done


def family_conferences(
    learner: User, *, may_acknowledge: bool, may_mark: dict
) -> FamilyConferences:
    """The conference card on the family page and on a guardian's learner overview."""
    return FamilyConferences(conference_history.family_notes(learner), may_acknowledge, may_mark)
