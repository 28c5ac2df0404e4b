"""Publishing a version: the command, the staff page, the rules, and the notices it queues."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from jinja2 import ChoiceLoader, DictLoader
from markupsafe import escape
from sqlmodel import select

from tests.conftest import body_text
from tests.policy_support import (
    SUMMARY,
    V1,
    V2,
    V2_DELETED,
    V2_INSERTED,
    load_v1,
    people,
    publish,
    today,
    version_count,
)
from webapp import db as database
from webapp.mail import service as mail
from webapp.models import OutboxBody, OutboxMessage, PolicyNoticeRun, PolicyVersion
from webapp.policy import notices


def outbox_rows(db) -> list[OutboxMessage]:
    db.rollback()  # a fresh snapshot: the worker wrote on its own connection
    return list(db.exec(select(OutboxMessage).order_by(OutboxMessage.id)))


# --- the rules -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"effective_on": -1}, "effective_on", "cannot take effect before it is published"),
        ({"effective_on": None}, "effective_on", "Give the date this version takes effect"),
        ({"summary": "   "}, "summary", "the summary is required"),
        ({"summary": "x" * 2001}, "summary", "under 2,000 characters"),
        ({"text": ""}, "text", "The policy text is empty."),
        ({"text": "\n \n"}, "text", "The policy text is empty."),
        ({"text": V1}, "text", "This is the text of version 1: nothing has changed."),
        ({"text": "a\x00b"}, "text", "characters that are not text"),
        ({"text": "x" * 200_001}, "text", "longer than 200,000 characters"),
    ],
)
def test_bad_input_is_refused_with_a_reason_and_changes_nothing(app, db, change, field, message):
    load_v1(app)
    people(db)
    values = {"text": V2, "summary": SUMMARY, "effective_on": 7, **change}
    offset = values.pop("effective_on")
    effective = None if offset is None else today() + timedelta(days=offset)
    result = publish(app, values["text"], effective_on=effective, summary=values["summary"])
    assert not result.ok
    assert message in result.errors[field]
    assert version_count(db) == 1
    assert outbox_rows(db) == []


def test_a_date_earlier_than_the_version_in_effect_is_refused(app, db):
    load_v1(app)
    publish(app, effective_on=today() - timedelta(days=2), on=today() - timedelta(days=9))
    result = publish(
        app,
        V2 + "\nMore.\n",
        effective_on=today() - timedelta(days=3),
        on=today() - timedelta(days=5),
    )
    assert "Version 2 takes effect on" in result.errors["effective_on"]
    assert version_count(db) == 2


def test_a_date_earlier_than_an_upcoming_version_is_refused_too(app, db):
    load_v1(app)
    publish(app, effective_on=today() + timedelta(days=20))
    result = publish(app, V2 + "\nMore.\n", effective_on=today() + timedelta(days=10))
    assert "a newer version cannot take effect before it" in result.errors["effective_on"]


def test_the_first_publication_on_an_empty_database_is_version_1(app, db):
    result = publish(app, V1, effective_on=today())
    assert result.version.number == 1 and result.notices == 0


def test_windows_line_endings_do_not_make_a_new_version(app, db):
    load_v1(app)
    result = publish(app, V1.replace("\n", "\r\n"), effective_on=today())
    assert "nothing has changed" in result.errors["text"]


# --- the notices ---------------------------------------------------------------------------


def fan_out(app) -> int:
    """What the mail worker does before it delivers: queue the pending notices."""
    with app.app_context():
        return notices.fan_out_pending()


def test_publishing_records_the_notice_and_the_worker_queues_it(app, db):
    load_v1(app)
    everyone = people(db)
    result = publish(app, effective_on=today())
    assert result.notices == 3
    assert outbox_rows(db) == []
    with app.app_context():
        db.rollback()
        assert notices.progress(db, 2) == notices.NoticeProgress(3, 0, 0, done=False)
    assert fan_out(app) == 3
    assert sorted(m.dedupe_key for m in outbox_rows(db)) == sorted(
        f"policy-v2:user-{everyone[n].id}" for n in ("aroha", "ben", "chloe")
    )
    with app.app_context():
        db.rollback()
        assert notices.progress(db, 2) == notices.NoticeProgress(3, 3, 0, done=False)


def test_a_version_published_without_a_notice_reports_nothing_to_send(app, db):
    load_v1(app)
    with app.app_context():
        assert notices.progress(db, 1) == notices.NoticeProgress(0, 0, 0, done=True)


def test_a_refused_publication_records_no_notice(app, db):
    load_v1(app)
    people(db)
    assert not publish(app, text=V1, effective_on=today()).ok
    assert fan_out(app) == 0
    assert db.exec(select(PolicyNoticeRun)).all() == []


def test_each_notice_is_keyed_by_version_and_person_so_queueing_again_sends_nothing_more(app, db):
    load_v1(app)
    people(db)
    publish(app, effective_on=today())
    fan_out(app)
    first = outbox_rows(db)
    with app.app_context(), database.transaction() as session:
        version = session.exec(select(PolicyVersion).where(PolicyVersion.number == 2)).one()
        notices.start_notices(session, version, 1)
        run = session.exec(select(PolicyNoticeRun)).one()
        run.status, run.done_through = "pending", 0  # as if a worker died before recording
    assert fan_out(app) == 0
    assert [m.id for m in outbox_rows(db)] == [m.id for m in first]


def test_a_fan_out_that_stops_half_way_resumes_where_it_stopped(app, db, monkeypatch):
    load_v1(app)
    everyone = people(db)
    publish(app, effective_on=today())
    monkeypatch.setattr(notices, "RANGE", everyone["aroha"].id)  # the first range: aroha only
    batches: list[tuple[int, int]] = []

    def crash_after_first(count: int, audience: int) -> None:
        batches.append((count, audience))
        raise KeyboardInterrupt  # the worker is stopped after its first commit

    with pytest.raises(KeyboardInterrupt), app.app_context():
        notices.fan_out_pending(on_batch=crash_after_first)
    assert batches == [(1, 3)]
    assert [m.to_addr for m in outbox_rows(db)] == ["aroha@example.com"]
    assert fan_out(app) == 2
    assert sorted(m.to_addr for m in outbox_rows(db)) == [
        "aroha@example.com",
        "ben@example.com",
        "chloe@example.com",
    ]


def test_two_workers_fanning_out_at_once_queue_each_person_once(app, db, monkeypatch):
    import threading

    load_v1(app)
    people(db)
    publish(app, effective_on=today())
    monkeypatch.setattr(notices, "RANGE", 1)
    counts: list[int] = []
    workers = [threading.Thread(target=lambda: counts.append(fan_out(app))) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert sum(counts) == 3
    assert len(outbox_rows(db)) == 3


def test_notices_are_on_the_policy_updates_list_and_name_the_version(app, db, outbox):
    load_v1(app)
    people(db)
    publish(app, effective_on=today())
    message = outbox.last_to("aroha@example.com")  # the worker queues, then delivers
    row = outbox_rows(db)[0]
    assert (row.template, row.list_id, row.status) == ("policy_notice", "policy-updates", "sent")
    assert message["Subject"] == "Our privacy policy has changed"
    text = body_text(message)
    assert "Version 2 of our privacy policy took effect on" in text
    assert "http://localhost/privacy/versions/2" in text
    with app.app_context():
        db.rollback()
        assert notices.progress(db, 2) == notices.NoticeProgress(3, 3, 3, done=True)


def test_each_person_gets_their_own_unsubscribe_link(app, db, outbox):
    load_v1(app)
    everyone = people(db)
    publish(app, effective_on=today())
    outbox.deliver()
    with app.app_context():
        from webapp.preferences.links import read_unsubscribe_token

        for name in ("aroha", "ben", "chloe"):
            message = outbox.last_to(f"{name}@example.com")
            url = message["List-Unsubscribe"].strip("<>")
            assert read_unsubscribe_token(url.rsplit("/", 1)[1])[0] == everyone[name].id
            assert url in body_text(message)


def fake_list_extras(user_id: int, list_id: str | None):
    """What the preferences capability provides: per-person unsubscribe links and a footer."""
    url = f"https://sentro.test/unsubscribe/{user_id}?a=1&b=2"
    headers = {
        "List-Unsubscribe": f"<{url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    footer = {
        "reason": "You get this because you are on the list.",
        "unsubscribe_url": url,
        "list_name": "Privacy policy updates",
        "preferences_url": f"https://sentro.test/preferences/{user_id}",
    }
    return headers, footer


def test_notices_match_what_queue_email_would_send_each_person(app, db, monkeypatch):
    from webapp.mail.smtp import to_email

    monkeypatch.setattr(mail, "_list_extras", fake_list_extras)
    load_v1(app)
    everyone = people(db)
    publish(app, effective_on=today())
    fan_out(app)
    rows = {m.user_id: m for m in outbox_rows(db)}
    with app.app_context(), database.transaction() as session:
        version = session.exec(select(PolicyVersion).where(PolicyVersion.number == 2)).one()
        body = session.get(OutboxBody, rows[everyone["aroha"].id].body_id)
        assert body is not None
        for name in ("aroha", "ben", "chloe"):
            person = everyone[name]
            single = mail.queue_email(
                session,
                template="policy_notice",
                to=person.email,
                user_id=person.id,
                list_id="policy-updates",
                context=notice_context(version),
            )
            sent = to_email(rows[person.id], "x@sentro.co", body)
            expected = to_email(single, "x@sentro.co")
            for header in ("Subject", "To", "List-Unsubscribe", "List-Unsubscribe-Post"):
                assert sent[header] == expected[header]
            assert body_text(sent) == body_text(expected)
            html = sent.get_body(("html",)).get_content()
            assert html == expected.get_body(("html",)).get_content()
            assert f"/unsubscribe/{person.id}?a=1&amp;b=2" in html
        session.rollback()


def test_a_notice_template_that_transforms_the_footer_is_rendered_per_person(app, db, monkeypatch):
    monkeypatch.setattr(mail, "_list_extras", fake_list_extras)
    load_v1(app)
    everyone = people(db)
    app.jinja_loader = ChoiceLoader(
        [
            DictLoader({"email/policy_notice/body.txt": "{{ footer.unsubscribe_url | upper }}"}),
            app.jinja_loader,
        ]
    )
    publish(app, effective_on=today())
    assert fan_out(app) == 3
    rows = outbox_rows(db)
    assert all(m.body_id is None for m in rows)
    assert sorted(m.text_body for m in rows) == sorted(
        f"HTTPS://SENTRO.TEST/UNSUBSCRIBE/{everyone[n].id}?A=1&B=2"
        for n in ("aroha", "ben", "chloe")
    )
    with app.app_context():
        db.rollback()
        assert notices.progress(db, 2).queued == 3


def notice_context(version: PolicyVersion) -> dict:
    return {
        "number": 2,
        "effective_on": version.effective_on,
        "upcoming": False,
        "summary": version.summary,
        "changes_url": "http://localhost/privacy/compare?from=1&to=2",
        "version_url": "http://localhost/privacy/versions/2",
        "since": 1,
    }


def test_a_template_that_transforms_the_footer_is_rendered_per_person(app, db, monkeypatch):
    monkeypatch.setattr(mail, "_list_extras", fake_list_extras)
    everyone = people(db)
    app.jinja_loader = ChoiceLoader(
        [
            DictLoader(
                {
                    "email/shout/subject.txt": "Hello",
                    "email/shout/body.txt": "{{ footer.unsubscribe_url | upper }}",
                }
            ),
            app.jinja_loader,
        ]
    )
    recipients = [mail.Recipient(everyone[n].id, everyone[n].email) for n in ("aroha", "ben")]
    with app.app_context(), database.transaction() as session:
        mail.queue_bulk(session, template="shout", recipients=recipients, list_id="policy-updates")
    bodies = [m.text_body for m in outbox_rows(db)]
    assert bodies == [f"HTTPS://SENTRO.TEST/UNSUBSCRIBE/{r.user_id}?A=1&B=2" for r in recipients]


def test_without_a_list_extras_hook_notices_have_no_footer_and_no_list_headers(
    app, db, monkeypatch
):
    from webapp.mail.smtp import to_email

    monkeypatch.setattr(mail, "_list_extras", None)
    load_v1(app)
    people(db)
    publish(app, effective_on=today())
    fan_out(app)
    rows = outbox_rows(db)
    with app.app_context():
        body = db.get(OutboxBody, rows[0].body_id)
        sent = [to_email(m, "x@sentro.co", body) for m in rows]
    assert len(rows) == 3 and all("List-Unsubscribe" not in m for m in sent)
    assert len({body_text(m) for m in sent}) == 1
    assert len({m.message_id for m in rows}) == 3


# --- the command ---------------------------------------------------------------------------


def run(app, *args: str):
    return app.test_cli_runner().invoke(args=["policy", "publish", *args])


def test_the_command_publishes_and_queues_a_notice_per_person(app, db, tmp_path):
    load_v1(app)
    people(db)
    source = tmp_path / "v2.md"
    source.write_text(V2, encoding="utf-8")
    effective = (today() + timedelta(days=30)).isoformat()
    result = run(app, str(source), "--effective", effective, "--summary", SUMMARY)
    assert result.exit_code == 0, result.output
    assert f"published version 2, effective {effective}; 3 notices queued" in result.output
    assert len(outbox_rows(db)) == 3


@pytest.mark.parametrize(
    ("content", "args", "says"),
    [
        (b"\xff\xfe\x00bad", ["--summary", "s"], "not UTF-8 text"),
        (b"ok\x00", ["--summary", "s"], "not a text file"),
        (V2.encode(), ["--summary", ""], "the summary is required"),
        (V2.encode(), ["--summary", "s", "--effective", "2020-01-01"], "Version 1 takes effect"),
        (V2.encode(), ["--summary", "s", "--effective", "tomorrow"], "does not match the format"),
        (V2.encode(), ["--effective", "2099-01-01"], "Missing option '--summary'"),
    ],
)
def test_the_command_refuses_bad_input_clearly_and_changes_nothing(
    app, db, tmp_path, content, args, says
):
    load_v1(app)
    people(db)
    source = tmp_path / "policy.md"
    source.write_bytes(content)
    if "--effective" not in args:
        args = [*args, "--effective", (today() + timedelta(days=1)).isoformat()]
    result = run(app, str(source), *args)
    assert result.exit_code != 0
    assert says in result.output
    assert version_count(db) == 1 and outbox_rows(db) == []


def test_the_command_refuses_a_missing_file_or_a_folder(app, db, tmp_path):
    load_v1(app)
    assert (
        "does not exist"
        in run(app, str(tmp_path / "nope.md"), "--effective", "2099-01-01", "--summary", "s").output
    )
    assert (
        "is a directory"
        in run(app, str(tmp_path), "--effective", "2099-01-01", "--summary", "s").output
    )
    assert version_count(db) == 1


# --- the staff page ------------------------------------------------------------------------


def form(**changes) -> dict:
    return {
        "text": V2,
        "summary": SUMMARY,
        "effective_on": (today() + timedelta(days=10)).isoformat(),
        **changes,
    }


def confirmed(**changes) -> dict:
    """What the preview's final button posts."""
    return {**form(**changes), "confirmed": "yes"}


