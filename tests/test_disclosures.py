"""Who received your information: staff record each release; the person sees it, unless withheld."""

from __future__ import annotations

import re
import tomllib
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from tests.people import make_person
from webapp.disclosures import service
from webapp.models import AuditEvent, Disclosure, User, privacy_of, utcnow
from webapp.wording import for_staff

TODAY = utcnow().date()


def release_form(**overrides) -> dict:
    """A complete, valid release for the register form, changed by `overrides`."""
    form = {
        "person": "ana@example.com",
        "recipient": "New Zealand Police",
        "disclosed_on": (TODAY - timedelta(days=3)).isoformat(),
        "categories": ["Account", "Sign-in history"],
        "other_categories": "",
        "purpose": "Investigation of a reported fraud.",
        "legal_basis": "Production order under the Search and Surveillance Act 2012",
        "reference": "NZP-2026-0042",
        "withheld_until": "",
        "withheld_reason": "",
    }
    form.update(overrides)
    return form


def add_release(db, person: User, **values) -> Disclosure:
    """A release recorded earlier, straight into the register."""
    row = Disclosure(
        user_id=person.id,
        recipient=values.pop("recipient", "Inland Revenue"),
        disclosed_on=values.pop("disclosed_on", TODAY - timedelta(days=30)),
        categories=values.pop("categories", ["Account"]),
        purpose=values.pop("purpose", "Tax audit"),
        legal_basis=values.pop("legal_basis", "Tax Administration Act 1994, s 17B"),
        **values,
    )
    db.add(row)
    db.commit()
    return row


@pytest.fixture
def ana(db) -> User:
    return make_person(db, "ana-elsewhere", "ana@example.com")


# --- staff record releases -------------------------------------------------------------


def test_staff_record_a_release_and_it_is_audited_on_the_person(client, staff, ana, db):
    response = client.post("/staff/disclosures", data=release_form())
    assert response.status_code == 303
    stored = db.exec(select(Disclosure)).one()
    assert (stored.user_id, stored.recipient, stored.recorded_by) == (
        ana.id,
        "New Zealand Police",
        staff.id,
    )
    assert stored.categories == ["Account", "Sign-in history"]
    event = db.exec(select(AuditEvent).where(AuditEvent.user_id == ana.id)).one()
    assert (event.actor, event.actor_id, event.action) == ("staff", staff.id, "disclosure.recorded")
    register = client.get("/staff/disclosures").get_data(as_text=True)
    assert "New Zealand Police" in register and "NZP-2026-0042" in register


def test_the_register_speaks_about_the_person_while_the_person_reads_their_own_words(
    client, login_as, db
):
    ana = login_as("ana", email="ana@example.com")
    add_release(db, ana, categories=["Changes to your data", "Emails we sent you"])
    client.post("/logout")
    login_as("sam", email="sam@sentro.co", groups=["sentro-staff"])
    register = client.get("/staff/disclosures").get_data(as_text=True)
    for staff_words in ["Changes to their data", "Emails we sent them", "Their statements of"]:
        assert staff_words in register, staff_words
    form = register.split('id="record-heading"')[1].split("</section>")[0]
    assert not re.search(r"\b(your|you)\b", re.sub(r"<[^>]*>", " ", form), re.I)
    assert 'value="Changes to your data"' in register  # stored as the person reads it
    client.post("/logout")
    login_as("ana", email="ana@example.com")
    mine = client.get("/account/disclosures").get_data(as_text=True)
    assert "Changes to your data" in mine and "Emails we sent you" in mine


@pytest.mark.parametrize(
    ("to_the_person", "about_them"),
    [
        ("Changes to your data", "Changes to their data"),
        ("Emails we sent you", "Emails we sent them"),
        ("Your statements of correction", "Their statements of correction"),
        ("When you asked us to close your account", "When they asked us to close their account"),
        ("if you sign in again", "if they sign in again"),
        ("if you, or the Privacy Commissioner, ask", "if they, or the Privacy Commissioner, ask"),
        ("Not shown to you until", "Not shown to them until"),
        ("Account", "Account"),
        ("Youth and yours", "Youth and theirs"),
    ],
)
def test_staff_wording_rewrites_what_the_data_map_says_to_the_person(to_the_person, about_them):
    assert for_staff(to_the_person) == about_them


def test_staff_find_the_person_by_account_number_too(client, staff, ana, db):
    response = client.post("/staff/disclosures", data=release_form(person=str(ana.id)))
    assert response.status_code == 303
    assert db.exec(select(Disclosure)).one().user_id == ana.id


def test_other_categories_are_added_to_the_chosen_ones(client, staff, ana, db):
    form = release_form(categories=[], other_categories="Card (last four digits), Orders")
    assert client.post("/staff/disclosures", data=form).status_code == 303
    assert db.exec(select(Disclosure)).one().categories == ["Card (last four digits)", "Orders"]


