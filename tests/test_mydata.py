"""Your data: the export holds everything about the person, and nothing about anyone else."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import jsonschema
import pytest
from sqlalchemy import insert, select

from tests.populate import Populator
from webapp.models import (
    AuditEvent,
    SignIn,
    metadata,
    personal_columns,
    privacy_of,
    user_linked_tables,
    utcnow,
)
from webapp.mydata import service

SCHEMA = json.loads(
    (Path(__file__).resolve().parent.parent / "docs/account-export-v1.schema.json").read_text()
)


@pytest.fixture
def two_people(app):
    """Two people, each with a row in every table about a person, their values naming them."""
    people = {}
    with app.extensions["sentro.engine"].begin() as connection:
        for marker in ("alphaperson", "bravoperson"):
            populator = Populator(connection, utcnow(), marker)
            people[marker] = (populator.person(), populator.tokens)
    return people["alphaperson"], people["bravoperson"]


def export_of(app, db, user_id: int) -> dict:
    from webapp.models import User

    with app.app_context():
        export = service.build_export(db, db.get(User, user_id))
        return json.loads(b"".join(service.export_json(export)))


def test_the_export_has_a_record_from_every_table_about_the_person(app, db, two_people):
    (alpha, planted), _ = two_people
    document = export_of(app, db, alpha)
    by_table = {c["table"]: c for c in document["categories"]}
    for table in user_linked_tables():
        exported = [n for n, p in personal_columns(table).items() if p.export]
        if not exported:
            continue
        category = by_table[table.name]
        assert category["name"] == privacy_of(table).name
        assert category["records"], f"{table.name}: nothing exported"
        assert set(category["records"][0]) == set(exported)
        text = json.dumps(category["records"])
        # What the person is shown of the planted row, after the table's own shaping.
        shown = privacy_of(table).extra.get("export_row", dict)(
            {name: planted.get((table.name, name), "") for name in exported}
        )
        for name in exported:
            if "alphaperson" in (shown[name] or ""):
                assert shown[name] in text, f"{table.name}.{name} is missing"


def test_the_export_holds_nothing_about_anyone_else(app, db, two_people):
    (alpha, _), (bravo, _) = two_people
    assert "bravoperson" not in json.dumps(export_of(app, db, alpha))
    assert "alphaperson" not in json.dumps(export_of(app, db, bravo))


def test_each_category_says_why_who_and_how_long(app, db, two_people):
    document = export_of(app, db, two_people[0][0])
    mail = next(c for c in document["categories"] if c["table"] == "outbox_message")
    declared = privacy_of(metadata.tables["outbox_message"])
    assert mail["purpose"] == declared.purpose
    assert mail["recipients"] == list(declared.recipients)
    assert mail["retention"] == declared.retention


def test_the_export_follows_its_published_schema(app, db, two_people):
    document = export_of(app, db, two_people[0][0])
    jsonschema.validate(document, SCHEMA)
    assert document["schema"] == "https://sentro.co/schemas/account-export/v1"
    assert document["version"] == 1


def test_ip_addresses_are_decrypted_and_times_are_iso_8601(client, person, db):
    document = client.get("/account/export.json").get_json()
    sign_ins = next(c for c in document["categories"] if c["table"] == "sign_in")
    assert sign_ins["records"][0]["ip"] == "127.0.0.1"
    moment = datetime.fromisoformat(sign_ins["records"][0]["at"])
    assert moment.utcoffset() == timedelta(0)
    assert datetime.fromisoformat(document["generated_at"]).utcoffset() == timedelta(0)


def test_the_download_is_a_json_attachment_and_is_audited(app, client, person, db):
    response = client.get("/account/export.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    assert response.get_json()["person"]["email"] == "ana@example.com"
    # The stream gave its connection back once written, before the response is closed.
    assert app.extensions["sentro.engine"].pool.checkedout() == 0
    events = db.exec(select(AuditEvent).where(AuditEvent.user_id == person.id)).all()
    assert [(e[0].action, e[0].field) for e in events] == [("export", "json")]


def test_the_export_needs_sign_in(client):
    response = client.get("/account/export.json")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_the_printable_page_shows_the_same_content(client, person, db):
    response = client.get("/account/your-data")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    for table in user_linked_tables():
        category = privacy_of(table)
        assert category.name.replace("'", "&#39;") in html
        assert category.purpose.replace("'", "&#39;") in html
    assert "127.0.0.1" in html
    assert "ana@example.com" in html
    events = db.exec(select(AuditEvent.field).where(AuditEvent.action == "export")).all()
    assert [e.field for e in events] == ["page"]


def test_downloads_are_rate_limited_per_person(config, app_factory_with_limits):
    client, login = app_factory_with_limits
    login("ana")
    answers = [client.get("/account/export.json").status_code for _ in range(11)]
    assert answers == [200] * 10 + [429]
    assert client.get("/account/your-data").status_code == 429


@pytest.fixture
def app_factory_with_limits(config, provider_url, migrated):
    from tests.conftest import _empty_tables, sign_in
    from webapp import create_app

    app = create_app({**config, "RATELIMIT_ENABLED": True})
    client = app.test_client()

    def login(sub: str) -> None:
        sign_in(client, provider_url, sub, {"email": f"{sub}@example.com"})

    yield client, login
    app.extensions["sentro.engine"].dispose()
    _empty_tables(migrated)


def _statements_for_export(app, db, count_queries, user_id: int) -> list[str]:
    from webapp.models import User

    with app.app_context():
        user = db.get(User, user_id)
        with count_queries() as statements:
            for _chunk in service.export_json(service.build_export(db, user)):
                pass
    return statements


def test_the_number_of_statements_does_not_grow_with_the_rows(app, db, count_queries, two_people):
    (few, _), (many, _) = two_people
    at = utcnow()
    db.execute(
        insert(SignIn),
        [{"user_id": many, "at": at, "ip": "198.51.100.7", "user_agent": "x"}] * 1200,
    )
    db.execute(
        insert(AuditEvent),
        [{"user_id": many, "at": at, "actor": "self", "action": "seen"}] * 600,
    )
    db.commit()
    small = _statements_for_export(app, db, count_queries, few)
    large = _statements_for_export(app, db, count_queries, many)
    assert len(small) == len(large)
    assert all(s.lstrip().upper().startswith("SELECT") for s in large)
    exported_tables = [t for t in user_linked_tables() if personal_columns(t)]
    assert len(large) == len(exported_tables)  # one statement per table


def test_the_streamed_json_is_the_whole_export_written_at_once(app, db, two_people):
    """Records are encoded a batch at a time; the download is still exactly the whole's JSON."""
    from webapp.models import User

    (alpha, _), _ = two_people
    at = utcnow()
    db.execute(
        insert(SignIn),
        [
            {
                "user_id": alpha,
                "at": at - timedelta(seconds=n, microseconds=n % 2),
                "ip": f"198.51.100.{n}",
                "user_agent": f"Navigateur Ünïcode \u2014 🦜 {n}",
            }
            for n in range(3 * service.RECORDS_PER_PIECE + 1)  # three full batches and one row
        ],
    )
    db.commit()
    with app.app_context():
        user = db.get(User, alpha)
        now = utcnow()
        streamed = b"".join(service.export_json(service.build_export(db, user, now=now)))
        export = service.build_export(db, user, now=now)
        whole = {
            "schema": service.SCHEMA_URL,
            "version": service.SCHEMA_VERSION,
            "generated_at": now,
            "person": export.person,
            "categories": [
                {
                    "name": c.name,
                    "table": c.table,
                    "purpose": c.purpose,
                    "recipients": list(c.recipients),
                    "retention": c.retention,
                    "fields": c.fields,
                    "records": list(c.records),
                }
                for c in export.categories
            ],
        }
    expected = json.dumps(
        whole, default=service.json_value, ensure_ascii=False, separators=(",", ":")
    )
    assert streamed == (expected + "\n").encode()
    sign_ins = next(c for c in whole["categories"] if c["table"] == "sign_in")["records"]
    assert {f"198.51.100.{n}" for n in range(3 * service.RECORDS_PER_PIECE + 1)} <= {
        r["ip"] for r in sign_ins
    }


