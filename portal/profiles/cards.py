"""The profile's cards on other pages: the data each route gathers before it renders.

A page that shows a profile card calls the function here and passes the result to its
template; no template asks the database. Who may see a card is decided by the route
(through `portal.policy`) before it calls; these functions only gather.
"""

from __future__ import annotations

from sqlalchemy import select

from portal.auth.models import User
from portal.policy import visible_learner_ids
from portal.profiles import services
from portal.profiles.models import ProfileReviewRequest
from portal.profiles.services import Completeness
from portal.roster.models import Enrollment, EnrollmentRole


def profile_summary(learner: User) -> Completeness:
    """How complete and fresh a learner's profile is, for the home and overview cards."""
    return services.completeness(learner)


def review_requests_for_class(class_id: int, user: User) -> list[ProfileReviewRequest]:
    """Open review requests of this class's learners that `user` may see, oldest first."""
    learner_ids = select(Enrollment.user_id).where(
        Enrollment.class_id == class_id,
        Enrollment.role == EnrollmentRole.LEARNER,
        Enrollment.user_id.in_(visible_learner_ids(user)),
    )
    return services.open_review_requests(learner_ids)