def test_an_email_two_accounts_share_asks_for_the_account_number(client, staff, ana, db):
    make_person(db, "ana-again", "ANA@example.com")
    response = client.post("/staff/disclosures", data=release_form())
    assert response.status_code == 422
    assert "use the account number" in response.get_data(as_text=True)
    assert db.exec(select(Disclosure)).all() == []


def test_the_register_finds_one_persons_releases(client, staff, ana, db):
    other = make_person(db, "ben", "ben@example.com")
    add_release(db, ana, recipient="Ana's recipient")
    add_release(db, other, recipient="Ben's recipient")
    page = client.get("/staff/disclosures", query_string={"person": "ana@example.com"})
    html = page.get_data(as_text=True)
    assert "Ana&#39;s recipient" in html and "Ben&#39;s recipient" not in html
    missing = client.get("/staff/disclosures", query_string={"person": "nobody@example.com"})
    assert "No account has that email or number." in missing.get_data(as_text=True)


def register_recipients(client, **query) -> list[str]:
    html = client.get("/staff/disclosures", query_string=query).get_data(as_text=True)
    return re.findall(r"<td>(Recipient \d+)", html)


def test_the_register_finds_a_person_by_account_number_and_names_them(client, staff, ana, db):
    other = make_person(db, "ben", "ben@example.com")
    add_release(db, ana, recipient="Recipient 1")
    add_release(db, other, recipient="Recipient 2")
    html = client.get("/staff/disclosures", query_string={"person": str(ana.id)})
    assert f"(ana@example.com, account {ana.id})" in html.get_data(as_text=True)
    assert register_recipients(client, person=str(ana.id)) == ["Recipient 1"]
    assert register_recipients(client, person=f"{other.id}") == ["Recipient 2"]


def test_a_search_for_an_email_two_accounts_share_lists_neither(client, staff, ana, db):
    twin = make_person(db, "ana-again", "ANA@example.com")
    add_release(db, ana, recipient="Recipient 1")
    add_release(db, twin, recipient="Recipient 2")
    html = client.get("/staff/disclosures", query_string={"person": "Ana@Example.com"})
    assert "use the account number" in html.get_data(as_text=True)
    assert register_recipients(client, person="ana@example.com") == []
    assert register_recipients(client, person=str(twin.id)) == ["Recipient 2"]


def test_the_register_pages_newest_first(client, staff, ana, db):
    for n in range(service.PAGE_SIZE + 1):
        add_release(db, ana, recipient=f"Recipient {n}")
    newest = [f"Recipient {n}" for n in range(service.PAGE_SIZE, -1, -1)]
    for query in ({}, {"person": "ana@example.com"}):
        first = client.get("/staff/disclosures", query_string=query).get_data(as_text=True)
        assert register_recipients(client, **query) == newest[: service.PAGE_SIZE]
        assert ">Older</a>" in first and ">Newer</a>" not in first
        second = client.get("/staff/disclosures", query_string={**query, "page": "2"})
        assert register_recipients(client, **query, page="2") == newest[service.PAGE_SIZE :]
        assert ">Newer</a>" in second.get_data(as_text=True)


