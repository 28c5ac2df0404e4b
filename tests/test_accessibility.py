"""Every page a person can open, checked by axe-core (WCAG 2.2 A and AA) and without JavaScript.

The pages come from the url_map (GET routes without URL variables), so new pages are checked
without editing this file.
"""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

from tests import routes
from tests.a11y import describe, violations
from tests.browser import sign_in_with_browser

pytestmark = pytest.mark.browser

PAGES = [r.rule for r in routes.get_pages() if r.endpoint not in routes.DOWNLOADS]
CUSTOMER = ("ana", {"email": "ana@example.com", "name": "Ana Customer"})
STAFF = ("sam", {"email": "sam@sentro.co", "name": "Sam Staff", "groups": ["sentro-staff"]})


@pytest.fixture(autouse=True)
def _empty_tables_afterwards(app):
    """The live site shares the test database; `app`'s teardown empties it for the next test."""


def _visit_all(page, live_url: str, who: str) -> tuple[list[str], list[str]]:
    """Open every page; return (failure reports, pages checked)."""
    failures, checked = [], []
    for path in PAGES:
        response = page.goto(path)
        if not page.url.startswith(live_url):
            continue  # behind sign-in: the provider's page is not ours to check
        kind = (response.headers.get("content-type", "") if response else "").split(";")[0]
        if kind != "text/html":
            continue
        found = violations(page)
        if found:
            failures.append(describe(f"{who} {path} → {page.url}", found))
        checked.append(path)
    return failures, checked


def test_pages_signed_out_are_accessible(axe_page, live_url):
    failures, checked = _visit_all(axe_page, live_url, "signed out")
    assert "/" in checked
    assert not failures, "\n\n".join(failures)


def test_pages_signed_in_are_accessible(axe_page, live_url, provider_url):
    sign_in_with_browser(axe_page, provider_url, *CUSTOMER)
    failures, checked = _visit_all(axe_page, live_url, "customer")
    assert "/account" in checked
    assert not failures, "\n\n".join(failures)


def test_pages_for_staff_are_accessible(axe_page, live_url, provider_url):
    sign_in_with_browser(axe_page, provider_url, *STAFF)
    failures, checked = _visit_all(axe_page, live_url, "staff")
    assert "/staff/" in checked
    assert not failures, "\n\n".join(failures)


def test_error_pages_are_accessible(axe_page, live_url, provider_url):
    response = axe_page.goto("/no-such-page")
    assert response.status == 404
    not_found = violations(axe_page)
    sign_in_with_browser(axe_page, provider_url, *CUSTOMER)
    response = axe_page.goto("/staff/")
    assert response.status == 403
    forbidden = violations(axe_page)
    assert not not_found, describe("404 page", not_found)
    assert not forbidden, describe("403 page", forbidden)


def test_the_check_finds_a_real_violation(axe_page):
    """The control: a page with an unlabelled field and an image without alt text fails."""
    axe_page.set_content(
        '<html lang="en"><head><title>t</title></head><body><main>'
        '<img src="x.png"><input type="text"></main></body></html>'
    )
    found = {v["id"] for v in violations(axe_page)}
    assert {"image-alt", "label"} <= found


# --- without JavaScript ----------------------------------------------------------------


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({**attrs, "fields": [], "submits": 0})
        elif self.forms and tag in {"input", "button", "select", "textarea"}:
            form = self.forms[-1]
            form["fields"].append(attrs.get("name"))
            if tag == "button" and attrs.get("type", "submit") == "submit":
                form["submits"] += 1
            if tag == "input" and attrs.get("type") in {"submit", "image"}:
                form["submits"] += 1


def _broken_forms(html: str, path: str) -> list[str]:
    """Forms that could not work without JavaScript: no action route, no token, no button."""
    parser = _Forms()
    parser.feed(html)
    adapter = routes.route_app().url_map.bind("localhost")
    problems = []
    for form in parser.forms:
        method = form.get("method", "get").upper()
        action = urlsplit(form.get("action") or path)
        where = f"form on {path} → {method} {action.path}"
        if (
            action.netloc
            and action.netloc not in {"localhost"}
            and "localhost" not in action.netloc
        ):
            continue  # a form to the provider
        endpoint = None
        try:
            endpoint, _ = adapter.match(action.path, method=method)
        except Exception as exc:  # noqa: BLE001 - NotFound, MethodNotAllowed, RequestRedirect
            problems.append(f"{where}: no such route ({type(exc).__name__})")
        exempt = endpoint in routes.CSRF_EXEMPT
        if method == "POST" and "csrf_token" not in form["fields"] and not exempt:
            problems.append(f"{where}: no csrf_token field")
        if not form["submits"]:
            problems.append(f"{where}: no submit button")
    return problems


@pytest.mark.parametrize("who", ["signed out", "customer", "staff"])
def test_pages_work_without_javascript(who, nojs_page, live_url, provider_url):
    if who != "signed out":
        sign_in_with_browser(nojs_page, provider_url, *(CUSTOMER if who == "customer" else STAFF))
    problems, seen = [], 0
    for path in PAGES:
        response = nojs_page.goto(path)
        if not nojs_page.url.startswith(live_url):
            continue
        assert response is not None and response.status < 500, f"{path}: {response.status}"
        if response.headers.get("content-type", "").startswith("text/html"):
            seen += 1
            assert nojs_page.locator("main h1").count() >= 1, f"{path} has no heading"
            problems += _broken_forms(nojs_page.content(), path)
    assert seen
    assert not problems, "\n".join(problems)


def test_sign_out_works_without_javascript(nojs_page, live_url, provider_url):
    sign_in_with_browser(nojs_page, provider_url, *CUSTOMER)
    nojs_page.get_by_role("button", name="Sign out").click()
    nojs_page.wait_for_load_state()
    assert nojs_page.goto("/account").url != f"{live_url}/account"


def test_the_helper_works_in_an_ordinary_tab_too(browser_page, axe_check):
    """Tests of htmx swaps use `browser_page` (CSP enforced); the check still injects axe."""
    browser_page.goto("/")
    axe_check(browser_page, "front page in an ordinary tab")
