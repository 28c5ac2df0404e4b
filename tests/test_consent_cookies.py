"""No response sets a cookie that webapp/consent/declarations.py does not declare.

The walk reads the app's URL map, so a route another capability adds later is walked too,
signed out and signed in, without anyone remembering to list it here.
"""

from __future__ import annotations

import pytest

from webapp.consent.declarations import DECLARATIONS, Category, declaration_for


def walkable_paths(app) -> list[str]:
    """Every GET route that needs no value from the URL."""
    return sorted(
        rule.rule
        for rule in app.url_map.iter_rules()
        if "GET" in (rule.methods or ()) and not (rule.arguments - set(rule.defaults or {}))
    )


def cookies_set_by(response) -> list[str]:
    return [h.split("=", 1)[0].strip() for h in response.headers.getlist("Set-Cookie")]


def walk(client, app) -> dict[str, list[str]]:
    """Visit every walkable path; return, per path, the cookies it set (undeclared or not)."""
    found = {}
    for path in walkable_paths(app):
        response = client.get(path)
        assert response.status_code < 500, f"{path} answered {response.status_code}"
        found[path] = cookies_set_by(response)
    return found


def undeclared(found: dict[str, list[str]]) -> dict[str, list[str]]:
    offenders = {
        path: [n for n in names if declaration_for(n) is None] for path, names in found.items()
    }
    return {path: names for path, names in offenders.items() if names}


def test_the_walk_covers_the_routes_of_every_capability(app):
    paths = walkable_paths(app)
    assert {"/", "/account", "/privacy/cookies", "/account/privacy-controls"} <= set(paths)
    assert "/static/<path:filename>" not in paths


def test_no_route_sets_an_undeclared_or_optional_cookie_for_a_visitor(app, client):
    found = walk(client, app)
    assert any("sentro_session" in names for names in found.values())  # the walk sees cookies
    assert undeclared(found) == {}
    optional = {
        p: [n for n in names if declaration_for(n).needs_consent] for p, names in found.items()
    }
    assert {p: n for p, n in optional.items() if n} == {}


def test_no_route_sets_an_undeclared_cookie_for_a_signed_in_person(app, client, person):
    assert undeclared(walk(client, app)) == {}


def test_no_route_sets_an_undeclared_cookie_for_staff(app, client, staff):
    assert undeclared(walk(client, app)) == {}


def test_no_route_sets_an_undeclared_cookie_after_consent(app, client, person):
    client.post("/account/privacy-controls/banner", data={"decision": "accept"})
    client.set_cookie("_ga", "GA1.1.1")
    assert undeclared(walk(client, app)) == {}


def test_the_walk_catches_a_route_that_sets_an_undeclared_cookie(app, client):
    @app.get("/_sets_a_tracker")
    def tracker():
        return "hello", 200, {"Set-Cookie": "tracker=1; Path=/"}

    assert undeclared(walk(client, app)) == {"/_sets_a_tracker": ["tracker"]}


def test_the_session_cookie_lives_as_long_as_declared(client):
    """A browser-session cookie: if the session becomes permanent, the declaration must say so."""
    response = client.get("/")  # the form's CSRF token starts the session
    (header,) = [
        h for h in response.headers.getlist("Set-Cookie") if h.startswith("sentro_session=")
    ]
    assert declaration_for("sentro_session").lifetime.startswith("Until you close the browser")
    assert "Max-Age" not in header and "Expires" not in header, header


def test_the_consent_answers_set_only_declared_cookies(client):
    for path, data in (
        ("/account/privacy-controls/banner", {"decision": "accept"}),
        ("/account/privacy-controls", {"analytics": "refuse"}),
    ):
        names = cookies_set_by(client.post(path, data=data))
        assert names and all(declaration_for(n) for n in names), names


@pytest.mark.parametrize(
    ("name", "declared_as"),
    [
        ("sentro_session", "sentro_session"),
        ("sentro_consent", "sentro_consent"),
        ("_ga", "_ga"),
        ("_ga_ABC123XYZ", "_ga_<id>"),
        ("_ga_", None),
        ("_gat", None),
        ("_ga_ABC;evil", None),
        ("sentro_session2", None),
    ],
)
def test_names_match_their_declaration_exactly(name, declared_as):
    found = declaration_for(name)
    assert (found.name if found else None) == declared_as


def test_every_declaration_says_what_people_need_to_know():
    names = [d.name for d in DECLARATIONS]
    assert len(names) == len(set(names))
    for declared in DECLARATIONS:
        assert declared.purpose and declared.lifetime and declared.set_by
        assert declared.needs_consent == (declared.category is not Category.ESSENTIAL)
