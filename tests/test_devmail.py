"""`/dev/mail` shows what the development mail catcher received (README: "Start here")."""

from __future__ import annotations

import mailbox
from email.message import EmailMessage

import pytest


@pytest.fixture
def dev_app(config, tmp_path):
    from webapp import create_app

    config["SENTRO_ENV"] = "development"
    app = create_app(config)
    app.instance_path = str(tmp_path)  # the catcher's Maildir lives in the instance folder
    yield app
    app.extensions["sentro.engine"].dispose()


def caught(app, subject: str, to: str, body: str) -> str:
    """Put a message where the development catcher (aiosmtpd's Mailbox handler) puts it."""
    box = mailbox.Maildir(f"{app.instance_path}/dev-mail")
    message = EmailMessage()
    message["To"], message["Subject"] = to, subject
    message.set_content(body)
    return box.add(message)


def test_an_empty_catcher_says_so(dev_app):
    page = dev_app.test_client().get("/dev/mail/")
    assert page.status_code == 200
    assert "No mail yet" in page.get_data(as_text=True)


@pytest.mark.parametrize(
    ("older", "newer"),
    [
        ("1764460800.M99P7Q1.host", "1764460800.M123456P7Q2.host"),  # same second
        ("1764460800.M500P7Q1.host", "1764460800.M500P7Q2.host"),  # same microsecond
        ("1764460800.M999999P7Q9.host", "1764460801.M5P7Q10.host"),  # the next second
        ("cur-odd-name", "1764460800.M1P7Q1.host"),  # a name of another shape: oldest
    ],
)
def test_messages_are_ordered_by_when_they_arrived_not_by_their_names_as_text(older, newer):
    from webapp.mail.devmail import arrival

    assert arrival(newer) > arrival(older)
    assert sorted([newer, older], key=arrival, reverse=True) == [newer, older]


def test_caught_mail_is_listed_newest_first_and_readable(dev_app):
    caught(dev_app, "First message", "ana@example.com", "Kia ora Ana")
    key = caught(dev_app, "Second message", "bo@example.com", "Kia ora Bo")
    client = dev_app.test_client()

    listing = client.get("/dev/mail/")
    assert listing.status_code == 200
    html = listing.get_data(as_text=True)
    assert html.index("Second message") < html.index("First message")

    one = client.get(f"/dev/mail/{key}")
    assert one.status_code == 200
    assert "Kia ora Bo" in one.get_data(as_text=True)


@pytest.mark.parametrize("key", ["no-such-message", "..", "new"])
def test_an_unknown_message_is_not_found(dev_app, key):
    caught(dev_app, "Only message", "ana@example.com", "Kia ora")
    assert dev_app.test_client().get(f"/dev/mail/{key}").status_code == 404