def test_only_staff_may_publish(app, client, person, db):
    load_v1(app)
    assert client.get("/staff/policy/").status_code == 403
    assert client.post("/staff/policy/preview", data=form()).status_code == 403
    assert client.post("/staff/policy/", data=confirmed()).status_code == 403
    assert client.get("/staff/policy/notices/1").status_code == 403
    assert version_count(db) == 1


def test_the_form_starts_from_the_newest_text(app, client, staff, db):
    load_v1(app)
    html = client.get("/staff/policy/").get_data(as_text=True)
    textarea = html.split('<textarea id="text"')[1].split("</textarea>")[0]
    assert escape(V1.strip()) in textarea


def test_the_preview_compares_with_the_newest_version_and_counts_the_audience(
    app, client, staff, db, outbox
):
    load_v1(app)
    people(db)  # aroha, ben and chloe are on the list; one left it, one is closed
    audience = notices.audience_size(db)
    answer = client.post("/staff/policy/preview", data=form())
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert f"email {audience} people" in html and f"<strong>{audience} people</strong>" in html
    changes = html.split('id="changes-heading"')[1]
    inserted = " ".join(re.findall(r"<ins>(.*?)</ins>", changes, re.S))
    deleted = " ".join(re.findall(r"<del>(.*?)</del>", changes, re.S))
    assert all(word in inserted for word in V2_INSERTED), inserted
    assert all(word in deleted for word in V2_DELETED), deleted
    assert 'name="confirmed" value="yes"' in html
    assert version_count(db) == 1 and outbox_rows(db) == []


