"""The outbox: written with the change, delivered over real SMTP, each message exactly once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from webapp import create_app
from webapp import db as database
from webapp.mail import queue_email
from webapp.mail.delivery import backoff, deliver_due
from webapp.mail.smtp import SmtpServer
from webapp.models import OutboxMessage, utcnow


def _queue(app, count: int = 3) -> None:
    with app.test_request_context():
        session = database.session()
        for n in range(count):
            queue_email(
                session,
                template="test_notice",
                to=f"person{n}@example.com",
                context={"name": f"Person {n}"},
            )
        session.commit()


@pytest.fixture(autouse=True)
def _notice_template(app, tmp_path):
    """A tiny email template of the tests' own, found after the site's templates."""
    import jinja2

    folder = tmp_path / "email" / "test_notice"
    folder.mkdir(parents=True)
    (folder / "subject.txt").write_text("Hello {{ name }}")
    (folder / "body.txt").write_text("Kia ora {{ name }}.\n{% include 'email/_footer.txt' %}")
    (folder / "body.html").write_text("<p>Kia ora {{ name }}.</p>")
    app.jinja_loader = jinja2.ChoiceLoader([app.jinja_loader, jinja2.FileSystemLoader(tmp_path)])


def test_queued_mail_is_delivered_with_a_message_id(app, outbox):
    _queue(app, 2)
    # Sent over several connections at once, so in no particular order.
    messages = sorted(outbox.deliver(), key=lambda m: m["To"])
    assert [m["To"] for m in messages] == ["person0@example.com", "person1@example.com"]
    assert messages[0]["Subject"] == "Hello Person 0"
    assert messages[0]["Message-ID"].endswith("@sentro.co>")
    assert "Kia ora Person 0." in messages[0].get_body(("plain",)).get_content()
    assert messages[0].get_body(("html",)) is not None


def test_each_row_is_marked_sent_once(app, outbox, db):
    _queue(app, 3)
    outbox.deliver()
    outbox.deliver()
    assert len(outbox.catcher.messages) == 3
    rows = db.exec(select(OutboxMessage)).all()
    assert {r.status for r in rows} == {"sent"}
    assert all(r.sent_at is not None and r.claimed_by is None for r in rows)


def test_smtp_down_leaves_mail_queued_then_delivers_each_once(config, app, outbox, db):
    _queue(app, 3)
    down = create_app({**config, "SMTP_URL": "smtp://127.0.0.1:9"})
    with down.app_context():
        report = deliver_due(
            down.extensions["sentro.engine"],
            SmtpServer.from_url("smtp://127.0.0.1:9"),
            mail_from="Sentro <no-reply@sentro.co>",
            worker="down",
        )
    down.extensions["sentro.engine"].dispose()
    assert report.retrying == 3 and report.sent == 0
    rows = db.exec(select(OutboxMessage)).all()
    assert {r.status for r in rows} == {"queued"}
    assert all(r.attempts == 1 and "SMTP unavailable" in r.last_error for r in rows)

    # Not due yet: backoff holds them.
    assert outbox.deliver() == []
    later = utcnow() + backoff(1) + timedelta(seconds=1)
    with app.app_context():
        server = SmtpServer.from_url(app.config["SMTP_URL"])
        report = deliver_due(db_engine(app), server, mail_from="x@sentro.co", worker="w", now=later)
        again = deliver_due(db_engine(app), server, mail_from="x@sentro.co", worker="w", now=later)
    assert (report.sent, again.sent) == (3, 0)
    ids = [m["Message-ID"] for m in outbox.catcher.messages]
    assert len(ids) == len(set(ids)) == 3


def db_engine(app):
    return app.extensions["sentro.engine"]


def test_two_workers_never_claim_the_same_row(app):
    from webapp.mail.delivery import claim

    _queue(app, 10)
    first = claim(db_engine(app), "one", limit=6, now=utcnow())
    second = claim(db_engine(app), "two", limit=6, now=utcnow())
    assert len(first) == 6 and len(second) == 4
    assert not {m.id for m in first} & {m.id for m in second}


def test_a_lease_that_expires_is_claimed_again(app):
    from webapp.mail.delivery import LEASE, claim

    _queue(app, 1)
    assert claim(db_engine(app), "crashed", limit=5, now=utcnow())
    assert claim(db_engine(app), "other", limit=5, now=utcnow()) == []
    assert claim(db_engine(app), "other", limit=5, now=utcnow() + LEASE + timedelta(seconds=1))


def test_a_permanent_refusal_fails_the_row_without_retrying(app, db, smtp):
    catcher, _ = smtp

    async def refuse(server, session, envelope, address, rcpt_options):
        if address.startswith("nobody"):
            return "550 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    catcher.handle_RCPT = refuse
    try:
        with app.test_request_context():
            session = database.session()
            queue_email(session, template="test_notice", to="nobody@example.com", context={})
            session.commit()
        with app.app_context():
            report = deliver_due(
                db_engine(app),
                SmtpServer.from_url(app.config["SMTP_URL"]),
                mail_from="x@sentro.co",
                worker="w",
            )
    finally:
        del catcher.handle_RCPT
    assert report.failed == 1
    assert db.exec(select(OutboxMessage)).one().status == "failed"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://localhost:2525", SmtpServer("localhost", 2525)),
        (
            "smtps://u:p%40ss@mail.example.com",
            SmtpServer("mail.example.com", 465, "u", "p@ss", tls=True),
        ),
        ("smtp://mail.example.com", SmtpServer("mail.example.com", 25)),
    ],
)
def test_smtp_url(url, expected):
    assert SmtpServer.from_url(url) == expected


@pytest.mark.parametrize("url", ["http://mail.example.com", "smtp://", "mail.example.com:25"])
def test_bad_smtp_url_is_refused(url):
    with pytest.raises(ValueError):
        SmtpServer.from_url(url)


def test_backoff_grows_and_is_capped():
    assert [backoff(n).total_seconds() for n in (1, 2, 3)] == [60, 120, 240]
    assert backoff(30) == timedelta(hours=6)


def test_send_queued_command(app, outbox):
    _queue(app, 2)
    result = app.test_cli_runner().invoke(args=["mail", "send-queued"])
    assert result.exit_code == 0, result.output
    assert "sent 2" in result.output
    assert len(outbox.catcher.messages) == 2


# --- several SMTP connections per worker ---------------------------------------------------


def test_several_connections_deliver_each_message_once_and_mark_each_sent(app, outbox, db):
    _queue(app, 10)
    with app.app_context():
        report = deliver_due(
            db_engine(app),
            SmtpServer.from_url(app.config["SMTP_URL"]),
            mail_from="Sentro <no-reply@sentro.co>",
            worker="w",
            connections=3,
        )
    assert report.sent == 10
    ids = [m["Message-ID"] for m in outbox.catcher.messages]
    assert len(ids) == len(set(ids)) == 10
    rows = db.exec(select(OutboxMessage)).all()
    assert {r.status for r in rows} == {"sent"}
    assert all(r.attempts == 1 and r.claimed_by is None and r.sent_at for r in rows)


def test_one_persons_emails_arrive_in_the_order_they_were_queued(app, outbox):
    with app.test_request_context():
        session = database.session()
        for n in range(8):
            to = "same@example.com" if n % 2 else f"other{n}@example.com"
            queue_email(session, template="test_notice", to=to, context={"name": f"N{n}"})
        session.commit()
    with app.app_context():
        deliver_due(
            db_engine(app),
            SmtpServer.from_url(app.config["SMTP_URL"]),
            mail_from="Sentro <no-reply@sentro.co>",
            worker="w",
            connections=3,
        )
    subjects = [m["Subject"] for m in outbox.catcher.messages if m["To"] == "same@example.com"]
    assert subjects == ["Hello N1", "Hello N3", "Hello N5", "Hello N7"]


def test_with_smtp_down_every_connection_leaves_the_mail_queued(config, app, db):
    _queue(app, 5)
    with app.app_context():
        report = deliver_due(
            db_engine(app),
            SmtpServer.from_url("smtp://127.0.0.1:9"),
            mail_from="Sentro <no-reply@sentro.co>",
            worker="down",
            connections=3,
        )
    assert (report.sent, report.retrying) == (0, 5)
    rows = db.exec(select(OutboxMessage)).all()
    assert {r.status for r in rows} == {"queued"}
    assert all(r.attempts == 1 and "SMTP unavailable" in r.last_error for r in rows)


def test_a_failure_to_record_a_sending_stops_the_worker_instead_of_passing_silently(
    app, outbox, monkeypatch
):
    from webapp.mail import delivery

    def database_gone(*_args):
        raise RuntimeError("database gone")

    monkeypatch.setattr(delivery, "mark_sent", database_gone)
    _queue(app, 4)
    with app.app_context(), pytest.raises(RuntimeError, match="database gone"):
        deliver_due(
            db_engine(app),
            SmtpServer.from_url(app.config["SMTP_URL"]),
            mail_from="Sentro <no-reply@sentro.co>",
            worker="w",
            connections=2,
        )
    # Each connection stopped at the message it could not record: at most one each was sent.
    assert len(outbox.catcher.messages) <= 2
