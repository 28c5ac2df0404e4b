"""bench/breakdown.py: each row sends the request it names, and its phases add up to its CPU."""

from __future__ import annotations

import gc
import inspect
import re
import sys

import flask.sessions
import pytest
from sqlmodel import Session, select

import webapp.driver
import webapp.layout
import webapp.security
from bench import breakdown, inprocess, phases, web
from tests.policy_support import load_v1
from webapp.models import User
from webapp.models.preferences import Subscription


@pytest.fixture
def with_csrf(config):
    """The site as it runs: a POST without its CSRF token is refused."""
    config["WTF_CSRF_ENABLED"] = True


def _rows(app) -> dict[str, breakdown.Page]:
    pages = breakdown.site_pages(app, people=6)
    return {p.label.split(",")[0]: p for p in pages}


def _saved_names(app) -> list[str]:
    names = [web.NAME_A["name"], web.NAME_B["name"]]
    with Session(app.extensions["sentro.engine"]) as db:
        return list(db.exec(select(User.name).where(User.name.in_(names))))


def test_the_save_row_changes_the_name_each_time_with_a_real_token(with_csrf, app):
    save = _rows(app)["htmx field save (profile)"]
    assert _saved_names(app) == [web.NAME_B["name"]]
    for values in (web.NAME_A, web.NAME_B, web.NAME_A):
        answer = save.send()
        assert 'id="field-name"' in answer.get_data(as_text=True)  # htmx's fragment
        assert _saved_names(app) == [values["name"]]
    assert save.changes is not None and save.changes() == 5  # two to set it up, three here


def test_the_one_click_row_takes_another_person_off_the_list_each_time(with_csrf, app):
    one_click = _rows(app)["one-click unsubscribe POST"]
    for sent in (1, 2, 3):
        assert one_click.send().status_code == 200
        with Session(app.extensions["sentro.engine"]) as db:
            left = db.exec(select(Subscription.user_id).where(~Subscription.subscribed)).all()
        assert len(set(left)) == sent
    assert one_click.changes is not None and one_click.changes() == 3


def test_the_signed_in_pages_send_the_cookie_a_browser_holds_after_its_first_page(with_csrf, app):
    """Its CSRF secret is in it already: a page row does not pay for a new cookie each time."""
    rows = _rows(app)
    for label in ("signed-in `/account`", "signed-in `/account/profile`"):
        answer = rows[label].send()
        assert answer.status_code == 200 and "Set-Cookie" not in answer.headers, label


def test_a_refused_request_stops_the_run_instead_of_being_measured(with_csrf, app):
    _id, cookie = inprocess.start_session(app)
    client = app.test_client(use_cookies=False)
    headers = {"Cookie": f"sentro_session={cookie}", "HX-Request": "true"}
    refused = breakdown.Page(
        "a save without its CSRF token",
        lambda: client.post("/account/profile/name", data=web.NAME_A, headers=headers),
    )
    with pytest.raises(RuntimeError, match="answered 400, not 2xx/3xx"):
        breakdown.measure([refused], 5, app)
    assert refused.sent == 1


def test_every_row_is_measured_and_its_phases_add_up(with_csrf, app, migrated):
    load_v1(app)  # what `db upgrade` stores, which /privacy shows
    rows = breakdown.measure_all(app, migrated, requests=200)
    assert [r.label for r in rows][:4] == ["hello-world", *(label for *_, label in web.FLOOR)]
    assert len(rows) == 9
    for row in rows:
        assert row.cpu_us > 0 and row.calls > 0, row
        assert sum(row.phases.values()) == pytest.approx(row.cpu_us, abs=0.5), row
    site = rows[4:]
    assert all(r.trips is not None and r.trips >= 1 for r in site if "privacy" not in r.label)
    writes = [re.fullmatch(r"(\d+) of (\d+) requests made a change", r.note) for r in site]
    counts = [(int(m[1]), int(m[2])) for m in writes if m]
    assert len(counts) == 2 and all(changed == sent > 10 for changed, sent in counts)
    table = "\n".join(breakdown.table(rows))
    assert table.count("\n") == 10 and "| hello-world | " in table


def test_the_phases_find_their_entry_points_in_the_installed_code(app):
    index = {p.key: i for i, p in enumerate(phases.PHASES)}
    assert (
        phases.phase_of(flask.sessions.SecureCookieSessionInterface.open_session.__code__)
        == (index["cookie"])
    )
    assert phases.phase_of(webapp.security.csrf_token.__code__) == index["csrf"]
    assert phases.phase_of(webapp.driver.fetch.__code__) == index["db"]
    assert phases.phase_of(webapp.layout.request_layout.__code__) == index["hooks"]
    assert phases.phase_of(_spin.__code__) == -1
    # login_required runs in the sign-in's phase, the view it wraps in the view's
    save = app.view_functions["profile.save"]
    assert phases.phase_of(save.__code__) == index["login"]
    assert phases.view_entries(app)[inspect.unwrap(save).__code__] == index["view"]


def _spin(times: int) -> None:
    for _ in range(times):
        pass


def _outer(frames: list | None = None) -> None:
    if frames is not None:
        frames.append(sys._getframe())
    _spin(20_000)
    _inner(frames)


def _inner(frames: list | None = None) -> None:
    if frames is not None:
        frames.append(sys._getframe())
    _spin(60_000)


def _nested_rules(monkeypatch) -> dict[str, int]:
    """`_outer` is the view's phase and `_inner`, which it calls, the database's."""
    index = {p.key: i for i, p in enumerate(phases.PHASES)}
    here = "tests/test_bench_breakdown.py"
    rules = [(index["view"], f"{here}:_outer$"), (index["db"], f"{here}:_inner$")]
    monkeypatch.setattr(phases, "_RULES", [(i, re.compile(rule)) for i, rule in rules])
    return index


def test_a_sample_is_charged_to_the_nearest_phase_on_its_stack(monkeypatch):
    index = _nested_rules(monkeypatch)
    frames: list = []
    _outer(frames)
    in_outer, in_inner = frames
    assert phases._phase_at(in_inner, {}) == index["db"]
    assert phases._phase_at(in_outer, {}) == index["view"]
    assert phases._phase_at(in_outer.f_back, {}) == phases.CLIENT


def test_a_nested_phase_is_charged_its_own_time_and_no_more(monkeypatch):
    """`_inner` (three quarters of the work) runs inside `_outer`: each gets its own share.

    The timer samples wall time, so a busy machine (CI runs two suites side by side) spreads
    the shares: the bounds allow for that and still fail if the nested phase took all the
    time or none of it.
    """
    _nested_rules(monkeypatch)
    gc.disable()  # a collection of the suite's garbage would land in one phase or the other
    try:
        cpu = min(inprocess.cpu_per_request(_outer, 20) for _ in range(3))
        split = phases.attribute(phases.sample(_outer, 400), cpu)
    finally:
        gc.enable()
    assert sum(split.values()) == pytest.approx(cpu)
    assert split["db"] / cpu == pytest.approx(0.75, abs=0.2)
    assert split["view"] / cpu == pytest.approx(0.25, abs=0.2)
