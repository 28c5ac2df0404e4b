"""The profile: a person sees what Sentro holds about them and corrects it, field group by group."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from webapp.audit import mask
from webapp.db import counting_round_trips
from webapp.models import AuditEvent, PaymentCard, User
from webapp.profile import forms, service
from webapp.profile.forms import GROUPS

PROFILE_COLUMNS = ("name", "preferred_name", "email", "phone", "address_line1", "address_line2",
                   "city", "region", "postcode", "country", "time_zone",
                   "profile_version")  # fmt: skip


def htmx_headers(group: str) -> dict[str, str]:
    """What htmx sends when a control inside `#field-<group>` asks for its region."""
    return {"HX-Request": "true", "HX-Target": f"field-{group}"}


def seen_in_form(client, group: str) -> str:
    """The digest an edit form carries, as a browser would submit it."""
    html = client.get(f"/account/profile/{group}/edit").get_data(as_text=True)
    return re.search(r'name="seen" value="([^"]*)"', html).group(1)


def stored(db, user_id: int) -> dict:
    """The person's profile columns as the database holds them now."""
    db.rollback()  # a fresh snapshot: end the read transaction a previous look began
    user = db.get(User, user_id)
    return {name: getattr(user, name) for name in PROFILE_COLUMNS}


def audit_rows(db, user_id: int) -> list[AuditEvent]:
    db.rollback()  # a fresh snapshot: end the read transaction a previous look began
    return list(db.exec(select(AuditEvent).where(AuditEvent.user_id == user_id)).all())


@pytest.fixture
def with_account_url(config):
    config["OIDC_ACCOUNT_URL"] = "https://id.example.test/account"


@pytest.fixture
def with_csrf(config):
    config["WTF_CSRF_ENABLED"] = True


