"""The learner profile: read, write in place, share, lock, print, review; the access log.

Sections are edited in place with htmx: a section swaps itself for the same
section with a form inside, and back. With JavaScript off the same links and
forms lead to a page holding that one section.
"""

from __future__ import annotations

from flask import Blueprint, abort, redirect, request, url_for
from flask_login import current_user

from portal.auth.models import ADMIN_ROLES, Role
from portal.core.extensions import db
from portal.core.i18n import gettext as _
from portal.core.timeutil import utcnow
from portal.core.web import redirect_to, render, render_invalid, wants_fragment
from portal.policy import (
    Action,
    can,
    load_learner,
    load_profile_entry,
    load_review_request,
    load_school,
    load_section_def,
    roles,
)
from portal.profiles import services
from portal.profiles.forms import (
    AudienceForm,
    EntryForm,
    LockForm,
    ResolveReviewForm,
    ReviewRequestForm,
    SectionDefForm,
)
from portal.profiles.models import Audience
from portal.profiles.prompts import BUILT_IN, is_young
from portal.roster import queries

bp = Blueprint("profiles", __name__)
SECTION_PAGE = "profiles/section_page.html"


# --- Template helpers ----------------------------------------------------------------


@bp.app_template_filter("plaintext")
def plaintext(text: str | None):
    """User text as escaped text with its line breaks: never markup."""
    return services.plain_text_html(text)


# --- Shared pieces -------------------------------------------------------------------


def _spec(learner, key: str):
    spec = services.find_spec(learner, key)
    if spec is None:
        abort(404)
    return spec


def _section_view(learner, spec):
    staff_view = can(Action.VIEW_STAFF_ONLY, learner)
    views = services.profile_sections(learner, family_only=not staff_view, keys=[spec.key])
    if not views:
        abort(404)
    return views[0]


def _entry(learner, entry_id: int, own: bool = False):
    entry = load_profile_entry(learner, entry_id, own=own)
    spec = _spec(learner, entry.section.key)
    return entry, spec


def _entry_form(spec, prefix: str, **kwargs) -> EntryForm:
    form = EntryForm(prefix=prefix, **kwargs)
    form.chips.choices = list(spec.chips)
    return form


def _section_with_form(learner, spec, form, context: dict):
    """The section with its form open: 422 when the form was sent and did not validate."""
    status = 422 if form.is_submitted() else 200
    return render(
        SECTION_PAGE, "section", status=status, **_section_context(learner, spec, **context)
    )


def _section_context(learner, spec, **context) -> dict:
    return {
        "learner": learner,
        "section": _section_view(learner, spec),
        "young": is_young(learner.grade),
        "mode": None,
        "form": None,
        "target_id": None,
        "error": None,
        **context,
    }


def _saved(learner, spec):
    """After a write: the section itself for htmx (inline editing), else back to the profile."""
    if wants_fragment():
        return render(SECTION_PAGE, "section", **_section_context(learner, spec))
    return redirect(
        url_for("profiles.profile", learner_id=learner.id, _anchor=f"section-{spec.key}"), 303
    )


def _review_context(learner, **context) -> dict:
    return {
        "learner": learner,
        "review_request": services.open_review_request(learner),
        "review_form": ReviewRequestForm(),
        **context,
    }


# --- Reading -------------------------------------------------------------------------


@bp.route("/learners/<int:learner_id>/profile")
@roles()
def profile(learner_id: int):
    """Show a learner's profile: every section to learner and staff, shared ones to family."""
    learner = load_learner(learner_id, record="profile")
    staff_view = can(Action.VIEW_STAFF_ONLY, learner)
    return render(
        "profiles/profile.html",
        sections=services.profile_sections(learner, family_only=not staff_view),
        staff_view=staff_view,
        completeness=services.completeness(learner) if staff_view else None,
        young=is_young(learner.grade),
        mode=None,
        form=None,
        target_id=None,
        error=None,
        **_review_context(learner),
    )


@bp.route("/learners/<int:learner_id>/profile/print")
@roles()
def print_profile(learner_id: int):
    """Show the one-page printable profile for conferences and support meetings."""
    learner = load_learner(learner_id, record="profile")
    staff_view = can(Action.VIEW_STAFF_ONLY, learner)
    return render(
        "profiles/print.html",
        learner=learner,
        sections=services.profile_sections(learner, family_only=not staff_view),
        classes=queries.classes_of_learner(learner.id),
        now=utcnow(),
    )