def test_posting_the_form_without_the_preview_publishes_nothing(app, client, staff, db):
    load_v1(app)
    answer = client.post("/staff/policy/", data=form())
    assert answer.status_code == 200 and "Publish version 2 and email" in answer.get_data(
        as_text=True
    )
    assert version_count(db) == 1


def test_change_something_goes_back_to_the_form_with_the_draft(app, client, staff, db):
    load_v1(app)
    answer = client.post("/staff/policy/preview", data={**form(), "step": "edit"})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200 and escape(SUMMARY) in html
    assert "Privacy Act 2020" in html.split('<textarea id="text"')[1]
    assert version_count(db) == 1


def test_staff_publish_after_the_preview_and_the_list_shows_the_version(app, client, staff, db):
    load_v1(app)
    people(db)
    answer = client.post("/staff/policy/", data=confirmed())
    assert answer.status_code == 303 and answer.headers["Location"] == "/staff/policy/"
    assert version_count(db) == 2
    page = client.get("/staff/policy/").get_data(as_text=True)
    assert "Version 2 is published" in page
    published = page.split('id="published-heading"')[1]
    assert published.index("Version 2</a>") < published.index("Version 1</a>")
    assert escape(V2.strip()) in page.split('<textarea id="text"')[1]  # the next starts from it
    assert fan_out(app) >= 2
    assert {m.to_addr for m in outbox_rows(db)} >= {"aroha@example.com", "ben@example.com"}
    assert "/privacy/versions/2" in client.get("/privacy/versions").get_data(as_text=True)


