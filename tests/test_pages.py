"""The layout, error pages and health check."""

from webapp import create_app


def test_front_page_offers_sign_in(client):
    html = client.get("/").get_data(as_text=True)
    assert "Sign in" in html
    assert 'href="#main"' in html  # skip link


def test_unknown_page_is_a_404_in_the_layout(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "find that page" in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)


def test_healthz_answers_when_the_database_does(client):
    assert client.get("/healthz").json == {"status": "ok", "database": "up"}


def test_database_down_gives_503_pages(config, migrated, tmp_path):
    app = create_app({**config, "DATABASE_URL": f"sqlite:///{tmp_path}/missing/dir/db.sqlite3"})
    client = app.test_client()
    assert client.get("/healthz").status_code == 503
    with client.session_transaction() as session:
        session["sid"] = "a-session-reference"
    page = client.get("/account")
    assert page.status_code == 503
    assert "briefly unavailable" in page.get_data(as_text=True)
    assert page.headers["Retry-After"] == "30"


def test_responses_carry_the_security_headers(client):
    headers = client.get("/").headers
    assert "unsafe-inline" not in headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert "HX-Request" in headers["Vary"]
    assert "Strict-Transport-Security" not in headers


def test_hsts_over_https(client):
    assert (
        "max-age"
        in client.get("/", base_url="https://localhost").headers["Strict-Transport-Security"]
    )


def test_dev_mail_is_not_served_outside_development(client):
    assert client.get("/dev/mail/").status_code == 404
