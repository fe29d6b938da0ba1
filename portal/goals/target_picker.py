"""The target picker of the goal form and the template forms: the chosen targets, what to
offer next, and the fragment under the search box.
"""

from __future__ import annotations

from flask import make_response, render_template, request

from portal.core.inputs import parse_id
from portal.goals import queries, services


def _target_lists(school_id, grade, chosen_ids, text, band_of_class=None):
    """The chosen targets (checked) and what to offer next: a search, or the grade's targets
    (for a class's template: the targets of its learners' grades first)."""
    chosen_ids = [i for i in dict.fromkeys(chosen_ids or []) if isinstance(i, int)]
    chosen = queries.targets_by_ids(chosen_ids)
    text = (text or "").strip()
    if school_id is None:
        return chosen, []
    if text:
        results = queries.search_targets(school_id, text, limit=20)
    elif band_of_class is not None:
        results = queries.band_first_targets(school_id, queries.class_grade_band(band_of_class))
    else:
        results = queries.suggested_targets(school_id, grade)
    chosen_set = set(chosen_ids)
    return chosen, [t for t in results if t.id not in chosen_set]


def _requested_target_ids() -> list[int]:
    return [i for i in map(parse_id, request.args.getlist("targets")) if i is not None]


def _target_fragment(chosen, results, picker_url):
    response = make_response(
        render_template(
            "goals/_target_lists.html",
            chosen=chosen,
            results=results,
            picker_url=picker_url,
            max_targets=services.MAX_TARGETS,
            q=request.args.get("q", ""),
        )
    )
    return response