def test_publishing_starts_the_notices_for_the_mail_worker(app, client, staff, db, monkeypatch):
    load_v1(app)
    started = []
    monkeypatch.setattr(
        notices, "start_notices", lambda db, v, since, **_: started.append((v, since))
    )
    monkeypatch.setattr(notices, "fan_out_pending", lambda *a, **k: pytest.fail("sent in request"))
    assert client.post("/staff/policy/", data=confirmed()).status_code == 303
    assert [(v.number, since) for v, since in started] == [(2, 1)]
    assert version_count(db) == 2


def test_the_page_follows_the_notices_until_they_are_sent(app, client, staff, db, outbox):
    load_v1(app)
    people(db)
    client.post("/staff/policy/", data=confirmed())
    n = notices.audience_size(db)  # aroha, ben, chloe and the member of staff
    hx = {"HX-Request": "true", "HX-Target": "notices-2"}
    going = client.get("/staff/policy/notices/2", headers=hx).get_data(as_text=True)
    assert going.lstrip().startswith('<div id="notices-2"')
    assert 'hx-trigger="every 3s"' in going and f"0 of {n} notices queued, 0 sent" in going
    assert 'hx-trigger="every 3s"' in client.get("/staff/policy/").get_data(as_text=True)
    outbox.deliver()  # the mail worker
    done = client.get("/staff/policy/notices/2", headers=hx).get_data(as_text=True)
    assert "hx-trigger" not in done and f"Done: {n} of {n} notices queued, {n} sent" in done
    plain = client.get("/staff/policy/notices/2").get_data(as_text=True)
    assert "<html" in plain and "Notices of version 2" in plain
    assert client.get("/staff/policy/notices/9").status_code == 404


