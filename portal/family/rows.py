"""The family page's details as plain rows: what its templates read, without ORM objects.

The page only reads these, and loading them as mapped objects (with the people they name
joined as accounts) cost about two thirds of its details statement. Each type has the
attribute names of the model it stands for, so the templates the page shares with other
pages (`family/_cheer.html`, `conferences/_acknowledge.html`) read either.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from portal.auth.models import display_name_of
from portal.conferences.models import SignerRole
from portal.progress.models import is_image_type
from portal.targets.models import family_wording_of


class Person(NamedTuple):
    """Someone a row names, as `User.display_name` names them."""

    given_name: str
    preferred_name: str | None
    family_name: str

    @property
    def display_name(self) -> str:
        return display_name_of(self.given_name, self.preferred_name, self.family_name)


# --- A version's parts -------------------------------------------------------------------


class VersionTarget(NamedTuple):
    """A learning target of a version, with the target's words (`GoalVersionTarget`)."""

    version_id: int
    position: int
    id: int
    target_id: int
    statement: str
    family_statement: str | None
    family_statement_es: str | None

    @property
    def family_wording(self) -> str:
        return family_wording_of(self.statement, self.family_statement, self.family_statement_es)


class VersionStrategy(NamedTuple):
    """A strategy of a version (`GoalVersionStrategy`): its bank entry's id and its words."""

    version_id: int
    position: int
    id: int
    strategy_id: int | None
    text: str


class FamilySignature(NamedTuple):
    """A signature, as `conferences.signing.VersionSigning` reads a `GoalSignature`."""

    version_id: int
    id: int
    role: SignerRole
    signer_id: int
    content_hash: str
    signed_at: datetime
    signer: Person


class FamilyAcknowledgement(NamedTuple):
    """A guardian's "we have seen this goal" (`GoalAcknowledgement`)."""

    version_id: int
    id: int
    guardian_id: int
    acknowledged_at: datetime
    guardian: Person


# --- A goal's activity -------------------------------------------------------------------


class TeacherFeedback(NamedTuple):
    """Feedback a teacher wrote for the family (`Feedback`)."""

    id: int
    goal_id: int
    body: str
    created_at: datetime
    author: Person


class SharedEntry(NamedTuple):
    """A progress entry the learner shared with family (`ProgressEntry`)."""

    id: int
    goal_id: int
    created_at: datetime
    strategy_text: str
    reflection: str
    link_url: str | None
    file_key: str | None
    file_type: str | None

    @property
    def file_is_image(self) -> bool:
        return is_image_type(self.file_type)


class FamilyCheer(NamedTuple):
    """A cheer on its goal (`Cheer`, as `family/_cheer.html` reads it)."""

    id: int
    goal_id: int
    body: str
    created_at: datetime
    author: Person
