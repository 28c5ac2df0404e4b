"""Every section is reachable from every page, and the page's own section is marked."""

from __future__ import annotations

import re

import pytest

from tests import routes
from tests.conftest import sign_in
from tests.populate import CUSTOMER, STAFF
from webapp.navigation import SECTIONS, Navigation


def _signed_in(site, provider_url, who):
    app, populated = site
    client = app.test_client()
    sign_in(client, provider_url, *(CUSTOMER if who == "customer" else STAFF))
    return app, populated, client


def _nav_links(html: str) -> list[str]:
    """The hrefs in the side navigation (the phone menu lists the same)."""
    aside = html.split('<aside class="sidenav">', 1)[1].split("</aside>", 1)[0]
    return re.findall(r'href="([^"]+)"', aside)


@pytest.mark.parametrize("who", ["customer", "staff"])
def test_every_section_is_linked_from_every_page(who, site, provider_url):
    app, populated, client = _signed_in(site, provider_url, who)
    with app.test_request_context():
        from flask import url_for

        expected = [url_for(s.endpoint) for s in SECTIONS if who == "staff" or not s.staff_only]
    missing, pages = {}, 0
    for _, path in routes.walked(populated):
        response = client.get(path)
        if response.mimetype != "text/html" or response.status_code >= 300:
            continue
        pages += 1
        html = response.get_data(as_text=True)
        menu = html.split('<details class="menu">', 1)[1].split("</details>", 1)[0]
        links = _nav_links(html)
        if links != expected or re.findall(r'href="([^"]+)"', menu) != expected:
            missing[path] = sorted(set(expected) - set(links))
    assert pages >= 20
    assert not missing


def test_the_page_and_its_section_are_marked_with_aria_current(site, provider_url):
    _, populated, client = _signed_in(site, provider_url, "customer")
    html = client.get("/account/privacy-requests").get_data(as_text=True)
    assert '<a href="/account/privacy-requests" aria-current="page">Privacy questions</a>' in html
    thread = populated.values["inquiries.thread"]["inquiry_id"]
    html = client.get(f"/account/privacy-requests/{thread}").get_data(as_text=True)
    assert '<a href="/account/privacy-requests" aria-current="true">Privacy questions</a>' in html
    assert html.count("aria-current") == 2  # the side navigation and the phone menu, once each


def test_customers_do_not_get_the_staff_list(site, provider_url):
    _, _, client = _signed_in(site, provider_url, "customer")
    html = client.get("/account").get_data(as_text=True)
    assert "/staff" not in html and ">Staff<" not in html


def test_the_navigation_is_worked_out_once_per_app(site, provider_url):
    app, _, client = _signed_in(site, provider_url, "staff")
    client.get("/account")
    built = app.extensions["sentro.navigation"]
    client.get("/staff/")
    assert app.extensions["sentro.navigation"] is built
    assert isinstance(built, Navigation)
    assert [label for label, _ in built.groups(staff=True)] == ["Your account", "Staff"]


def test_a_section_list_rendered_once_still_marks_each_page_its_own(client, person, login_as):
    """The rendered list is kept per page and rights: it is never carried to another page."""
    for path in ("/account", "/account/profile", "/account"):
        html = client.get(path).get_data(as_text=True)
        assert html.count(f'href="{path}" aria-current="page"') == 2, path
        assert html.count("aria-current") == 2, path
        assert "Staff</p>" not in html
    client.post("/logout")
    login_as("sam", email="sam@sentro.co", name="Sam Staff", groups=["sentro-staff"])
    assert client.get("/account").get_data(as_text=True).count("Staff</p>") == 2
