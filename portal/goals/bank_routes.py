"""The school's strategy bank: list, add, reword, retire and restore strategies."""

from __future__ import annotations

from flask import flash, make_response, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from portal.auth.models import Role
from portal.core.extensions import db
from portal.core.i18n import gettext as _
from portal.core.web import redirect_to, render, render_invalid, wants_fragment
from portal.goals import queries, services
from portal.goals.blueprint import bp
from portal.goals.forms import StrategyForm
from portal.policy import load_school, load_strategy, manageable_school_ids, roles
from portal.roster.models import Org

# --- The school's strategy bank -------------------------------------------------------------
# Teachers keep their own school's bank; admins the banks of the schools they manage.
# Entries are reworded or retired, never deleted: goal versions keep their own copy.

KEEPERS = (Role.TEACHER, Role.SCHOOL_ADMIN, Role.DISTRICT_ADMIN)


@bp.route("/strategies", methods=["GET", "POST"])
@roles(*KEEPERS)
def strategies():
    """List my school's strategy bank, active and retired, and add a strategy to it."""
    school = load_school(request.args.get("school", type=int), keeper=True, own_by_default=True)
    if school is None:
        return render("goals/strategies.html", school=None, schools=_keepable_schools())
    form = StrategyForm(prefix="new").bind(school.id)
    if request.method == "POST":
        if not form.validate():
            return render_invalid(
                "goals/strategies.html", "strategy_bank", **_bank_context(school, form)
            )
        strategy = services.add_strategy(school.id, form.text.data, form.text_es.data)
        db.session.commit()
        if wants_fragment():
            return _bank_fragment(school, _("Strategy added: %(text)s", text=strategy.text))
        flash(_("Strategy added."))
        return redirect_to(url_for("goals.strategies", school=school.id))
    return render("goals/strategies.html", "strategy_bank", **_bank_context(school, form))


@bp.route("/strategies/<int:strategy_id>/edit", methods=["GET", "POST"])
@roles(*KEEPERS)
def edit_strategy(strategy_id: int):
    """Reword one strategy of my school's bank (the row in place, or the page without JS)."""
    strategy = load_strategy(strategy_id)
    form = StrategyForm(
        prefix=f"s{strategy.id}", formdata=None if request.method == "GET" else request.form
    ).bind(strategy.school_id, strategy)
    if request.method == "GET":
        form.text.data = strategy.text
        form.text_es.data = strategy.text_es or ""
        return _bank_row_or_page(strategy, form)
    if not form.validate():
        return _bank_row_or_page(strategy, form, status=422)
    services.reword_strategy(strategy, form.text.data, form.text_es.data)
    db.session.commit()
    if wants_fragment():
        return _bank_row_or_page(strategy, None)
    flash(_("Strategy saved."))
    return redirect_to(url_for("goals.strategies", school=strategy.school_id))


@bp.route("/strategies/<int:strategy_id>/retire", methods=["POST"])
@roles(*KEEPERS)
def retire_strategy(strategy_id: int):
    """Stop offering a strategy to learners; goals that chose it keep its wording."""
    return _set_strategy_active(strategy_id, active=False)


@bp.route("/strategies/<int:strategy_id>/restore", methods=["POST"])
@roles(*KEEPERS)
def restore_strategy(strategy_id: int):
    """Offer a retired strategy to learners again."""
    return _set_strategy_active(strategy_id, active=True)


def _set_strategy_active(strategy_id: int, *, active: bool):
    strategy = load_strategy(strategy_id)
    services.set_strategy_active(strategy, active)
    db.session.commit()
    school = db.session.get(Org, strategy.school_id)
    if active:
        message = _("Strategy restored: %(text)s", text=strategy.text)
    else:
        message = _("Strategy retired: %(text)s", text=strategy.text)
    if wants_fragment():
        return _bank_fragment(school, message)
    flash(message)
    return redirect_to(url_for("goals.strategies", school=school.id))


def _keepable_schools() -> list[Org]:
    return list(
        db.session.scalars(
            select(Org).where(Org.id.in_(manageable_school_ids(current_user))).order_by(Org.name)
        )
    )


def _bank_context(school: Org, form: StrategyForm, **extra) -> dict:
    bank = queries.school_strategies(school.id)
    return {
        "school": school,
        "schools": [],
        "form": form,
        "active": [s for s in bank if s.active],
        "retired": [s for s in bank if not s.active],
        "edit_forms": {},
        **extra,
    }


def _bank_fragment(school: Org, message: str):
    """After an htmx change: the whole bank again, with a fresh add form and a status line."""
    form = StrategyForm(prefix="new", formdata=None).bind(school.id)
    return render(
        "goals/strategies.html", "strategy_bank", **_bank_context(school, form, saved=message)
    )


def _bank_row_or_page(strategy, form: StrategyForm | None, status: int = 200):
    """htmx: just the strategy's row (edit mode when form is given); else the whole page."""
    if wants_fragment():
        response = make_response(
            render_template("goals/_bank_row.html", strategy=strategy, edit_form=form), status
        )
        return response
    school = db.session.get(Org, strategy.school_id)
    add_form = StrategyForm(prefix="new", formdata=None).bind(school.id)
    edit_forms = {strategy.id: form} if form is not None else {}
    context = _bank_context(school, add_form, edit_forms=edit_forms)
    response = make_response(render_template("goals/strategies.html", **context), status)
    return response