def test_a_table_can_hide_rows_from_the_export_until_they_may_be_shown(
    app, db, person, monkeypatch
):
    from dataclasses import replace

    table = metadata.tables["audit_event"]
    hidden = replace(
        privacy_of(table), extra={"export_where": lambda t, now: t.c.action != "secret"}
    )
    monkeypatch.setitem(table.info, "privacy", hidden)
    db.add(AuditEvent(user_id=person.id, actor="staff", action="secret"))
    db.add(AuditEvent(user_id=person.id, actor="staff", action="shown"))
    db.commit()
    document = export_of(app, db, person.id)
    actions = [
        r["action"]
        for r in next(c for c in document["categories"] if c["table"] == "audit_event")["records"]
    ]
    assert actions == ["shown"]


STAFF_IP, OWN_IP = "198.51.100.77", "203.0.113.45"


@pytest.fixture
def staff_acted_on(app, person, db):
    """Staff answered the person's request, reviewed their closure and recorded a release."""
    from webapp.closure import service as closure
    from webapp.disclosures import service as disclosures
    from webapp.inquiries import casework
    from webapp.inquiries import service as inquiries
    from webapp.models import User

    staff = User(issuer="https://id.test", subject="sam", email="sam@sentro.co", name="Sam Staff")
    staff.is_staff = True
    db.add(staff)
    db.commit()
    me = db.get(User, person.id)
    with app.test_request_context():
        opened = inquiries.open_inquiry(
            db, me, kind="other", subject="Cookies?", message="Which?", ip=OWN_IP
        )
        assert casework.answer(db, staff, opened.inquiry.id, "These.", ip=STAFF_IP).ok
        requested = closure.request_closure(db, me, confirmation="CLOSE")
        assert closure.start_review(db, requested.request.id, staff, ip=STAFF_IP).ok
        recorded = disclosures.record_disclosure(
            db,
            staff=staff,
            person=str(person.id),
            recipient="NZ Police",
            disclosed_on=utcnow().date(),
            categories=["Account"],
            purpose="Production order",
            legal_basis="Court proceedings",
            ip=STAFF_IP,
        )
        assert recorded.ok, recorded.errors
    return staff


