"""OpenID Connect Back-Channel Logout 1.0: the provider ends sessions here, and nobody else can.

The tests' own provider (tests/fake_provider.py) signs the logout tokens, good and bad.
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from joserfc.jwk import OctKey
from sqlmodel import Session, select

from tests.fake_provider import fake_provider
from webapp.auth.backchannel import EVENT
from webapp.models import AuditEvent, UserSession

URL = "/auth/backchannel-logout"


@pytest.fixture
def fake(config):
    with fake_provider(config["OIDC_CLIENT_ID"]) as provider:
        yield provider


@pytest.fixture
def site(config, fake, app):
    """The site signing in through the fake provider (`app` empties the tables afterwards)."""
    from webapp import create_app

    site = create_app({**config, "OIDC_ISSUER": fake.url})
    yield site
    site.extensions["sentro.engine"].dispose()


@pytest.fixture
def browser(site, fake):
    """`browser(subject, sid)`: a new browser signed in at the provider's session `sid`."""

    def open_browser(subject: str = "fake-person", sid: str | None = "sid-1"):
        fake.subject, fake.sid = subject, sid
        client = site.test_client()
        start = client.get("/login")
        answer = requests.get(start.headers["Location"], allow_redirects=False, timeout=5)
        callback = urlsplit(answer.headers["Location"])
        assert client.get(f"{callback.path}?{callback.query}").status_code == 303
        assert client.get("/account").status_code == 200
        return client

    return open_browser


def signed_in(*clients) -> list[bool]:
    return [c.get("/account").status_code == 200 for c in clients]


def post(site, token) -> object:
    """The provider's own call: a form post with no cookie."""
    return site.test_client().post(URL, data={} if token is None else {"logout_token": token})


def audit_actions(site) -> list[str]:
    with Session(site.extensions["sentro.engine"]) as db:
        return [e.action for e in db.exec(select(AuditEvent)).all()]


# --- bad tokens: 400, JSON, nothing ended ------------------------------------------------


def _bad_tokens(fake) -> dict[str, str | None]:
    now = int(time.time())
    good = {"sub": "fake-person", "sid": "sid-1"}
    secret = OctKey.import_key("test-client-secret-that-is-long-enough-for-hs256")
    return {
        "bad signature": fake.logout_token(key=fake.other_key, header={"kid": "fake-1"}, **good),
        "alg none": fake.logout_token(alg="none", **good),
        "HS256 with the client secret": fake.logout_token(alg="HS256", key=secret, **good),
        "wrong iss": fake.logout_token(iss="https://evil.example", **good),
        "wrong aud": fake.logout_token(aud="someone-elses-client", **good),
        "aud list without us": fake.logout_token(aud=["a", "b"], **good),
        "nonce present": fake.logout_token(nonce="n-0S6_WzA2Mj", **good),
        "events missing": fake.logout_token(events=None, **good),
        "events wrong": fake.logout_token(events={"http://example.com/other": {}}, **good),
        "event not an object": fake.logout_token(events={EVENT: "logout"}, **good),
        "neither sub nor sid": fake.logout_token(),
        "sub not a string": fake.logout_token(sub=42),
        "expired": fake.logout_token(iat=now - 7200, exp=now - 3600, **good),
        "issued long ago": fake.logout_token(iat=now - 3600, exp=None, **good),
        "issued in the future": fake.logout_token(iat=now + 3600, **good),
        "iat missing": fake.logout_token(iat=None, **good),
        "jti missing": fake.logout_token(jti=None, **good),
        "not a JWT": "not.a.jwt",
        "empty": "",
        "no logout_token at all": None,
    }


BAD_KINDS = [
    "bad signature",
    "alg none",
    "HS256 with the client secret",
    "wrong iss",
    "wrong aud",
    "aud list without us",
    "nonce present",
    "events missing",
    "events wrong",
    "event not an object",
    "neither sub nor sid",
    "sub not a string",
    "expired",
    "issued long ago",
    "issued in the future",
    "iat missing",
    "jti missing",
    "not a JWT",
    "empty",
    "no logout_token at all",
]


