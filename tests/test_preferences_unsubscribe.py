"""Leaving a list from any email: the one-click POST (RFC 8058), the link, and what is refused."""

from __future__ import annotations

from email.message import EmailMessage
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select

from tests.conftest import body_text
from tests.test_preferences import history, make_person
from webapp import create_app, driver, tokens
from webapp.db import counting_round_trips
from webapp.models import AuditEvent, Subscription, SubscriptionChange
from webapp.preferences import links, service

ONE_CLICK = {"List-Unsubscribe": "One-Click"}


def run_campaign(app, tmp_path, list_id: str = "service-updates") -> None:
    body = tmp_path / "news.md"
    body.write_text("# News\n\nWe made **Sentro** faster.\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(
        args=["mail", "campaign", "--list", list_id, "--subject", "Faster", "--body", str(body)]
    )
    assert result.exit_code == 0, result.output


def unsubscribe_path(message: EmailMessage) -> str:
    header = message["List-Unsubscribe"]
    assert header.startswith("<http://localhost/") and header.endswith(">")
    return header[1:-1].removeprefix("http://localhost")


def cookieless(app):
    """What a mail program's POST looks like: no cookie jar at all."""
    return app.test_client(use_cookies=False)


def on_lists(db: Session, user_id: int) -> dict[str, bool]:
    db.rollback()  # see what the app committed since this session last read
    return {c.mailing_list.id: c.subscribed for c in service.choices(db, user_id)}


# --- what the issue asks to be shown ----------------------------------------------------


def test_a_campaign_email_carries_both_headers_the_list_id_and_the_footer(
    app, db, outbox, tmp_path
):
    make_person(db, "ana", email="ana@example.com")
    run_campaign(app, tmp_path)
    message = outbox.last_to("ana@example.com")
    assert message["Subject"] == "Faster"
    assert message["List-Unsubscribe"].startswith("<http://localhost/email/unsubscribe/")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["List-Id"] == '"Service updates" <service-updates.lists.sentro.co>'
    text = body_text(message)
    assert "We made **Sentro** faster." in text  # the text part is the Markdown source
    assert "You are receiving this because you are on Sentro's “Service updates” list." in text
    assert f'Unsubscribe from "Service updates": {message["List-Unsubscribe"][1:-1]}' in text
    assert "Manage all your email preferences: http://localhost/email-preferences/" in text
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "<strong>Sentro</strong>" in html
    assert "Unsubscribe from “Service updates”" in html


def test_one_click_without_cookies_turns_only_that_list_off(app, db, outbox, tmp_path):
    user_id = make_person(db, "ana", email="ana@example.com")
    service.set_subscription(db, user_id, "offers", True, "page")
    run_campaign(app, tmp_path)
    before = on_lists(db, user_id)
    response = cookieless(app).post(
        unsubscribe_path(outbox.last_to("ana@example.com")), data=ONE_CLICK
    )
    assert response.status_code == 200
    assert "Location" not in response.headers
    assert "Set-Cookie" not in response.headers
    assert "Unsubscribed from “Service updates”" in response.get_data(as_text=True)
    assert on_lists(db, user_id) == {**before, "service-updates": False}
    assert history(db, user_id)[-1] == ("service-updates", False, "one-click")
    assert (
        service.choice(db, user_id, "service-updates").how == "with one click in your mail program"
    )


def test_one_click_as_multipart_works_too(app, db):
    user_id = make_person(db)
    with app.app_context():
        path = links.unsubscribe_url(user_id, "policy-updates").removeprefix("http://localhost")
    response = cookieless(app).post(path, data=ONE_CLICK, content_type="multipart/form-data")
    assert response.status_code == 200
    assert not service.is_subscribed(db, user_id, "policy-updates")


@pytest.mark.parametrize(
    ("body", "content_type", "via"),
    [
        ("List-Unsubscribe=One-Click", "application/x-www-form-urlencoded", "one-click"),
        (
            "List-Unsubscribe=One-Click",
            "application/x-www-form-urlencoded; charset=utf-8",
            "one-click",
        ),
        ("List-Unsubscribe=One-Click&x=1", "application/x-www-form-urlencoded", "one-click"),
        ("List-Unsubscribe=One%2DClick", "application/x-www-form-urlencoded", "one-click"),
        ("List-Unsubscribe=One-Click", "text/plain", "email-link"),
        ("List-Unsubscribe=one-click", "application/x-www-form-urlencoded", "email-link"),
    ],
)
def test_one_click_is_read_from_the_body_however_it_is_encoded(app, db, body, content_type, via):
    user_id = make_person(db)
    with app.app_context():
        path = links.unsubscribe_url(user_id, "service-updates").removeprefix("http://localhost")
    response = cookieless(app).post(path, data=body, content_type=content_type)
    assert response.status_code == 200
    assert history(db, user_id) == [("service-updates", False, via)]