@bp.route("/learners/<int:learner_id>/profile/sections/<key>")
@roles()
def section(learner_id: int, key: str):
    """Show one section: the fragment for htmx (e.g. after cancel), else the profile."""
    learner = load_learner(learner_id)
    spec = _spec(learner, key)
    if not wants_fragment():
        return redirect(
            url_for("profiles.profile", learner_id=learner.id, _anchor=f"section-{key}"), 303
        )
    return render(SECTION_PAGE, "section", **_section_context(learner, spec))


@bp.route("/learners/<int:learner_id>/profile/entries/<int:entry_id>/history")
@roles()
def history(learner_id: int, entry_id: int):
    """Show every revision of one entry: who changed what, and when."""
    learner = load_learner(learner_id, record="profile")
    entry, spec = _entry(learner, entry_id)  # a family: only in a section shared with them
    return render(
        "profiles/history.html",
        learner=learner,
        entry=entry,
        spec=spec,
        revisions=list(reversed(entry.revisions)),  # newest first, read before rendering
    )


# --- Writing -------------------------------------------------------------------------


@bp.route("/learners/<int:learner_id>/profile/sections/<key>/write", methods=["GET", "POST"])
@roles(Role.LEARNER, Role.TEACHER)
def write(learner_id: int, key: str):
    """Add an entry to a section of the profile."""
    learner = load_learner(learner_id, Action.EDIT_PROFILE)
    spec = _spec(learner, key)
    form = _entry_form(spec, prefix=key)
    context = {
        "mode": "add",
        "form": form,
        "form_action": url_for("profiles.write", learner_id=learner.id, key=key),
    }
    if not form.validate_on_submit():
        return _section_with_form(learner, spec, form, context)
    services.add_entry(learner, spec, current_user, form.text.data, form.chips.data)
    db.session.commit()
    return _saved(learner, spec)


@bp.route("/learners/<int:learner_id>/profile/entries/<int:entry_id>/edit", methods=["GET", "POST"])
@roles(Role.LEARNER, Role.TEACHER)
def edit_entry(learner_id: int, entry_id: int):
    """Revise your own entry; the earlier words are kept as history."""
    learner = load_learner(learner_id, Action.EDIT_PROFILE)
    entry, spec = _entry(learner, entry_id, own=True)
    current = services.current_revision(entry)
    form = _entry_form(
        spec, prefix=f"entry{entry.id}", data={"text": current.text, "chips": current.chip_keys}
    )
    if entry.parent_id is not None:
        form.chips.choices = []
    context = {
        "mode": "edit",
        "form": form,
        "target_id": entry.id,
        "form_action": url_for("profiles.edit_entry", learner_id=learner.id, entry_id=entry.id),
    }
    if not form.validate_on_submit():
        return _section_with_form(learner, spec, form, context)
    services.revise_entry(entry, spec, current_user, form.text.data, form.chips.data)
    db.session.commit()
    return _saved(learner, spec)


@bp.route(
    "/learners/<int:learner_id>/profile/entries/<int:entry_id>/comment", methods=["GET", "POST"]
)
@roles(Role.LEARNER, Role.TEACHER)
def comment(learner_id: int, entry_id: int):
    """Comment on an entry of the profile."""
    learner = load_learner(learner_id, Action.EDIT_PROFILE)
    entry, spec = _entry(learner, entry_id)
    if entry.parent_id is not None:
        abort(404)  # comments answer entries, not other comments
    form = EntryForm(prefix=f"reply{entry.id}")
    context = {
        "mode": "comment",
        "form": form,
        "target_id": entry.id,
        "form_action": url_for("profiles.comment", learner_id=learner.id, entry_id=entry.id),
    }
    if not form.validate_on_submit():
        return _section_with_form(learner, spec, form, context)
    services.add_entry(learner, spec, current_user, form.text.data, parent=entry)
    db.session.commit()
    return _saved(learner, spec)


@bp.route("/learners/<int:learner_id>/profile/sections/<key>/audience", methods=["POST"])
@roles(Role.LEARNER)
def set_audience(learner_id: int, key: str):
    """Share a section with family, or keep it to learner and staff."""
    learner = load_learner(learner_id, Action.SET_AUDIENCE)
    spec = _spec(learner, key)
    form = AudienceForm()
    if not form.validate_on_submit() or form.audience.data not in set(Audience):
        abort(400)
    try:
        services.set_audience(learner, spec, Audience(form.audience.data))
    except services.SectionLocked:
        db.session.rollback()
        message = _("Your school keeps this section between you and school staff.")
        return render(
            SECTION_PAGE, "section", status=409, **_section_context(learner, spec, error=message)
        )
    db.session.commit()
    return _saved(learner, spec)