def csrf_in(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


# --- the page --------------------------------------------------------------------------


def test_profile_needs_sign_in(client):
    response = client.get("/account/profile")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_the_page_shows_every_field_and_the_card_as_sentro_holds_it(client, person, db):
    db.add(PaymentCard(user_id=person.id, brand="Visa", last4="4242", exp_month=4, exp_year=2029))
    db.commit()
    html = client.get("/account/profile").get_data(as_text=True)
    for heading in ("Name", "Contact email", "Phone number", "Postal address"):
        assert f">{heading}</h2>" in html
    assert "Ana Customer" in html
    assert "ana@example.com" in html
    assert "Visa ending in 4242, expires 04/2029" in html
    assert "Member since" in html
    assert "managed by your sign-in provider" in html
    assert 'id="field-phone"' in html and 'href="/account/profile/phone/edit"' in html


def test_change_password_leads_to_the_provider_when_it_has_an_account_page(
    with_account_url, client, person
):
    html = client.get("/account/profile").get_data(as_text=True)
    assert '<a href="https://id.example.test/account">Change your password</a>' in html


def test_the_profile_page_issues_at_most_three_sql_statements(client, person, db, count_queries):
    db.add(PaymentCard(user_id=person.id, brand="Visa", last4="4242", exp_month=4, exp_year=2029))
    db.commit()
    client.post("/account/profile/email", data={"email": "new@example.com"})
    with count_queries() as statements:
        response = client.get("/account/profile")
    assert response.status_code == 200
    assert "new@example.com" in response.get_data(as_text=True)  # the pending notice is there
    assert len(statements) <= 3, statements


def test_the_profile_is_in_the_navigation(client, person):
    assert 'href="/account/profile"' in client.get("/account").get_data(as_text=True)


# --- editing inline (htmx) and on a plain page (no JavaScript) --------------------------


def test_edit_swaps_in_the_form_for_htmx_and_is_a_page_without_javascript(client, person):
    fragment = client.get("/account/profile/phone/edit", headers=htmx_headers("phone"))
    assert fragment.status_code == 200
    text = fragment.get_data(as_text=True)
    assert text.lstrip().startswith('<section id="field-phone"')
    assert 'hx-post="/account/profile/phone"' in text and "autofocus" in text
    page = client.get("/account/profile/phone/edit").get_data(as_text=True)
    assert "<html" in page and 'action="/account/profile/phone"' in page


def test_saving_with_htmx_answers_the_new_value_and_announces_it(client, person, db):
    seen = seen_in_form(client, "phone")
    response = client.post(
        "/account/profile/phone",
        data={"phone": "021 123 4567", "seen": seen},
        headers=htmx_headers("phone"),
    )
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "+64 21 123 4567" in text
    assert 'hx-swap-oob="innerHTML:#notices"' in text and "Phone number saved." in text
    assert stored(db, person.id)["phone"] == "+64211234567"


def test_saving_without_javascript_redirects_back_to_the_profile(client, person, db):
    seen = seen_in_form(client, "name")
    response = client.post(
        "/account/profile/name",
        data={"name": "  Ana   Te Customer ", "preferred_name": "Ana", "seen": seen},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/account/profile#field-name"
    saved = stored(db, person.id)
    assert saved["name"] == "Ana Te Customer" and saved["preferred_name"] == "Ana"
    page = client.get("/account/profile").get_data(as_text=True)
    assert "Name saved." in page


def test_saving_needs_the_csrf_token_from_the_form_or_the_htmx_header(
    with_csrf, client, person, db
):
    token = csrf_in(client.get("/account/profile/phone/edit").get_data(as_text=True))
    typed = {"phone": "021 123 4567", "seen": seen_in_form(client, "phone")}
    assert client.post("/account/profile/phone", data=typed).status_code == 400
    assert stored(db, person.id)["phone"] == ""
    assert (
        client.post("/account/profile/phone", data={**typed, "csrf_token": token}).status_code
        == 303
    )
    typed = {"phone": "021 765 4321", "seen": seen_in_form(client, "phone")}
    headers = {**htmx_headers("phone"), "X-CSRFToken": token}
    assert client.post("/account/profile/phone", data=typed, headers=headers).status_code == 200
    assert stored(db, person.id)["phone"] == "+64217654321"


def test_a_swapped_in_save_costs_no_more_statements_than_it_needs(
    app, client, person, count_queries
):
    typed = {"phone": "021 123 4567", "seen": seen_in_form(client, "phone")}
    with (
        count_queries() as statements,
        counting_round_trips(app.extensions["sentro.engine"]) as trips,
    ):
        client.post("/account/profile/phone", data=typed, headers=htmx_headers("phone"))
    # Load the person, then the change with its audit row: no card or email-change look-ups.
    # On PostgreSQL the change and the row are one statement in autocommit, no BEGIN/COMMIT.
    if app.extensions["sentro.engine"].dialect.name == "postgresql":
        assert len(statements) == 2, statements
        assert len(trips) == 2, trips
        assert not [t for t in trips if t.lstrip().upper().startswith(("BEGIN", "COMMIT"))]
    else:
        assert len(statements) == 3, statements


def test_cancel_restores_the_value(client, person):
    response = client.get("/account/profile", headers=htmx_headers("phone"))
    text = response.get_data(as_text=True)
    assert text.lstrip().startswith('<section id="field-phone"')
    assert "<form" not in text and "Not given" in text


def test_phone_is_stored_in_e164_and_shown_in_international_format(client, person, db):
    client.post(
        "/account/profile/phone",
        data={"phone": "+61 412 345 678", "seen": seen_in_form(client, "phone")},
    )
    assert stored(db, person.id)["phone"] == "+61412345678"
    assert "+61 412 345 678" in client.get("/account/profile").get_data(as_text=True)


@pytest.fixture
def in_australia(config):
    config["PHONE_DEFAULT_REGION"] = "AU"


def test_a_number_without_country_code_is_read_in_the_configured_region(
    in_australia, client, person, db
):
    typed = {"phone": "0412 345 678", "seen": seen_in_form(client, "phone")}
    assert client.post("/account/profile/phone", data=typed).status_code == 303
    assert stored(db, person.id)["phone"] == "+61412345678"


def test_new_zealand_is_the_default_region(app):
    assert app.config["PHONE_DEFAULT_REGION"] == "NZ"
    assert forms.clean_phone("021 123 4567", "NZ") == "+64211234567"


def test_an_address_is_saved_with_its_country_and_removed_by_clearing_it(client, person, db):
    address = {
        "address_line1": "1 Queen Street",
        "address_line2": "",
        "city": "Auckland",
        "region": "",
        "postcode": "1010",
        "country": "NZ",
    }
    seen = seen_in_form(client, "address")
    assert (
        client.post("/account/profile/address", data={**address, "seen": seen}).status_code == 303
    )
    assert stored(db, person.id)["country"] == "NZ"
    html = client.get("/account/profile").get_data(as_text=True)
    assert "1 Queen Street<br>Auckland<br>1010<br>New Zealand" in html
    cleared = dict.fromkeys(address, "")
    seen = seen_in_form(client, "address")
    assert (
        client.post("/account/profile/address", data={**cleared, "seen": seen}).status_code == 303
    )
    assert stored(db, person.id)["address_line1"] == "" and stored(db, person.id)["country"] == ""


def test_every_change_is_audited_with_masked_values_and_the_ip(client, person, db):
    client.post(
        "/account/profile/phone",
        data={"phone": "021 123 4567", "seen": seen_in_form(client, "phone")},
    )
    [event] = [e for e in audit_rows(db, person.id) if e.field == "phone"]
    assert event.action == "profile-corrected"
    assert event.actor == "self" and event.actor_id == person.id
    assert event.ip == "127.0.0.1"
    assert event.old_value == "" and event.new_value == mask("+64211234567") == "+•••••••••67"
    assert "1234567" not in event.new_value


def test_a_group_save_records_one_row_for_each_field_it_changed_and_no_other(client, person, db):
    before = {e.id for e in audit_rows(db, person.id)}
    address = {"address_line1": "1 Queen Street", "address_line2": "", "city": "Auckland"}
    address |= {"region": "", "postcode": "1010", "country": "NZ"}
    seen = seen_in_form(client, "address")
    client.post("/account/profile/address", data={**address, "seen": seen})
    new = [e for e in audit_rows(db, person.id) if e.id not in before]
    changed = {k for k, v in address.items() if v}
    assert sorted(e.field for e in new) == sorted(changed)
    assert {e.new_value for e in new} == {mask(address[e.field]) for e in new}
    assert all(e.ip == "127.0.0.1" and e.action == "profile-corrected" for e in new)


# --- refused input ----------------------------------------------------------------------

BAD_INPUT = [
    ("name", {"name": "", "preferred_name": ""}, "name", "Enter your full name."),
    ("name", {"name": "   ", "preferred_name": ""}, "name", "Enter your full name."),
    ("name", {"name": "A" * 201, "preferred_name": ""}, "name", "200 characters or fewer"),
    ("name", {"name": "Ana\x00", "preferred_name": ""}, "name", "control or invisible"),
    ("name", {"name": "Ana\u202eremmoC", "preferred_name": ""}, "name", "control or invisible"),
    ("name", {"name": "Ana", "preferred_name": "A\nB"}, "preferred_name", "control"),
    ("name", {"name": "Ana", "preferred_name": "x" * 101}, "preferred_name", "100 characters"),
    ("phone", {"phone": "banana"}, "phone", "Enter a phone number"),
    ("phone", {"phone": "021"}, "phone", "isn't a valid phone number"),
    ("phone", {"phone": "+1 999 999 9999"}, "phone", "isn't a valid phone number"),
    ("phone", {"phone": "021 123 4567 ext. 12"}, "phone", "Leave out the extension"),
    ("phone", {"phone": "9" * 41}, "phone", "too long"),
    (
        "address",
        {"address_line1": "1 Queen St", "city": "Auckland"},
        "country",
        "Choose your country",
    ),
    (
        "address",
        {"address_line1": "1 Queen St", "city": "Auckland", "country": "ZZ"},
        "country",
        "from the list",
    ),
    ("address", {"city": "Auckland", "country": "NZ"}, "address_line1", "first line"),
    ("address", {"address_line1": "1 Queen St", "country": "NZ"}, "city", "town or city"),
    (
        "address",
        {"address_line1": "x" * 121, "city": "A", "country": "NZ"},
        "address_line1",
        "120 characters",
    ),
    (
        "address",
        {"address_line1": "1", "city": "A", "country": "NZ", "postcode": "10;10"},
        "postcode",
        "letters, numbers",
    ),
    (
        "address",
        {"address_line1": "1\x07", "city": "A", "country": "NZ"},
        "address_line1",
        "control",
    ),
]


@pytest.mark.parametrize(("group", "typed", "field", "message"), BAD_INPUT)
def test_bad_input_is_refused_beside_the_field_and_nothing_is_saved(
    client, person, db, group, typed, field, message
):
    before = stored(db, person.id)
    seen = seen_in_form(client, group)
    response = client.post(
        f"/account/profile/{group}", data={**typed, "seen": seen}, headers=htmx_headers(group)
    )
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert text.lstrip().startswith(f'<section id="field-{group}"')
    error = re.search(rf'<p class="field-error" id="f-{field}-error">([^<]*)</p>', text)
    assert error and message in error.group(1).replace("&#39;", "'"), text
    tag = re.search(rf'<(?:input|select)[^>]*id="f-{field}"[^>]*>', text).group(0)
    assert 'aria-invalid="true"' in tag and f"f-{field}-error" in tag
    assert "Not saved" in text  # announced in the live region
    assert stored(db, person.id) == before
    assert audit_rows(db, person.id) == []


def test_without_javascript_a_refusal_is_the_edit_page_with_the_message(client, person, db):
    seen = seen_in_form(client, "phone")
    response = client.post("/account/profile/phone", data={"phone": "banana", "seen": seen})
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "<html" in text and "Enter a phone number" in text and 'value="banana"' in text


def test_an_unknown_group_is_not_found(client, person):
    assert client.get("/account/profile/subject/edit").status_code == 404
    assert client.post("/account/profile/is_staff", data={"is_staff": "1"}).status_code == 404


# --- two tabs ---------------------------------------------------------------------------


def test_a_second_tab_does_not_silently_overwrite_the_first(client, person, db):
    first_tab = seen_in_form(client, "phone")
    second_tab = seen_in_form(client, "phone")
    saved = client.post("/account/profile/phone", data={"phone": "021 111 1111", "seen": first_tab})
    assert saved.status_code == 303
    response = client.post(
        "/account/profile/phone",
        data={"phone": "021 222 2222", "seen": second_tab},
        headers=htmx_headers("phone"),
    )
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "changed somewhere else" in text and "+64 21 111 1111" in text  # the current value
    assert 'value="021 222 2222"' in text  # what they typed is not lost
    assert stored(db, person.id)["phone"] == "+64211111111"
    # The refreshed form knows the current value, so saving again is a deliberate choice.
    fresh = re.search(r'name="seen" value="([^"]*)"', text).group(1)
    again = client.post("/account/profile/phone", data={"phone": "021 222 2222", "seen": fresh})
    assert again.status_code == 303
    assert stored(db, person.id)["phone"] == "+64212222222"


def test_different_groups_in_two_tabs_do_not_conflict(client, person, db):
    phone_tab = seen_in_form(client, "phone")
    name_tab = seen_in_form(client, "name")
    client.post("/account/profile/phone", data={"phone": "021 111 1111", "seen": phone_tab})
    response = client.post(
        "/account/profile/name", data={"name": "Ana C", "preferred_name": "", "seen": name_tab}
    )
    assert response.status_code == 303


def test_a_save_racing_another_loses_instead_of_overwriting(app, person, db):
    """Between reading the row and writing it, another save lands: the version catches it."""
    user = db.get(User, person.id)
    seen = service.fingerprint(user, "phone")
    db.commit()  # the row was read; its values stay in hand while another save lands
    with app.extensions["sentro.engine"].begin() as other:
        other.execute(
            User.__table__.update()
            .where(User.__table__.c.id == person.id)
            .values(phone="+64211111111", profile_version=User.__table__.c.profile_version + 1)
        )
    with app.test_request_context():
        outcome = service.update_group(db, user, "phone", {"phone": "021 222 2222"}, seen=seen)
    assert outcome.conflict and not outcome.ok
    assert stored(db, person.id)["phone"] == "+64211111111"
    assert [e for e in audit_rows(db, person.id) if e.field == "phone"] == []


# --- no input makes a 500 ---------------------------------------------------------------

#: Anything a person, a browser or an attacker could type, and some near-misses of real values.
ANY_TEXT = st.one_of(
    st.text(max_size=260),
    st.sampled_from(
        [
            "",
            " ",
            "021 123 4567",
            "+64 21 123 4567",
            "NZ",
            "nz",
            "AU",
            "1010",
            "Ana",
            "+0",
            "٠٢١١٢٣٤٥٦٧",
            "\u200d",
            "a" * 121,
        ]
    ),
)


@pytest.mark.parametrize("group", ["name", "phone", "address", "timezone"])
def test_no_input_to_any_field_gives_a_server_error_and_a_refusal_saves_nothing(
    client, person, db, group
):
    fields = GROUPS[group].field_names

    @settings(max_examples=75, deadline=None, suppress_health_check=list(HealthCheck))
    @given(typed=st.fixed_dictionaries({name: ANY_TEXT for name in fields}))
    def check(typed: dict[str, str]) -> None:
        before = stored(db, person.id)
        audited = len(audit_rows(db, person.id))
        seen = service.fingerprint(db.get(User, person.id), group)
        response = client.post(
            f"/account/profile/{group}", data={**typed, "seen": seen}, headers=htmx_headers(group)
        )
        assert response.status_code in (200, 422), response.status_code
        after = stored(db, person.id)
        if response.status_code == 422:
            assert after == before
            assert len(audit_rows(db, person.id)) == audited
        else:
            changed = {k for k in PROFILE_COLUMNS if after[k] != before[k]}
            assert changed <= {*fields, "profile_version"}

    check()


@settings(max_examples=300, deadline=None)
@given(
    group=st.sampled_from(["name", "phone", "address", "email", "timezone"]),
    raw=st.text(alphabet=st.characters(exclude_categories=()), max_size=300),
)
def test_checking_any_text_for_any_field_answers_and_never_raises(group, raw):
    values = dict.fromkeys(GROUPS[group].field_names, raw)
    outcome = service.clean_group(group, values, phone_region="NZ")
    assert outcome.ok or outcome.errors
    if outcome.ok:
        for spec in GROUPS[group].fields:
            value = outcome.values[spec.name]
            assert len(value) <= max(spec.max_length, 16)
            assert not any(ord(c) < 32 or 0xD800 <= ord(c) <= 0xDFFF for c in value)


# --- the country list -------------------------------------------------------------------


def test_the_country_list_is_iso_3166_with_names_people_use():
    countries = dict(forms.countries())
    assert len(countries) >= 249
    assert countries["NZ"] == "New Zealand"
    assert countries["KR"] == "South Korea"
    assert all(len(code) == 2 and code.isupper() for code in countries)
    names = [name for _, name in forms.countries()]
    assert names.index("Afghanistan") < names.index("Åland Islands") < names.index("Albania")


# --- demo data --------------------------------------------------------------------------


def test_seeded_people_each_have_a_card_and_no_card_number(app, db):
    from webapp.dev.seed import seed_people

    with app.app_context():
        assert seed_people(3) == 3
        assert seed_people(3) == 0
    cards = db.exec(select(PaymentCard)).all()
    assert len(cards) == 3
    assert all(len(c.last4) == 4 and c.last4.isdigit() and 1 <= c.exp_month <= 12 for c in cards)
    assert set(PaymentCard.__table__.columns.keys()) == {
        "id", "user_id", "brand", "last4", "exp_month", "exp_year", "created_at"
    }  # fmt: skip


def test_the_demo_people_see_a_card_when_they_first_sign_in(app, client, login_as, db):
    from webapp.dev.__main__ import DEMO_USERS
    from webapp.dev.seed import seed_demo_people

    people = [(u.sub, u.claims) for u in DEMO_USERS]
    with app.app_context():
        assert seed_demo_people(app.config["OIDC_ISSUER"], people) == 2
        assert seed_demo_people(app.config["OIDC_ISSUER"], people) == 0
    login_as("customer", email="ana@example.com", name="Ana Customer")
    html = client.get("/account/profile").get_data(as_text=True)
    assert re.search(r"(Visa|Mastercard|American Express) ending in \d{4}, expires", html)
    assert len(db.exec(select(User)).all()) == 2  # the sign-in found the seeded person


# --- the time zone ------------------------------------------------------------------------


def test_the_time_zone_starts_at_auckland_and_is_chosen_from_every_iana_zone(client, person):
    assert stored_zone(client) == "Pacific/Auckland"
    html = client.get("/account/profile/timezone/edit").get_data(as_text=True)
    assert '<select id="f-time_zone" name="time_zone"' in html
    assert '<option value="Pacific/Auckland" selected>' in html
    assert '<option value="America/New_York">America/New York</option>' in html
    assert html.count("<option ") > 300


def stored_zone(client) -> str:
    html = client.get("/account/profile").get_data(as_text=True)
    region = html[html.index('id="field-timezone"') :]
    return re.search(r"<p>([^<]+?) <span", region).group(1).replace(" ", "_")


def test_a_chosen_zone_is_stored_and_every_time_is_shown_in_it(client, person, db):
    seen = seen_in_form(client, "timezone")
    response = client.post(
        "/account/profile/timezone", data={"time_zone": "Europe/London", "seen": seen}
    )
    assert response.status_code == 303
    assert stored(db, person.id)["time_zone"] == "Europe/London"
    html = client.get("/account/security").get_data(as_text=True)
    assert re.search(r"\d{2}:\d{2} (GMT|BST)", html), "sign-in times in London time"
    assert "NZDT" not in html and "NZST" not in html


@pytest.mark.parametrize(
    "typed", ["", "Mars/Olympus_Mons", "pacific/auckland", "../../etc/passwd", "NZ" * 40, "+13"]
)
def test_a_zone_not_in_the_list_is_refused_and_nothing_changes(client, person, db, typed):
    seen = seen_in_form(client, "timezone")
    before = stored(db, person.id)
    response = client.post(
        "/account/profile/timezone",
        data={"time_zone": typed, "seen": seen},
        headers=htmx_headers("timezone"),
    )
    assert response.status_code == 422
    assert "Choose a time zone from the list" in response.get_data(as_text=True)
    assert stored(db, person.id) == before


# --- polish: labels, notices, the change link, the country ------------------------------


def test_no_card_repeats_its_heading_as_a_field_label(client, person):
    html = client.get("/account/profile").get_data(as_text=True)
    for group in GROUPS.values():
        start = html.index(f'id="field-{group.name}"')
        card = html[start : html.index("</section>", start)]
        assert f"<dt>{group.label}</dt>" not in card, group.label
        assert card.count(group.label) == 1, f"{group.label} said more than once"


def test_opening_the_next_form_clears_the_last_saved_notice(client, person):
    seen = seen_in_form(client, "name")
    saved = client.post(
        "/account/profile/name",
        data={"name": "Ana C", "preferred_name": "", "seen": seen},
        headers=htmx_headers("name"),
    ).get_data(as_text=True)
    assert 'hx-swap-oob="innerHTML:#notices"><p class="notice notice-success">Name saved.' in saved
    editing = client.get("/account/profile/phone/edit", headers=htmx_headers("phone"))
    assert '<div hx-swap-oob="innerHTML:#notices"></div>' in editing.get_data(as_text=True)


def test_the_change_link_comes_before_a_pending_change_panel(client, person):
    client.post("/account/profile/email", data={"email": "new-ana@example.com"})
    html = client.get("/account/profile").get_data(as_text=True)
    card = html[html.index('id="field-email"') :]
    assert card.index('href="/account/profile/email/edit"') < card.index("Waiting for confirmation")


def test_the_country_starts_at_the_sites_region(client, person):
    html = client.get("/account/profile/address/edit").get_data(as_text=True)
    assert "Choose a country" not in html
    assert '<option value="NZ" selected>New Zealand</option>' in html


def test_the_country_follows_the_configured_region(in_australia, client, person):
    html = client.get("/account/profile/address/edit").get_data(as_text=True)
    assert '<option value="AU" selected>Australia</option>' in html


def test_a_country_alone_is_no_address(client, person, db):
    blank = dict.fromkeys(GROUPS["address"].field_names, "")
    seen = seen_in_form(client, "address")
    response = client.post(
        "/account/profile/address", data={**blank, "country": "NZ", "seen": seen}
    )
    assert response.status_code == 303
    assert stored(db, person.id)["country"] == ""