def test_repeating_one_click_answers_the_same_and_changes_nothing_more(app, db):
    user_id = make_person(db)
    with app.app_context():
        path = links.unsubscribe_url(user_id, "service-updates").removeprefix("http://localhost")
    answers = [cookieless(app).post(path, data=ONE_CLICK) for _ in range(3)]
    assert {a.status_code for a in answers} == {200}
    assert len({a.get_data(as_text=True) for a in answers}) == 1
    assert history(db, user_id) == [("service-updates", False, "one-click")]


def test_one_click_is_one_short_transaction(app, db, count_queries):
    user_id = make_person(db)
    with app.app_context():
        path = links.unsubscribe_url(user_id, "service-updates").removeprefix("http://localhost")
    client = cookieless(app)
    with count_queries() as statements:
        assert client.post(path, data=ONE_CLICK).status_code == 200
    # the conditional upsert, the history row, the audit row: on PostgreSQL as one statement
    assert len(statements) == (1 if _postgres(app) else 3)
    assert history(db, user_id) == [("service-updates", False, "one-click")]


def _postgres(app) -> bool:
    return app.extensions["sentro.engine"].dialect.name == "postgresql"


@pytest.mark.parametrize("list_id", ["service-updates", "offers"])  # away from / back to default
def test_one_click_is_one_round_trip_on_postgresql_one_transaction_on_sqlite(app, db, list_id):
    """No BEGIN and no COMMIT: one statement in autocommit is its own transaction."""
    user_id = make_person(db)
    if list_id == "offers":
        service.set_subscription(db, user_id, list_id, True, "page")
    with app.app_context():
        path = links.unsubscribe_url(user_id, list_id).removeprefix("http://localhost")
    client = cookieless(app)
    for repeat in range(2):  # the change, then the same request again: nothing to change
        with counting_round_trips(app.extensions["sentro.engine"]) as trips:
            assert client.post(path, data=ONE_CLICK).status_code == 200
        if _postgres(app):
            assert len(trips) == 1, trips
        else:
            verbs = [t.split()[0].upper() for t in trips]
            assert verbs[0] == "BEGIN" and verbs[-1] == ("ROLLBACK" if repeat else "COMMIT")
    assert history(db, user_id)[-1] == (list_id, False, "one-click")
    assert len([h for h in history(db, user_id) if h[2] == "one-click"]) == 1
    audit = db.exec(select(AuditEvent).where(AuditEvent.user_id == user_id)).all()[-1]
    assert (audit.actor, audit.actor_id, audit.action, audit.field) == (
        "self",
        None,
        "email-list.left",
        list_id,
    )
    assert (audit.old_value, audit.new_value, audit.ip, audit.ip_reduced) == ("", "", None, False)


def test_a_get_repeated_changes_nothing(app, db, outbox, tmp_path):
    user_id = make_person(db, "ana", email="ana@example.com")
    run_campaign(app, tmp_path)
    path = unsubscribe_path(outbox.last_to("ana@example.com"))
    client = cookieless(app)
    for _ in range(3):
        page = client.get(path)
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert f'<form method="post" action="{path}">' in html
        main = html.split('<main id="main"', 1)[1].split("</main>", 1)[0]
        assert main.count("<button") == 1  # the page's one button
        assert "/email-preferences/" in html
    assert service.is_subscribed(db, user_id, "service-updates")
    assert db.exec(select(Subscription)).all() == []
    assert history(db, user_id) == []


def test_a_head_request_changes_nothing(app, db):
    """Link scanners and prefetchers send HEAD as well as GET: only a POST leaves a list."""
    user_id = make_person(db)
    with app.app_context():
        path = links.unsubscribe_url(user_id, "service-updates").removeprefix("http://localhost")
    assert cookieless(app).head(path).status_code == 200
    assert service.is_subscribed(db, user_id, "service-updates")
    assert history(db, user_id) == []


def test_the_pages_button_unsubscribes_and_confirms(app, db):
    user_id = make_person(db)
    with app.app_context():
        path = links.unsubscribe_url(user_id, "service-updates").removeprefix("http://localhost")
    client = app.test_client()
    response = client.post(path)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "You are unsubscribed from “Service updates”" in html
    assert "Manage all your email preferences" in html
    assert history(db, user_id) == [("service-updates", False, "email-link")]
    assert "You are not on" in client.get(path).get_data(as_text=True)


