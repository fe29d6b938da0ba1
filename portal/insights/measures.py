"""What each insight measures, in words exact enough to recount by hand.

"The end" is now for the current cycle, or the end of the past cycle shown. "The cycle"
is the cycle ending then (see compute.cycle_bounds). "Learners" are the active learners
in scope (scope.py): every learner share is over all of them, so the four goal-setting
shares can be read side by side.
"""

from __future__ import annotations

from dataclasses import dataclass

from portal.core.i18n import lazy_gettext as _l

SHARE, MEDIAN = "share", "median"

# Shown once beside the definitions: what "the end" and "the cycle" in them mean.
PERIOD_NOTE = _l(
    "“The end” is the moment the numbers are for: now, or the end of the past cycle "
    "shown. “The cycle” is the school's conference cycle ending then (30 days for a "
    "district or several schools). “Learners” are the active learners in scope."
)


@dataclass(frozen=True)
class Measure:
    key: str  # stable, used in URLs and CSV headers
    indicator: str  # "1.1" | "1.2" | "1.3" | "family"
    label: str  # lazy_gettext: short name
    definition: str  # lazy_gettext: the exact definition in words, shown on the page
    kind: str  # "share" (numerator/denominator) or "median" (a number)
    unit: str = "learners"  # what numerator and denominator count: "learners" or "goals"


MEASURES: tuple[Measure, ...] = (
    Measure(
        "agreed_goal",
        "1.1",
        _l("Agreed goal"),
        _l(
            "Learners with at least one agreed goal at the end: a goal with a version signed "
            "by both the learner and a teacher, not met, closed or archived by then. "
            "Out of all learners in scope."
        ),
        SHARE,
    ),
    Measure(
        "own_words",
        "1.1",
        _l("Goal in own words"),
        _l(
            "Learners with at least one agreed goal (as above) whose first version was "
            "written by the learner. Out of all learners in scope."
        ),
        SHARE,
    ),
    Measure(
        "chose_strategy",
        "1.1",
        _l("Chose a strategy"),
        _l(
            "Learners with at least one agreed goal (as above) whose signed version names "
            "at least one strategy or action step. Out of all learners in scope."
        ),
        SHARE,
    ),
    Measure(
        "never_started",
        "1.1",
        _l("Never started"),
        _l(
            "Learners with no goal at all by the end, not even a draft. "
            "Out of all learners in scope."
        ),
        SHARE,
    ),
    Measure(
        "logged_14d",
        "1.2",
        _l("Logged progress (14 days)"),
        _l(
            "Learners with at least one progress entry in the 14 days before the end. "
            "Out of all learners in scope."
        ),
        SHARE,
    ),
    Measure(
        "entries_per_cycle",
        "1.2",
        _l("Entries per learner (median)"),
        _l(
            "The median number of progress entries a learner made in the cycle, counting "
            "learners who made none as 0."
        ),
        MEDIAN,
    ),
    Measure(
        "feedback_14d",
        "1.2",
        _l("Teacher feedback (14 days)"),
        _l(
            "Learners who received teacher feedback (on an entry or on a goal) in the "
            "14 days before the end. Out of all learners in scope."
        ),
        SHARE,
    ),
    Measure(
        "conference_this_cycle",
        "1.2",
        _l("Conference this cycle"),
        _l(
            "Learners with a goal conference marked held, held during the cycle. "
            "Out of all learners in scope."
        ),
        SHARE,
    ),
    Measure(
        "level_rose",
        "1.2",
        _l("Level rose this cycle"),
        _l(
            "Goals agreed at the end that had a rating before the cycle began: the share "
            "whose latest rating by the end (the learner's or a teacher's) is higher than "
            "their latest rating before the cycle began. Counts goals, not learners."
        ),
        SHARE,
        "goals",
    ),
    Measure(
        "met_by_due",
        "1.2",
        _l("Goals met by due date"),
        _l(
            "Goals past the draft stage whose due date fell in the cycle, up to the end: "
            "the share marked met on or before their due date. Counts goals, not learners."
        ),
        SHARE,
        "goals",
    ),
    Measure(
        "profile_complete",
        "1.3",
        _l("Profile complete"),
        _l(
            "Learners with something written in every built-in profile section (about me, "
            "strengths, interests, how I learn, barriers, supports, future) by the end. "
            "Out of all learners in scope."
        ),
        SHARE,
    ),
    Measure(
        "profile_updated_90d",
        "1.3",
        _l("Profile updated (90 days)"),
        _l(
            "Learners with any profile section written or revised (by anyone) in the "
            "90 days before the end. Out of all learners in scope."
        ),
        SHARE,
    ),
    Measure(
        "profile_shared",
        "1.3",
        _l("Profile shared with family"),
        _l(
            "Learners who shared at least one profile section with their family (and it "
            "is not locked) by the end. Out of all learners in scope."
        ),
        SHARE,
    ),
    Measure(
        "guardian_linked",
        "family",
        _l("Guardian linked"),
        _l(
            "Learners with at least one guardian account linked to them at the end. "
            "Out of all learners in scope."
        ),
        SHARE,
    ),
    Measure(
        "family_active_30d",
        "family",
        _l("Family active (30 days)"),
        _l(
            "Learners with a linked guardian who, in the 30 days before the end, was signed "
            "in to the portal, acknowledged one of their goals or sent them a cheer. "
            "Out of all learners in scope."
        ),
        SHARE,
    ),
)

BY_KEY: dict[str, Measure] = {m.key: m for m in MEASURES}
