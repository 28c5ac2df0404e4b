"""`/privacy/cookies`, `/account/privacy-controls` and the consent banner's answer."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, make_response, render_template, request, url_for
from flask_login import current_user

from .. import db
from ..auth import current
from ..pages import page_or_fragment, safe_next, see_other, wants_fragment
from . import service, web
from .declarations import CATEGORY_TEXT, DECLARATIONS, Kind, by_category
from .service import ANALYTICS, BANNER, CONTROLS, PURPOSES, Choices, ConsentState

bp = Blueprint("consent", __name__)
bp.record_once(lambda state: web.init_app(state.app))

BANNER_ID = "consent-banner"
CONTROLS_ID = "privacy-controls"
SAVED = "Your privacy choices are saved."
#: A signed-in person's recent choices come with the person's own read: one round trip.
current.read_with_person("consent.controls", service.HISTORY_BY_SESSION)


@bp.get("/privacy/cookies")
def cookies():
    """Every cookie and storage key the site sets, generated from the declarations."""
    return render_template(
        "consent/cookies.html",
        groups=by_category(),
        category_text=CATEGORY_TEXT,
        unused_kinds=[k for k in Kind if all(d.kind is not k for d in DECLARATIONS)],
        analytics_on=bool(current_app.config["GA_MEASUREMENT_ID"]),
    )


@bp.get("/account/privacy-controls")
def controls():
    """Choose analytics, personalisation and research, each separately (signed in or not)."""
    return _render_controls()


@bp.post("/account/privacy-controls")
def save_controls():
    """Store the choices made on the controls page."""
    parsed = service.parse_controls(request.form, gpc=web.sends_gpc())
    if not parsed.ok:
        return _render_controls(errors=parsed.errors, submitted=request.form, status=422)
    return _save(parsed.requested, CONTROLS, target=CONTROLS_ID, back=url_for(".controls"))


@bp.post("/account/privacy-controls/banner")
def answer_banner():
    """The banner's "Accept all" or "Reject all"; back to the page it was on."""
    parsed = service.parse_banner(request.form.get("decision"))
    back = safe_next(request.form.get("next")) or url_for("public.home")
    if not parsed.ok:
        if wants_fragment(BANNER_ID):
            body = render_template(
                "consent/_banner_region.html", banner_errors=parsed.errors, next_path=back
            )
            return body, 422
        # A plain form: the controls page is where every choice can be made.
        return _render_controls(errors={"form": parsed.errors["decision"]}, status=422)
    return _save(parsed.requested, BANNER, target=BANNER_ID, back=back)


def _save(requested: dict[str, bool], source: str, *, target: str, back: str):
    before = web.consent_state()
    current = web.current_choices()
    decisions = service.decide(current, requested, source=source, gpc=before.gpc)
    if current_user.is_authenticated:
        session = db.session()
        version = service.policy_version_in_effect(session)
        service.record_for_user(
            session, current_user._get_current_object(), decisions, policy_version=version
        )
    after = ConsentState(service.apply(current, decisions), gpc=before.gpc)
    web.use_state(after)
    tag_changed = bool(current_app.config["GA_MEASUREMENT_ID"]) and (
        before.allows(ANALYTICS) != after.allows(ANALYTICS)
    )
    if wants_fragment(target) and not tag_changed:
        if target == BANNER_ID:
            response = make_response(render_template("consent/_banner_region.html", saved=True))
        else:
            response = make_response(_controls_fragment(saved=True, changed=tuple(requested)))
    elif wants_fragment(target):
        # The analytics tag, and the CSP that admits it, belong to a whole page: reload it.
        flash(SAVED, "success")
        response = make_response("", 200, {"HX-Refresh": "true"})
    else:
        flash(SAVED, "success")
        response = see_other(back)
    web.remember_in_browser(response, after.choices)
    return response


def _controls_context(
    *, errors=None, submitted=None, saved: bool = False, changed: tuple[str, ...] = ()
) -> dict:
    state = web.consent_state()
    signed_in = current_user.is_authenticated
    return {
        "state": state,
        "purposes": PURPOSES,
        "chosen": _shown_values(state.choices, submitted),
        "errors": errors or {},
        "saved": saved,
        "changed": changed,
        "signed_in": signed_in,
        "history": service.history(
            db.engine(), current_user.id, rows=current.read_with_person_rows()
        )
        if signed_in
        else [],
        "purpose_labels": {p.id: p.label for p in PURPOSES},
        "source_labels": service.SOURCE_LABELS,
    }


def _shown_values(choices: Choices, submitted) -> dict[str, str]:
    shown = {}
    for purpose in PURPOSES:
        value = choices.get(purpose.id)
        shown[purpose.id] = "" if value is None else service.ALLOW if value else service.REFUSE
        if submitted is not None and submitted.get(purpose.id) in (service.ALLOW, service.REFUSE):
            shown[purpose.id] = submitted.get(purpose.id)
    return shown


def _render_controls(*, errors=None, submitted=None, status: int = 200):
    return page_or_fragment(
        "consent/controls.html",
        "consent/_controls.html",
        CONTROLS_ID,
        status=status,
        **_controls_context(errors=errors, submitted=submitted),
    )


def _controls_fragment(*, saved: bool, changed: tuple[str, ...] = ()) -> str:
    return render_template(
        "consent/_controls.html", **_controls_context(saved=saved, changed=changed)
    )