@pytest.mark.parametrize("kind", BAD_KINDS)
def test_a_bad_logout_token_is_refused_and_ends_nothing(kind, site, fake, browser):
    laptop = browser("fake-person", "sid-1")
    response = post(site, _bad_tokens(fake)[kind])
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_request"
    assert response.headers["Cache-Control"] == "no-store"
    assert signed_in(laptop) == [True]
    assert audit_actions(site) == []


def test_a_replayed_jti_is_refused_and_ends_nothing_more(site, fake, browser):
    first = browser("fake-person", "sid-1")
    token = fake.logout_token(sid="sid-1")
    assert post(site, token).status_code == 200
    again = browser("fake-person", "sid-1")  # the provider reuses the sid after a new sign-in
    replay = post(site, token)
    assert replay.status_code == 400 and "jti" in replay.get_json()["error_description"]
    assert signed_in(first, again) == [False, True]


# --- good tokens: exactly the sessions the specification says ----------------------------


def test_a_sid_ends_that_session_only(site, fake, browser):
    phone, laptop = browser("fake-person", "sid-1"), browser("fake-person", "sid-2")
    response = post(site, fake.logout_token(sid="sid-1"))
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert signed_in(phone, laptop) == [False, True]
    assert audit_actions(site) == ["signed-out-by-provider"]


def test_a_sub_alone_ends_every_session_of_that_person(site, fake, browser):
    phone, laptop = browser("fake-person", "sid-1"), browser("fake-person", None)
    stranger = browser("someone-else", "sid-9")
    assert post(site, fake.logout_token(sub="fake-person")).status_code == 200
    assert signed_in(phone, laptop, stranger) == [False, False, True]


@pytest.mark.parametrize("expiry", ["exp in two minutes", "no exp (older Keycloak)"])
def test_keycloaks_shape_sid_and_sub_ends_that_session_of_that_person(site, fake, browser, expiry):
    """Keycloak's TokenManager.initLogoutToken: jti, iat, exp (2 min; absent before 2023),
    iss, aud (a string), sub, sid (with "Backchannel logout session required"), typ "Logout",
    and the offline-token revocation event (a boolean) beside the logout event."""
    phone, laptop = browser("fake-person", "sid-1"), browser("fake-person", "sid-2")
    token = fake.logout_token(
        sub="fake-person",
        sid="sid-1",
        typ="Logout",
        exp=None if expiry.startswith("no") else int(time.time()) + 120,
        events={
            EVENT: {},
            "http://schemas.openid.net/event/backchannel-logout-revoke-offline-tokens": True,
        },
    )
    assert post(site, token).status_code == 200
    assert signed_in(phone, laptop) == [False, True]


def test_a_sid_with_another_persons_sub_ends_nothing(site, fake, browser):
    phone = browser("fake-person", "sid-1")
    assert post(site, fake.logout_token(sub="someone-else", sid="sid-1")).status_code == 200
    assert signed_in(phone) == [True]


def test_a_token_for_nobody_here_is_still_a_success(site, fake):
    assert post(site, fake.logout_token(sub="never-signed-in-here")).status_code == 200


def test_the_ended_sessions_id_tokens_are_gone(site, fake, browser):
    browser("fake-person", "sid-1")
    post(site, fake.logout_token(sid="sid-1"))
    with Session(site.extensions["sentro.engine"]) as db:
        [row] = db.exec(select(UserSession)).all()
    assert row.ended_at is not None and row.id_token is None and row.end_reason == "provider-logout"


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    body=st.one_of(
        st.binary(max_size=300),
        st.dictionaries(st.sampled_from(["logout_token", "x"]), st.text(max_size=300)),
    ),
    kind=st.sampled_from(
        [
            "application/x-www-form-urlencoded",
            "multipart/form-data",
            "text/plain",
            "application/json",
        ]
    ),
)
def test_no_body_makes_a_server_error(site, body, kind):
    client = site.test_client()
    if isinstance(body, dict):
        response = client.post(URL, data=body)
    else:
        response = client.post(URL, data=body, content_type=kind)
    assert response.status_code in {200, 400, 413}
