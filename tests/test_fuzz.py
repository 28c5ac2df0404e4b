"""Fuzzing every route from the url_map: no input, in any field the view reads, makes a 5xx.

Numbers that no id column, driver or int64 holds are sent to every field deterministically;
hypothesis explores the rest.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import routes
from tests.ownership import snapshot

ALL = routes.rules()
UNSAFE_ROUTES = [(r, m) for r in ALL for m in routes.methods(r) if m in routes.UNSAFE]


def _request(client, method: str, path: str, **kwargs):
    return client.open(path, method=method, **kwargs)


# --- fuzz: no input makes a 5xx --------------------------------------------------------

FORM_ROUTES = [(r, m) for r, m in UNSAFE_ROUTES] + [
    (r, "GET") for r in ALL if (r.arguments or routes.form_fields(r)) and "GET" in routes.methods(r)
]
text = st.text(max_size=80)
#: Numbers a field may be sent that no column, driver or int64 holds, and near misses.
AWKWARD_NUMBERS = [str(2**63), "9" * 20, str(2**31), str(2**63 - 1), "-1", "0", "１２", "1e9"]
numbers = st.one_of(st.sampled_from(AWKWARD_NUMBERS), st.integers().map(str))
headers = st.fixed_dictionaries(
    {},
    optional={
        "HX-Request": st.sampled_from(["true", "false", "", "1"]),
        "HX-Target": text.filter(lambda s: s.isprintable()),
        "HX-Trigger": text.filter(lambda s: s.isprintable()),
        "Content-Type": st.sampled_from(
            ["application/x-www-form-urlencoded", "multipart/form-data", "text/plain", "a/b"]
        ),
    },
)


@pytest.mark.parametrize(
    ("rule", "method"), FORM_ROUTES, ids=[f"{m} {routes.rule_id(r)}" for r, m in FORM_ROUTES]
)
def test_no_awkward_number_in_any_field_makes_a_server_error(
    rule, method, client, session_cookie, db
):
    """Every field the view reads, at once, holding each awkward number (no luck involved)."""
    for number in AWKWARD_NUMBERS:
        client.set_cookie("sentro_session", session_cookie)
        values = dict.fromkeys(routes.form_fields(rule), number)
        path = routes.fill(rule)
        before = snapshot(db)
        kwargs = {"query_string": values} if method == "GET" else {"data": values}
        response = _request(client, method, path, **kwargs)
        assert response.status_code < 500, f"{method} {path} {number} → {response.status_code}"
        if response.status_code >= 400:
            assert snapshot(db) == before, "a rejected request changed the database"


@pytest.fixture
def session_cookie(request, client, login_as) -> str:
    """A signed-in cookie, put back before each example (a sign-out must not stick): staff
    for a staff route, so its forms are reached, a customer otherwise."""
    rule = request.node.callspec.params["rule"]
    if routes.staff_only(rule):
        login_as("sam", email="sam@sentro.co", name="Sam Staff", groups=["sentro-staff"])
    else:
        login_as("ana", email="ana@example.com", name="Ana Customer")
    return client.get_cookie("sentro_session").value


@pytest.mark.parametrize(
    ("rule", "method"), FORM_ROUTES, ids=[f"{m} {routes.rule_id(r)}" for r, m in FORM_ROUTES]
)
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    form=st.dictionaries(text, text, max_size=6),
    raw=st.one_of(st.none(), st.binary(max_size=200)),
    extra=headers,
    arg=st.one_of(text.filter(lambda s: s and "/" not in s and s.isprintable()), st.integers()),
    data=st.data(),
)
def test_no_input_makes_a_server_error(
    rule, method, form, raw, extra, arg, data, client, session_cookie, db
):
    client.set_cookie("sentro_session", session_cookie)
    path = routes.fill(rule, {name: arg for _c, name in routes.params(rule)})
    # The fields the view reads, each with text or an awkward number, beside random ones.
    fields = {name: st.one_of(numbers, text) for name in routes.form_fields(rule)}
    form = {**form, **data.draw(st.fixed_dictionaries(fields), label="fields")}
    before = snapshot(db)
    kwargs: dict = {"headers": extra}
    if method == "GET":
        kwargs["query_string"] = form
    else:
        kwargs["data"] = raw if raw is not None else form
    response = _request(client, method, path, **kwargs)
    assert response.status_code < 500, f"{method} {path} → {response.status_code}"
    if response.status_code >= 400:
        assert snapshot(db) == before, "a rejected request changed the database"