def test_an_htmx_record_answers_the_form_and_refreshes_the_register(client, staff, ana):
    response = client.post(
        "/staff/disclosures",
        data=release_form(),
        headers={"HX-Request": "true", "HX-Target": "record"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in html
    assert 'id="record"' in html and 'hx-swap-oob="true"' in html
    assert "Recorded the release." in html and "New Zealand Police" in html


BAD_RELEASES = [
    ({"person": ""}, "person", "Enter the person&#39;s email or account number."),
    ({"person": "nobody@example.com"}, "person", "No account has that email or number."),
    ({"recipient": ""}, "recipient", "Say who received the information."),
    ({"recipient": "   "}, "recipient", "Say who received the information."),
    ({"recipient": "x" * 201}, "recipient", "Keep this under 200 characters."),
    ({"recipient": "Police\x00"}, "recipient", "Remove the invisible or control characters"),
    ({"recipient": "Police\u202e"}, "recipient", "Remove the invisible or control characters"),
    ({"purpose": ""}, "purpose", "Say why the information was provided."),
    ({"purpose": "y" * 2001}, "purpose", "Keep this under 2000 characters."),
    ({"purpose": "bell\x07"}, "purpose", "Remove the invisible or control characters"),
    ({"legal_basis": ""}, "legal_basis", "Give the legal basis for the release."),
    ({"reference": "r" * 121}, "reference", "Keep this under 120 characters."),
    ({"disclosed_on": ""}, "disclosed_on", "Enter the date the information was provided."),
    ({"disclosed_on": "31/02/2026"}, "disclosed_on", "Enter a real date, like 2026-03-05."),
    (
        {"disclosed_on": (TODAY + timedelta(days=1)).isoformat()},
        "disclosed_on",
        "the date is in the future",
    ),
    ({"categories": [], "other_categories": ""}, "categories", "at least one kind"),
    ({"categories": ["Not a category"]}, "categories", "not a valid choice"),
    (
        {"withheld_until": (TODAY + timedelta(days=30)).isoformat()},
        "withheld_reason",
        "Say why the person is not told yet",
    ),
    ({"withheld_reason": "Investigation"}, "withheld_until", "Give the date until which"),
    (
        {"withheld_until": TODAY.isoformat(), "withheld_reason": "Investigation"},
        "withheld_until",
        "Choose a date after today",
    ),
]


@pytest.mark.parametrize(("change", "field", "message"), BAD_RELEASES)
def test_a_bad_release_is_refused_with_a_message_and_nothing_stored(
    client, staff, ana, db, change, field, message
):
    response = client.post("/staff/disclosures", data=release_form(**change))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in html
    assert f'id="{field}-error"' in html or field == "categories"
    assert db.exec(select(Disclosure)).all() == []
    assert db.exec(select(AuditEvent)).all() == []


# --- the person sees them --------------------------------------------------------------


def test_the_person_sees_each_release_about_them(client, login_as, db):
    ana = login_as("ana", email="ana@example.com")
    add_release(db, ana, recipient="Inland Revenue", reference="IR-7")
    html = client.get("/account/disclosures").get_data(as_text=True)
    assert "Inland Revenue" in html and "IR-7" in html and "Tax audit" in html
    assert "Tax Administration Act 1994, s 17B" in html


def test_a_person_with_no_releases_is_told_so(client, person):
    html = client.get("/account/disclosures").get_data(as_text=True)
    assert "We have no record of providing your information to anyone outside Sentro" in html


def test_a_withheld_release_is_hidden_until_its_date_then_shown(client, login_as, db):
    ana = login_as("ana", email="ana@example.com")
    add_release(
        db,
        ana,
        recipient="Serious Fraud Office",
        withheld_until=TODAY + timedelta(days=1),
        withheld_reason="Investigation in progress",
    )
    add_release(
        db,
        ana,
        recipient="Department of Internal Affairs",
        withheld_until=TODAY,
        withheld_reason="Investigation concluded today",
    )
    html = client.get("/account/disclosures").get_data(as_text=True)
    assert "Serious Fraud Office" not in html
    assert "Department of Internal Affairs" in html
    assert "Investigation concluded today" in html

    tomorrow = TODAY + timedelta(days=1)
    shown = service.disclosures_for_person(db.get_bind(), ana.id, on=tomorrow)
    assert {d.recipient for d in shown} == {
        "Serious Fraud Office",
        "Department of Internal Affairs",
    }


def test_recording_a_withheld_release_leaves_no_trace_in_the_persons_file(client, staff, ana, db):
    form = release_form(
        withheld_until=(TODAY + timedelta(days=60)).isoformat(),
        withheld_reason="Investigation in progress",
    )
    assert client.post("/staff/disclosures", data=form).status_code == 303
    assert db.exec(select(AuditEvent).where(AuditEvent.user_id == ana.id)).all() == []
    event = db.exec(select(AuditEvent).where(AuditEvent.user_id == staff.id)).one()
    assert event.action == "disclosure.recorded-withheld"
    assert event.field == f"disclosure:{db.exec(select(Disclosure)).one().id}"


def test_the_data_map_tells_every_view_of_the_data_to_hide_withheld_releases(db, login_as):
    ana = login_as("ana")
    add_release(db, ana, withheld_until=TODAY + timedelta(days=5), withheld_reason="Inquiry")
    add_release(db, ana, recipient="Shown")
    table = Disclosure.__table__
    row_filter = privacy_of(table).extra["export_where"]
    for now in (TODAY, utcnow()):
        visible = db.exec(select(table.c.recipient).where(row_filter(table, now))).all()
        assert list(visible) == ["Shown"]


def test_a_person_never_sees_another_persons_releases(client, login_as, db):
    ben = make_person(db, "ben", "ben@example.com")
    add_release(db, ben, recipient="Ben's recipient", reference="BEN-1")
    login_as("ana", email="ana@example.com")
    html = client.get("/account/disclosures").get_data(as_text=True)
    assert "Ben&#39;s recipient" not in html and "BEN-1" not in html


def test_every_standing_third_party_in_the_data_file_is_listed_with_what_and_why(client, person):
    with service.THIRD_PARTIES_FILE.open("rb") as f:
        parties = tomllib.load(f)["party"]
    html = client.get("/account/disclosures").get_data(as_text=True)
    names = [p["name"] for p in parties]
    for expected in ("authentication", "Google Analytics", "Intercom", "Firebase", "card vault"):
        assert any(expected in name for name in names), expected
    for party in parties:
        assert party["name"] in html
        assert party["why"] in html
        assert all(item in html for item in party["receives"])


def test_the_disclosures_page_costs_at_most_three_queries(client, login_as, db, count_queries):
    ana = login_as("ana")
    for n in range(5):
        add_release(db, ana, recipient=f"Recipient {n}")
    with count_queries() as statements:
        assert client.get("/account/disclosures").status_code == 200
    assert len(statements) <= 3, statements


def test_the_disclosures_page_needs_sign_in(client):
    response = client.get("/account/disclosures")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


# --- only staff ------------------------------------------------------------------------


STAFF_ROUTES = [("get", "/staff/disclosures"), ("post", "/staff/disclosures")]


@pytest.mark.parametrize(("method", "path"), STAFF_ROUTES)
def test_people_who_are_not_staff_get_403_and_change_nothing(client, login_as, db, method, path):
    make_person(db, "ben", "ben@example.com")
    login_as("ana", email="ana@example.com")
    response = getattr(client, method)(path, data=release_form(person="ben@example.com"))
    assert response.status_code == 403
    assert db.exec(select(Disclosure)).all() == []


@pytest.mark.parametrize(("method", "path"), STAFF_ROUTES)
def test_the_register_needs_sign_in(client, method, path):
    response = getattr(client, method)(path, data=release_form())
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_every_staff_route_of_the_register_is_walked(app):
    rules = {
        (method.lower(), rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("disclosures_staff.")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert rules == set(STAFF_ROUTES)


# --- retention -------------------------------------------------------------------------


def test_releases_are_retained_after_closure_with_a_stated_reason():
    from webapp.models import RETAIN, personal_columns

    category = privacy_of(Disclosure.__table__)
    assert category.delete_rows_on_closure is False
    for name, declaration in personal_columns(Disclosure.__table__).items():
        assert declaration.on_closure is RETAIN, name
        assert "Privacy Act 2020" in declaration.retention.basis


# --- no input makes a 500 --------------------------------------------------------------

typed = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=400)
FIELDS = [k for k in release_form() if k != "categories"]


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    values=st.fixed_dictionaries({}, optional={name: typed for name in FIELDS}),
    categories=st.lists(typed, max_size=3),
)
def test_no_register_input_makes_a_server_error(client, staff, ana, db, values, categories):
    response = client.post("/staff/disclosures", data=release_form(**values, categories=categories))
    assert response.status_code in (303, 422)
    if response.status_code == 422:
        assert db.exec(select(Disclosure)).all() == []
        db.rollback()  # no read snapshot left open: the next example's request may write
    else:
        db.exec(Disclosure.__table__.delete())
        db.commit()


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(person=typed, page=typed | st.integers(-5, 10**7).map(str))
def test_no_register_search_makes_a_server_error(client, staff, ana, person, page):
    response = client.get("/staff/disclosures", query_string={"person": person, "page": page})
    assert response.status_code == 200


@pytest.mark.parametrize(
    "query", [{}, {"person": "ANA@example.com"}, {"person": "{id}"}, {"page": "2"}]
)
def test_the_register_is_read_with_the_staff_member_in_one_round_trip(
    app, client, staff, ana, db, count_queries, query
):
    """The staff member with their session, the accounts searched for and the page of the
    register: three statements, sent together on PostgreSQL; SQLite runs them in turn."""
    from webapp.db import counting_round_trips

    add_release(db, ana)
    query = {k: v.format(id=ana.id) for k, v in query.items()}
    client.get("/staff/disclosures", query_string=query)  # warm
    engine = app.extensions["sentro.engine"]
    with count_queries() as statements, counting_round_trips(engine) as trips:
        response = client.get("/staff/disclosures", query_string=query)
    assert response.status_code == 200
    assert len(statements) == 3, statements
    assert len(trips) == (1 if engine.dialect.name == "postgresql" else 3), trips


@pytest.mark.parametrize(
    ("search", "message"),
    [
        ("²", "No account has that email or number."),
        ("9" * 20, "No account has that email or number."),
        ("%@example.com", "No account has that email or number."),
        ("ana\x00@example.com", "Remove the invisible or control characters"),
    ],
)
def test_an_odd_register_search_finds_no_one_and_says_so(client, staff, ana, search, message):
    response = client.get("/staff/disclosures", query_string={"person": search})
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)


def test_every_element_id_on_the_register_is_unique(client, staff, ana, db):
    import re

    add_release(db, ana)
    for path in ("/staff/disclosures", "/account/disclosures"):
        ids = re.findall(r'\bid="([^"]+)"', client.get(path).get_data(as_text=True))
        assert len(ids) == len(set(ids)), (path, sorted(i for i in ids if ids.count(i) > 1))
