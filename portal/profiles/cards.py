"""The profile's cards on other pages: the data each route gathers before it renders.

A page that shows a profile card calls the function here and passes the result to its
template; no template asks the database. Who may see a card is decided by the route
(through `portal.policy`) before it calls; these functions only gather.
"""

from __future__ import annotations

from sqlalchemy import bindparam, select

from portal.auth.models import User
from portal.core.extensions import db
from portal.core.timeutil import utcnow
from portal.policy import visible_learner_ids
from portal.profiles import services
from portal.profiles.models import ProfileReviewRequest, ProfileSection
from portal.profiles.prompts import BUILT_IN
from portal.profiles.services import Completeness
from portal.roster.models import Enrollment, EnrollmentRole

# Built once: the learner home asks on every view.
_SECTION_UPDATES = select(ProfileSection.key, ProfileSection.updated_at).where(
    ProfileSection.learner_id == bindparam("learner_id"),
    ProfileSection.key.in_(bindparam("keys", expanding=True)),
    ProfileSection.updated_at.is_not(None),
)


def profile_summary(learner: User, school_specs=None) -> Completeness:
    """How complete and fresh a learner's profile is, for the home and overview cards.

    `school_specs` are the school's extra sections when the caller has them
    (`portal.school_settings`): then this is one statement, when each section was last
    written, the same reading as `services.completeness`.
    """
    if school_specs is None:
        return services.completeness(learner)
    specs = [*BUILT_IN, *school_specs]
    params = {"learner_id": learner.id, "keys": [s.key for s in specs]}
    updated = dict(db.session.execute(_SECTION_UPDATES, params).tuples().all())
    now = utcnow()
    stale_before = now - services.STALE_AFTER
    return Completeness(
        total=len(specs),
        empty=[s for s in specs if s.key not in updated],
        stale=[(s, updated[s.key]) for s in specs if updated.get(s.key, now) < stale_before],
        last_update=max(updated.values(), default=None),
    )


def review_requests_for_class(class_id: int, user: User) -> list[ProfileReviewRequest]:
    """Open review requests of this class's learners that `user` may see, oldest first."""
    learner_ids = select(Enrollment.user_id).where(
        Enrollment.class_id == class_id,
        Enrollment.role == EnrollmentRole.LEARNER,
        Enrollment.user_id.in_(visible_learner_ids(user)),
    )
    return services.open_review_requests(learner_ids)
