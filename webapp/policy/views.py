"""`/privacy`: the policy in effect, every version, comparisons; acknowledging a new version."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, current_app, flash, g, render_template, request, url_for
from flask_login import current_user, login_required

from .. import db
from ..auth.current import read_with_person, read_with_person_results, read_with_person_rows
from ..models import utcnow
from ..pages import page_or_fragment, safe_next, see_other, wants_fragment
from ..security import client_ip
from . import reading, service

bp = Blueprint("policy", __name__, url_prefix="/privacy")
CACHE = "sentro.policy.timeline"
PAGES = "sentro.policy.pages"
_UNKNOWN = object()


def _compare_parameters() -> dict[str, int | None]:
    return reading.compare_parameters(request.args.get("from"), request.args.get("to"))


#: A signed-in person's read brings the page's own: one round trip (`read_with_person_results`).
read_with_person("policy.versions", reading.VERSIONS)
read_with_person(
    "policy.compare", service.TIMELINE, reading.COMPARED, parameters=_compare_parameters
)


@bp.record_once
def _install(state) -> None:
    state.app.extensions[CACHE] = service.TimelineCache()
    state.app.extensions[PAGES] = service.PageCache()


def today() -> date:
    """The date the pages judge versions by (UTC)."""
    return utcnow().date()


def timeline() -> service.Timeline:
    """This process's cached timeline of versions (at most one cheap query per TTL)."""
    return current_app.extensions[CACHE].get(db.session)


@bp.app_template_global("policy_banner")
def policy_banner() -> service.Banner | None:
    """The banner for the signed-in person, if a newer version is in effect than they saw."""
    user = current_user._get_current_object()  # type: ignore[attr-defined]
    if not user.is_authenticated:
        return None
    found = g.get("policy_banner", _UNKNOWN)  # the layout and /account's list both ask
    if found is _UNKNOWN:
        found = g.policy_banner = service.banner(user, timeline(), today())
    return found


@bp.get("")
def current():
    """The version in effect, its number and date, and word of any upcoming version."""
    dated = timeline()  # the banner's timeline: page and banner agree on the version
    in_effect = service.in_effect(dated, today())
    shown = in_effect and current_app.extensions[PAGES].get(db.session, in_effect.number)
    if not shown:
        abort(404)
    upcoming = [v for v in dated if v.number > shown.number]
    return render_template(
        "policy/current.html",
        version=shown,
        title=shown.title,
        body=shown.body,
        upcoming=upcoming[-1] if upcoming else None,
    )


@bp.get("/versions")
def versions():
    """Every version, newest first, with its summary, dates and status."""
    read = read_with_person_rows()
    rows = reading.versions_page(db.engine(), today(), rows=read)
    return render_template("policy/versions.html", rows=rows)


@bp.get("/versions/<int:number>")
def version(number: int):
    """One version in full."""
    shown = current_app.extensions[PAGES].get(db.session, number)
    if shown is None:
        abort(404)
    return render_template(
        "policy/version.html",
        version=shown,
        title=shown.title,
        body=shown.body,
        status=service.status(number, timeline(), today()),
    )


@bp.get("/compare")
def compare():
    """Two versions, the words deleted and inserted marked; 422 when a choice is not a version."""
    old, new, on = request.args.get("from"), request.args.get("to"), today()
    result = reading.compare(db.engine(), old, new, rows=read_with_person_results())
    chosen = {
        "from": str(result.old.number) if result.old else (old or "").strip(),
        "to": str(result.new.number) if result.new else (new or "").strip(),
    }
    return page_or_fragment(
        "policy/compare.html",
        "policy/_comparison.html",
        "comparison",
        status=422 if result.errors else 200,
        result=result,
        chosen=chosen,
        on=on,
    )


@bp.post("/acknowledge")
@login_required
def acknowledge():
    """Record that the person has seen the version in effect; the banner goes away."""
    session = db.session()
    result = service.acknowledge(
        session,
        current_user,
        request.form.get("version"),
        ip=client_ip(),
        now=utcnow(),
        today=today(),
    )
    if result.errors:
        return page_or_fragment(
            "policy/acknowledge.html",
            "policy/_banner.html",
            "policy-banner",
            status=422,
            policy_banner_state=policy_banner(),
            policy_banner_errors=result.errors,
        )
    session.commit()
    if wants_fragment("policy-banner"):
        return render_template("policy/_banner.html", policy_banner_state=None, thanked=result)
    flash(
        f"Thank you: we noted that you have seen version {result.number} of the privacy policy.",
        "success",
    )
    return see_other(safe_next(request.form.get("next")) or url_for("account.home"))