def test_links_issued_before_a_key_rotation_still_work_after_it(config, db, outbox, tmp_path):
    old = create_app(config)
    user_id = make_person(db, "ana", email="ana@example.com")
    run_campaign(old, tmp_path)
    message = outbox.last_to("ana@example.com")
    path = unsubscribe_path(message)
    preference_link = next(
        line.split(": ", 1)[1]
        for line in body_text(message).splitlines()
        if line.startswith("Manage all your email preferences: ")
    )
    old.extensions["sentro.engine"].dispose()

    rotated = create_app(
        {**config, "SECRET_KEY": "r" * 48, "SECRET_KEY_FALLBACKS": [config["SECRET_KEY"]]}
    )
    client = cookieless(rotated)
    assert client.get(preference_link.removeprefix("http://localhost")).status_code == 200
    assert client.post(path, data=ONE_CLICK).status_code == 200
    assert not service.is_subscribed(db, user_id, "service-updates")
    with rotated.app_context():
        assert links.unsubscribe_url(user_id, "offers") != path  # new links use the new key
    rotated.extensions["sentro.engine"].dispose()


# --- what is refused ----------------------------------------------------------------------


def _forged(app, user_id: int, kind: str) -> str:
    with app.app_context():
        good = tokens.make(tokens.UNSUBSCRIBE, [user_id, "service-updates"])
        return {
            "truncated": good[:-3],
            "extended": good + "A",
            "flipped": good[:-1] + ("A" if good[-1] != "A" else "B"),
            "other-purpose": tokens.make(tokens.PREFERENCES, user_id),
            "email-change": tokens.make(tokens.EMAIL_CHANGE, [user_id, "service-updates"]),
            "not-a-pair": tokens.make(tokens.UNSUBSCRIBE, {"user": user_id}),
            "id-as-text": tokens.make(tokens.UNSUBSCRIBE, [str(user_id), "service-updates"]),
            "id-as-bool": tokens.make(tokens.UNSUBSCRIBE, [True, "service-updates"]),
            "transactional": tokens.make(tokens.UNSUBSCRIBE, [user_id, "account"]),
            "unknown-list": tokens.make(tokens.UNSUBSCRIBE, [user_id, "newsletter"]),
            "garbage": "not.a.token",
        }[kind]


@pytest.mark.parametrize(
    ("kind", "status", "words"),
    [
        ("truncated", 400, "damaged"),
        ("extended", 400, "damaged"),
        ("flipped", 400, "damaged"),
        ("other-purpose", 400, "damaged"),
        ("email-change", 400, "damaged"),
        ("not-a-pair", 400, "damaged"),
        ("id-as-text", 400, "damaged"),
        ("id-as-bool", 400, "damaged"),
        ("transactional", 400, "damaged"),
        ("unknown-list", 404, "no longer exists"),
        ("garbage", 400, "damaged"),
    ],
)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_bad_token_gets_a_clear_4xx_and_nothing_changes(app, db, kind, status, words, method):
    user_id = make_person(db)
    path = f"/email/unsubscribe/{quote(_forged(app, user_id, kind), safe='')}"
    response = cookieless(app).open(
        path, method=method, data=ONE_CLICK if method == "POST" else None
    )
    assert response.status_code == status
    assert words in response.get_data(as_text=True)
    assert "Nothing was changed" in response.get_data(as_text=True)
    assert db.exec(select(Subscription)).all() == []


@pytest.mark.parametrize("status", ["closed", "erased", None])
@pytest.mark.parametrize("body", [ONE_CLICK, {}])
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_closed_or_unknown_account_gets_a_calm_page(app, db, status, body, method):
    user_id = make_person(db, status=status) if status else 31337
    with app.app_context():
        path = links.unsubscribe_url(user_id, "offers").removeprefix("http://localhost")
    response = cookieless(app).open(path, method=method, data=body if method == "POST" else None)
    assert response.status_code == 200
    assert "on no" in response.get_data(as_text=True) and "list" in response.get_data(as_text=True)
    assert db.exec(select(Subscription)).all() == []


def test_a_broken_database_answers_503_never_success(config, migrated, tmp_path, app, db):
    user_id = make_person(db)
    with app.app_context():
        path = links.unsubscribe_url(user_id, "service-updates").removeprefix("http://localhost")
    broken = create_app({**config, "DATABASE_URL": f"sqlite:///{tmp_path}/missing/dir/db.sqlite3"})
    response = cookieless(broken).post(path, data=ONE_CLICK)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert "Unsubscribed" not in response.get_data(as_text=True)


@pytest.mark.parametrize("body", [ONE_CLICK, {}])
def test_a_commit_that_fails_answers_503_and_leaves_the_person_subscribed(
    app, db, body, monkeypatch
):
    user_id = make_person(db)
    with app.app_context():
        path = links.unsubscribe_url(user_id, "service-updates").removeprefix("http://localhost")

    def fail(*_args) -> None:
        raise OperationalError("COMMIT", {}, Exception("disk I/O error"))

    # Where the change becomes durable: the COMMIT, or on PostgreSQL the one statement that
    # runs in autocommit (its own transaction, with no COMMIT of its own to fail). The link's
    # path runs at the driver level (webapp.driver), past SQLAlchemy's events.
    if _postgres(app):
        monkeypatch.setattr(driver.Plain, "execute", fail)
    else:
        monkeypatch.setattr(driver.Plain, "commit", fail)
    response = cookieless(app).post(path, data=body)
    assert response.status_code == 503
    assert service.is_subscribed(db, user_id, "service-updates")
    assert history(db, user_id) == []