@pytest.mark.parametrize("path", ["/account/export.json", "/account/your-data"])
def test_staff_actions_show_as_sentro_staff_without_their_address(client, staff_acted_on, path):
    body = client.get(path).get_data(as_text=True)
    assert STAFF_IP not in body
    assert "Sam Staff" not in body and "sam@sentro.co" not in body
    assert "Sentro staff" in body
    assert OWN_IP in body  # the person's own actions keep their details


def test_the_audit_in_the_export_names_staff_only_as_sentro_staff(client, staff_acted_on):
    export = client.get("/account/export.json").get_json()
    [audit] = [c for c in export["categories"] if c["table"] == "audit_event"]
    staff_actions = {"inquiry.answered", "closure.review_started", "disclosure.recorded"}
    by_staff = [r for r in audit["records"] if r["action"] in staff_actions]
    assert {r["action"] for r in by_staff} == staff_actions
    assert {(r["actor"], r["ip"]) for r in by_staff} == {("Sentro staff", None)}
    [own] = [r for r in audit["records"] if r["action"] == "inquiry.opened"]
    assert (own["actor"], own["ip"]) == ("self", OWN_IP)


# --- email preferences: a list never switched still has a standing --------------------------


def _subscriptions(document: dict) -> dict[str, dict]:
    category = next(c for c in document["categories"] if c["table"] == "subscription")
    return {record["list_id"]: record for record in category["records"]}


def test_lists_on_by_default_are_in_the_export_though_never_switched(client, person):
    """Regression: "Email preferences: Nothing held" while the default-on lists were on."""
    held = _subscriptions(client.get("/account/export.json").get_json())
    assert held["policy-updates"] == {
        "list_id": "policy-updates",
        "subscribed": True,
        "changed_at": None,
        "changed_via": "default",
    }
    assert held["service-updates"]["subscribed"] is True
    assert held["offers"]["subscribed"] is False


def test_a_list_the_person_switched_shows_their_choice_once(client, person, db):
    from webapp.preferences import set_subscription

    set_subscription(db, person.id, "service-updates", False, "page")
    held = _subscriptions(client.get("/account/export.json").get_json())
    assert held["service-updates"]["subscribed"] is False
    assert held["service-updates"]["changed_via"] == "page"
    document = client.get("/account/export.json").get_json()
    category = next(c for c in document["categories"] if c["table"] == "subscription")
    assert [r["list_id"] for r in category["records"]].count("service-updates") == 1


def test_the_page_shows_the_lists_a_new_person_is_on(client, person):
    html = client.get("/account/your-data").get_data(as_text=True)
    section = html[html.index('id="category-subscription"') :]
    section = section[: section.index("</section>")]
    assert "Nothing held" not in section
    assert "policy-updates" in section and "Yes" in section
