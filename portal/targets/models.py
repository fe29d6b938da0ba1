"""Learning targets in frameworks (shaped after 1EdTech CASE), and mastery scales."""

from __future__ import annotations

import enum

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core import stamps
from portal.core.extensions import db
from portal.core.i18n import in_locale


class Framework(db.Model):
    """A set of targets: a state standard (a CASE CFDocument) or a district's competencies.

    Owned by a district (shared by its schools) or by one school.
    """

    __tablename__ = "frameworks"
    __stamp__ = stamps.SITE

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id"), index=True)
    title: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str | None] = mapped_column(String(120))
    # CFDocument.identifier: a re-import of the same package updates this row.
    case_identifier: Mapped[str | None] = mapped_column(String(64), unique=True)
    case_version: Mapped[str | None] = mapped_column(String(80))

    targets: Mapped[list[Target]] = relationship(back_populates="framework")


class TargetKind(enum.StrEnum):
    GROUP = "group"  # a subject, strand, domain or standard that holds targets
    TARGET = "target"  # an "I can ..." statement a goal can aim at


class Target(db.Model):
    """A node of a framework's tree; leaves of kind TARGET are what goals aim at."""

    __tablename__ = "targets"
    __stamp__ = stamps.SITE

    id: Mapped[int] = mapped_column(primary_key=True)
    framework_id: Mapped[int] = mapped_column(
        ForeignKey("frameworks.id", ondelete="CASCADE"), index=True
    )
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("targets.id"), index=True)
    kind: Mapped[TargetKind] = mapped_column(
        db.Enum(TargetKind, native_enum=False, length=10), default=TargetKind.TARGET
    )
    code: Mapped[str | None] = mapped_column(String(80), index=True)  # humanCodingScheme
    statement: Mapped[str] = mapped_column(Text)  # "I can ..."
    family_statement: Mapped[str | None] = mapped_column(Text)  # plain words for families
    family_statement_es: Mapped[str | None] = mapped_column(Text)  # the same, in Spanish
    grade_low: Mapped[int | None]  # K = 0
    grade_high: Mapped[int | None]
    position: Mapped[int] = mapped_column(default=0)
    # CFItem.identifier (a UUID): a re-import updates instead of duplicating.
    case_identifier: Mapped[str | None] = mapped_column(String(64), unique=True)
    item_type: Mapped[str | None] = mapped_column(String(80))  # CFItemType, e.g. "Standard"

    framework: Mapped[Framework] = relationship(back_populates="targets")
    parent: Mapped[Target | None] = relationship(remote_side=[id])

    @property
    def grade_band(self) -> str:
        def g(n):
            return "K" if n == 0 else str(n)

        if self.grade_low is None:
            return ""
        if self.grade_high in (None, self.grade_low):
            return g(self.grade_low)
        return f"{g(self.grade_low)}-{g(self.grade_high)}"

    @property
    def family_wording(self) -> str:
        """Plain words for families, in Spanish on a Spanish page when the school wrote them."""
        return family_wording_of(self.statement, self.family_statement, self.family_statement_es)


def family_wording_of(statement: str, family_statement: str | None, spanish: str | None) -> str:
    """A target's plain words for families (`Target.family_wording`), from its columns."""
    return in_locale(family_statement or statement, spanish)


class MasteryScale(db.Model):
    """A school's levels of understanding, one of which is marked as mastery."""

    __tablename__ = "mastery_scales"
    __stamp__ = stamps.SITE

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("orgs.id"), unique=True)
    name: Mapped[str] = mapped_column(String(120), default="Mastery scale")

    levels: Mapped[list[MasteryLevel]] = relationship(
        back_populates="scale", order_by="MasteryLevel.value", cascade="all, delete-orphan"
    )

    @property
    def mastery_level(self) -> MasteryLevel | None:
        return next((level for level in self.levels if level.is_mastery), None)

    def level(self, value: int | None) -> MasteryLevel | None:
        return next((level for level in self.levels if level.value == value), None)


class MasteryLevel(db.Model):
    __tablename__ = "mastery_levels"
    __stamp__ = stamps.SITE
    __table_args__ = (UniqueConstraint("scale_id", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scale_id: Mapped[int] = mapped_column(ForeignKey("mastery_scales.id", ondelete="CASCADE"))
    value: Mapped[int]  # 1, 2, 3, 4 ...
    label: Mapped[str] = mapped_column(String(40))  # Beginning, Developing, ...
    description: Mapped[str | None] = mapped_column(Text)
    # The school's Spanish for the same words; English shows where there is none.
    label_es: Mapped[str | None] = mapped_column(String(40))
    description_es: Mapped[str | None] = mapped_column(Text)
    is_mastery: Mapped[bool] = mapped_column(default=False)

    scale: Mapped[MasteryScale] = relationship(back_populates="levels")

    @property
    def display_label(self) -> str:
        """The level's name in the reader's language."""
        return in_locale(self.label, self.label_es)

    @property
    def display_description(self) -> str | None:
        return in_locale(self.description, self.description_es)


DEFAULT_LEVELS = [
    (1, "Beginning", "I am just starting to learn this."),
    (2, "Developing", "I can do some of it with help."),
    (3, "Proficient", "I can do it on my own."),
    (4, "Extending", "I can use it in new ways and teach others."),
]
# The same default scale in Spanish, shipped with it: (label_es, description_es) by value.
DEFAULT_LEVELS_ES = {
    1: ("Inicial", "Apenas estoy empezando a aprender esto."),
    2: ("En desarrollo", "Puedo hacer una parte con ayuda."),
    3: ("Competente", "Puedo hacerlo por mi cuenta."),
    4: ("Avanzado", "Puedo usarlo de maneras nuevas y enseñárselo a otros."),
}
MASTERY_VALUE = 3
