"""Campaigns: one Markdown email per person on a list, never twice; and the link command."""

from __future__ import annotations

import pytest
from sqlmodel import Session, func, select

from tests.test_preferences import make_person
from webapp.models import Campaign, OutboxMessage, User
from webapp.preferences import service

BODY = "## Autumn news\n\nSentro now works **offline**.\n\n- faster\n- [safer](https://sentro.co)\n"


def campaign(app, tmp_path, *, list_id="service-updates", subject="Autumn news", body=BODY):
    path = tmp_path / "body.md"
    path.write_text(body, encoding="utf-8")
    return app.test_cli_runner().invoke(
        args=["mail", "campaign", "--list", list_id, "--subject", subject, "--body", str(path)]
    )


def queued(db: Session) -> list[str]:
    db.rollback()
    return sorted(db.exec(select(OutboxMessage.to_addr)).all())


def people(db: Session) -> dict[str, int]:
    ids = {name: make_person(db, name) for name in ("aroha", "ben", "chloe", "dev")}
    service.set_subscription(db, ids["ben"], "service-updates", False, "page")
    service.set_subscription(db, ids["chloe"], "offers", True, "page")
    closed = db.get(User, ids["dev"])
    closed.status = "closed"
    db.add(closed)
    db.commit()
    return ids


def test_a_campaign_reaches_everyone_on_the_list_and_nobody_else(app, db, tmp_path):
    people(db)
    result = campaign(app, tmp_path)
    assert result.exit_code == 0, result.output
    assert "2 on 'service-updates', 0 already queued, 2 to queue" in result.output
    assert "Queueing" in result.output  # the progress bar
    assert queued(db) == ["aroha@example.com", "chloe@example.com"]
    offers = campaign(app, tmp_path, list_id="offers", subject="An offer")
    assert offers.exit_code == 0, offers.output
    assert queued(db) == ["aroha@example.com", "chloe@example.com", "chloe@example.com"]


def test_running_the_same_campaign_again_sends_nobody_twice(app, db, tmp_path):
    ids = people(db)
    assert campaign(app, tmp_path).exit_code == 0
    again = campaign(app, tmp_path)
    assert again.exit_code == 0, again.output
    assert "2 already queued, 0 to queue" in again.output
    assert len(queued(db)) == 2
    # Someone new joins, someone leaves: a re-run reaches only the newcomer.
    newcomer = make_person(db, "eru")
    service.set_subscription(db, ids["aroha"], "service-updates", False, "one-click")
    third = campaign(app, tmp_path)
    assert "1 already queued, 1 to queue" in third.output
    assert queued(db) == ["aroha@example.com", "chloe@example.com", "eru@example.com"]
    stored = db.exec(select(Campaign)).one()
    assert stored.queued == 3
    keys = db.exec(select(OutboxMessage.dedupe_key).where(OutboxMessage.user_id == newcomer)).all()
    assert keys == [f"campaign:{stored.id}:{newcomer}"]


def test_a_changed_subject_or_body_is_another_campaign(app, db, tmp_path):
    make_person(db, "aroha")
    campaign(app, tmp_path)
    campaign(app, tmp_path, subject="Autumn news (corrected)")
    campaign(app, tmp_path, body=BODY + "\nOne more thing.\n")
    assert len(queued(db)) == 3
    assert db.exec(select(func.count()).select_from(Campaign)).one() == 3


def test_a_run_cut_short_is_finished_by_the_next(app, db, tmp_path):
    from webapp.preferences import campaigns

    for n in range(5):
        make_person(db, f"p{n}")
    with app.app_context():
        run = campaigns.plan("service-updates", "Autumn news", BODY)
        batches = campaigns.send(run, batch_size=2)
        assert next(batches) == 2  # the process dies after the first batch
    assert len(queued(db)) == 2
    result = campaign(app, tmp_path)
    assert "2 already queued, 3 to queue" in result.output
    assert len(queued(db)) == 5
    assert len(set(queued(db))) == 5


def test_the_email_is_the_markdown_source_and_its_rendering(app, db, tmp_path, outbox):
    from tests.conftest import body_text

    make_person(db, "aroha")
    campaign(app, tmp_path)
    message = outbox.last_to("aroha@example.com")
    assert body_text(message).replace("\r\n", "\n").startswith(BODY)
    html = message.get_body(preferencelist=("html",)).get_content()
    assert '<h2 id="autumn-news">Autumn news</h2>' in html
    assert "<strong>offline</strong>" in html
    assert 'href="https://sentro.co"' in html


def test_markdown_cannot_smuggle_html_into_the_email(app, db, tmp_path, outbox):
    make_person(db, "aroha")
    campaign(app, tmp_path, body="Hello <script>alert(1)</script> [x](javascript:alert(1))\n")
    html = outbox.last_to("aroha@example.com").get_body(preferencelist=("html",)).get_content()
    assert "<script>" not in html
    assert 'href="javascript' not in html


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"list_id": "account"}, "account notices"),
        ({"list_id": "newsletter"}, "there is no list 'newsletter'"),
        ({"subject": ""}, "subject must be one line"),
        ({"subject": "x" * 301}, "subject must be one line"),
        ({"body": "  \n"}, "the body is empty"),
    ],
)
def test_a_campaign_that_cannot_be_sent_says_why_and_queues_nothing(
    app, db, tmp_path, options, message
):
    make_person(db, "aroha")
    result = campaign(app, tmp_path, **options)
    assert result.exit_code == 2
    assert message in result.output
    assert queued(db) == []


def test_a_body_that_is_not_utf8_is_refused(app, db, tmp_path):
    make_person(db, "aroha")
    path = tmp_path / "latin1.md"
    path.write_bytes("Café".encode("latin-1"))
    result = app.test_cli_runner().invoke(
        args=["mail", "campaign", "--list", "offers", "--subject", "x", "--body", str(path)]
    )
    assert result.exit_code == 2 and "UTF-8" in result.output
    assert queued(db) == []


def test_the_link_command_prints_the_url_and_headers(app, db):
    user_id = make_person(db, "aroha")
    result = app.test_cli_runner().invoke(
        args=["mail", "unsubscribe-link", "--user", str(user_id), "--list", "research"]
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("http://localhost/email/unsubscribe/")
    assert f"List-Unsubscribe: <{lines[0]}>" in lines
    assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click" in lines
    assert 'List-Id: "Research and surveys" <research.lists.sentro.co>' in lines
    assert "must not be sent 'research'" in result.output  # opt-in list, not joined
    refused = app.test_cli_runner().invoke(
        args=["mail", "unsubscribe-link", "--user", str(user_id), "--list", "account"]
    )
    assert refused.exit_code == 2