@bp.route("/learners/<int:learner_id>/profile/sections/<key>/lock", methods=["POST"])
@roles(*ADMIN_ROLES)
def set_lock(learner_id: int, key: str):
    """Lock a section to staff and learner, or unlock it."""
    learner = load_learner(learner_id, Action.LOCK_SECTION)
    spec = _spec(learner, key)
    form = LockForm()
    if not form.validate_on_submit() or form.locked.data not in ("1", "0"):
        abort(400)
    services.set_lock(learner, spec, form.locked.data == "1", current_user)
    db.session.commit()
    return _saved(learner, spec)


# --- Review requests -----------------------------------------------------------------


@bp.route("/learners/<int:learner_id>/profile/review", methods=["POST"])
@roles(Role.LEARNER)
def request_review(learner_id: int):
    """Ask my teachers to review my profile with me."""
    learner = load_learner(learner_id, Action.REQUEST_PROFILE_REVIEW)
    form = ReviewRequestForm()
    if not form.validate_on_submit():
        return render_invalid(
            "profiles/profile.html", "review", **_review_context(learner, review_form=form)
        )
    services.request_review(learner, form.note.data)
    db.session.commit()
    return _review_saved(learner)


@bp.route("/learners/<int:learner_id>/profile/review/<int:request_id>/resolve", methods=["POST"])
@roles(Role.LEARNER, Role.TEACHER)
def resolve_review(learner_id: int, request_id: int):
    """Close a review request: reviewed by a teacher, or withdrawn by the learner."""
    learner = load_learner(learner_id, Action.EDIT_PROFILE)
    review = load_review_request(learner, request_id)
    if not ResolveReviewForm().validate_on_submit():
        abort(400)
    services.resolve_review(review, current_user)
    db.session.commit()
    return _review_saved(learner)


def _review_saved(learner):
    if wants_fragment():
        return render("profiles/profile.html", "review", **_review_context(learner))
    return redirect(url_for("profiles.profile", learner_id=learner.id, _anchor="review"), 303)


# --- Access log ----------------------------------------------------------------------

PER_PAGE = 25


@bp.route("/learners/<int:learner_id>/access-log")
@roles(*ADMIN_ROLES)
def access_log(learner_id: int):
    """Show who read this learner's records, when, and which page."""
    learner = load_learner(learner_id, Action.VIEW_ACCESS_LOG)
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    rows, total = services.access_log(learner, page, PER_PAGE)
    return render(
        "profiles/access_log.html",
        "log",
        learner=learner,
        rows=rows,
        total=total,
        page=page,
        pages=max((total + PER_PAGE - 1) // PER_PAGE, 1),
    )


# --- School-configured sections ------------------------------------------------------


def _sections_page(school_id, status=200, add_form=None, forms=None):
    definitions = services.school_section_defs(school_id, include_retired=True)
    forms = forms or {}
    edit_forms = {
        d.id: forms.get(d.id) or SectionDefForm(prefix=f"def{d.id}", obj=d, formdata=None)
        for d in definitions
    }
    return render(
        "profiles/admin_sections.html",
        status=status,
        school_id=school_id,
        schools=queries.schools_managed_by(current_user) if school_id is None else [],
        built_in=BUILT_IN,
        definitions=definitions,
        edit_forms=edit_forms,
        add_form=add_form or SectionDefForm(prefix="new", formdata=None),
    )


@bp.route("/admin/profile-sections", methods=["GET", "POST"])
@roles(*ADMIN_ROLES)
def admin_sections():
    """List a school's profile sections and add an extra one."""
    # The school being configured: ?school=, else the admin's own (a district admin picks).
    school = load_school(request.args.get("school", type=int), own_by_default=True)
    school_id = school.id if school is not None else None
    if request.method == "GET" or school_id is None:
        return _sections_page(school_id)
    form = SectionDefForm(prefix="new")
    if not form.validate_on_submit():
        return _sections_page(school_id, status=422, add_form=form)
    services.add_section_def(school_id, form.title.data, form.prompt.data)
    db.session.commit()
    return redirect_to(url_for("profiles.admin_sections", school=school_id))


@bp.route("/admin/profile-sections/<int:definition_id>", methods=["POST"])
@roles(*ADMIN_ROLES)
def admin_section(definition_id: int):
    """Rename, re-word, retire or restore a school's extra profile section."""
    definition = load_section_def(definition_id)
    form = SectionDefForm(prefix=f"def{definition.id}")
    if not form.validate_on_submit():
        return _sections_page(definition.school_id, status=422, forms={definition.id: form})
    services.update_section_def(definition, form.title.data, form.prompt.data, form.retired.data)
    db.session.commit()
    return redirect_to(url_for("profiles.admin_sections", school=definition.school_id))