# --- no input makes a 5xx -------------------------------------------------------------------

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
texts = st.text(min_size=0, max_size=120)


@FUZZ
@given(
    token=texts,
    body=st.dictionaries(texts, texts, max_size=3),
    method=st.sampled_from(["GET", "POST"]),
)
def test_no_token_or_body_makes_a_5xx_on_the_unsubscribe_link(app, token, body, method):
    response = cookieless(app).open(
        f"/email/unsubscribe/{quote(token, safe='')}", method=method, data=body or None
    )
    assert response.status_code < 500
    assert response.status_code != 200  # only a token Sentro signed can be accepted


@FUZZ
@given(
    position=st.integers(min_value=0, max_value=200),
    replacement=st.text(alphabet="ABCxyz019-_.", min_size=0, max_size=3),
    user_id=st.integers(min_value=-(2**63), max_value=2**63 - 1),
    list_id=st.text(max_size=70),
)
def test_mangled_real_tokens_never_make_a_5xx(app, position, replacement, user_id, list_id):
    with app.app_context():
        token = tokens.make(tokens.UNSUBSCRIBE, [user_id, list_id])
    cut = position % (len(token) + 1)
    mangled = token[:cut] + replacement + token[cut + len(replacement) :]
    client = cookieless(app)
    for path in (
        f"/email/unsubscribe/{quote(mangled, safe='')}",
        f"/email/unsubscribe/{quote(token, safe='')}",
    ):
        assert client.post(path, data=ONE_CLICK).status_code < 500
        assert client.get(path).status_code < 500


@FUZZ
@given(token=texts, list_id=texts, choice=texts)
def test_no_input_makes_a_5xx_on_the_emailed_preference_page(app, token, list_id, choice):
    client = cookieless(app)
    quoted = quote(token, safe="")
    assert client.get(f"/email-preferences/{quoted}").status_code < 500
    assert (
        client.post(
            f"/email-preferences/{quoted}/lists/{quote(list_id, safe='')}",
            data={"subscribed": choice},
        ).status_code
        < 500
    )
    assert client.post(f"/email-preferences/{quoted}/new-link").status_code < 500


@FUZZ
@given(
    payload=st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda inner: st.lists(inner, max_size=3),
        max_leaves=6,
    )
)
def test_any_signed_payload_is_handled(app, payload):
    with app.app_context():
        unsubscribe = tokens.make(tokens.UNSUBSCRIBE, payload)
        preference = tokens.make(tokens.PREFERENCES, payload)
    client = cookieless(app)
    assert client.post(f"/email/unsubscribe/{unsubscribe}", data=ONE_CLICK).status_code < 500
    assert client.get(f"/email-preferences/{preference}").status_code < 500
    assert client.post(f"/email-preferences/{preference}/new-link").status_code < 500


def test_one_click_is_the_only_post_here_without_a_csrf_token(config, db):
    app = create_app({**config, "WTF_CSRF_ENABLED": True})
    user_id = make_person(db)
    with app.app_context():
        path = links.unsubscribe_url(user_id, "service-updates").removeprefix("http://localhost")
        preference_page = f"/email-preferences/{links.preferences_token(user_id)}"
    client = cookieless(app)
    assert (
        client.post(f"{preference_page}/lists/offers", data={"subscribed": "1"}).status_code == 400
    )
    assert client.post(f"{preference_page}/new-link").status_code == 400
    assert client.post(path, data=ONE_CLICK).status_code == 200
    assert history(db, user_id) == [("service-updates", False, "one-click")]
    app.extensions["sentro.engine"].dispose()


def test_concurrent_one_clicks_are_all_stored_once(app, db):
    from concurrent.futures import ThreadPoolExecutor

    ids = [make_person(db, f"p{n}") for n in range(12)]
    with app.app_context():
        paths = [
            links.unsubscribe_url(user_id, list_id).removeprefix("http://localhost")
            for user_id in ids
            for list_id in ("service-updates", "policy-updates")
        ]

    def click(path: str) -> int:
        return cookieless(app).post(path, data=ONE_CLICK).status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(click, paths * 2))  # every link twice, at once
    assert set(statuses) == {200}
    db.rollback()
    changes = db.exec(select(SubscriptionChange)).all()
    assert len(changes) == len(paths)
    assert not any(service.may_send(db, u, "service-updates") for u in ids)