def test_staff_can_upload_the_markdown_file(app, client, staff, db):
    from io import BytesIO

    load_v1(app)
    data = form(text="", file=(BytesIO(V2.encode()), "v2.md"))
    preview = client.post("/staff/policy/preview", data=data, content_type="multipart/form-data")
    assert preview.status_code == 200
    hidden = re.search(r'name="text" value="([^"]*)"', preview.get_data(as_text=True))
    posted = {**confirmed(), "text": html.unescape(hidden[1]).replace("\n", "\r\n")}
    assert client.post("/staff/policy/", data=posted).status_code == 303
    assert db.exec(select(PolicyVersion).where(PolicyVersion.number == 2)).one().text == V2


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"summary": ""}, "summary"),
        ({"effective_on": "2020-02-30"}, "effective_on"),
        ({"effective_on": ""}, "effective_on"),
        ({"text": ""}, "text"),
        ({"text": V1}, "text"),
    ],
)
@pytest.mark.parametrize("path", ["/staff/policy/preview", "/staff/policy/"])
def test_staff_see_what_to_fix_next_to_the_field(app, client, staff, db, changes, field, path):
    load_v1(app)
    answer = client.post(path, data=confirmed(**changes))
    assert answer.status_code == 422
    html = answer.get_data(as_text=True)
    assert f'{field}-error" aria-invalid="true"' in html
    assert f'<p class="field-error" id="{field}-error">' in html
    assert version_count(db) == 1


def test_staff_upload_that_is_not_text_is_refused(app, client, staff, db):
    from io import BytesIO

    load_v1(app)
    data = form(file=(BytesIO(b"\xff\xfe\xfa"), "v2.md"))
    answer = client.post("/staff/policy/preview", data=data, content_type="multipart/form-data")
    assert answer.status_code == 422
    assert "not UTF-8 text" in answer.get_data(as_text=True)
    assert version_count(db) == 1
