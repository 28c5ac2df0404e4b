"""In a real browser: nothing leaves for another host until a person allows analytics.

Google's script cannot load here (no internet), so requests to googletagmanager are answered
by an empty local script: what matters is whether, and when, the browser asked for it.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from webapp.consent.declarations import Kind, declaration_for

pytestmark = pytest.mark.browser

GA_ID = "G-TEST12345"
GTAG_URL = f"https://www.googletagmanager.com/gtag/js?id={GA_ID}"
SAVED = "Your privacy choices are saved."


@pytest.fixture
def config(config):
    """The live site runs with analytics configured, so that consent is what switches it on."""
    return {**config, "GA_MEASUREMENT_ID": GA_ID}


def answer_google_locally(page) -> list[str]:
    """Answer every googletagmanager request with an empty script; return the URLs asked for."""
    asked: list[str] = []

    def fulfil(route) -> None:
        asked.append(route.request.url)
        route.fulfill(status=200, content_type="text/javascript", body="")

    page.route("https://www.googletagmanager.com/**", fulfil)
    return asked


def tab_to(page, name: str, limit: int = 40) -> None:
    """Press Tab until the element named `name` has the focus, as a keyboard user would."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate("() => document.activeElement.textContent.trim()")
        if focused == name:
            return
    pytest.fail(f"{name!r} cannot be reached with the Tab key")


def optional_cookies(page) -> list[str]:
    names = [c["name"] for c in page.context.cookies()]
    assert all(declaration_for(n) for n in names), names
    return [n for n in names if declaration_for(n).needs_consent]


def test_a_fresh_visit_asks_no_other_host_and_sets_only_essential_cookies(browser_page):
    page = browser_page
    hosts: list[str] = []
    page.on("request", lambda request: hosts.append(urlsplit(request.url).hostname))
    for path in ("/", "/privacy/cookies", "/account/privacy-controls"):
        page.goto(path)
        page.wait_for_load_state("networkidle")
    assert set(hosts) == {"localhost"}
    assert optional_cookies(page) == []
    local, session = page.evaluate("() => [Object.keys(localStorage), Object.keys(sessionStorage)]")
    assert local == []
    for key in session:
        declared = declaration_for(key, Kind.SESSION_STORAGE)
        assert declared is not None and not declared.needs_consent, key


def test_the_banner_sits_in_the_page_without_blocking_it(browser_page):
    page = browser_page
    page.goto("/")
    banner = page.get_by_role("region", name="Cookies and your privacy")
    expect(banner).to_be_visible()
    assert banner.evaluate("e => getComputedStyle(e).position") in ("static", "relative")
    assert page.locator("[aria-modal=true], dialog[open]").count() == 0
    accept = page.get_by_role("button", name="Accept all").bounding_box()
    reject = page.get_by_role("button", name="Reject all").bounding_box()
    assert abs(accept["height"] - reject["height"]) < 1
    assert abs(accept["width"] - reject["width"]) < 12  # same style; only the words differ
    page.get_by_role("link", name="Sign in").last.click()  # the page stays usable
    assert "/oauth2/authorize" in page.url


def test_accepting_by_keyboard_loads_google_only_after_consent(browser_page):
    page = browser_page
    asked = answer_google_locally(page)
    page.goto("/")
    page.wait_for_load_state("networkidle")
    assert asked == []
    tab_to(page, "Accept all")
    with page.expect_response(GTAG_URL):
        page.keyboard.press("Enter")  # the page reloads: the tag needs a CSP that admits it
    assert asked == [GTAG_URL]
    expect(page.locator("#notices")).to_contain_text(SAVED)
    expect(page.get_by_role("region", name="Cookies and your privacy")).to_have_count(0)
    assert page.locator("script[data-measurement-id]").count() == 1


def test_withdrawing_removes_the_tag_and_the_ga_cookies(browser_page, live_url):
    page = browser_page
    asked = answer_google_locally(page)
    page.goto("/account/privacy-controls")
    with page.expect_response(GTAG_URL):
        page.get_by_role("switch", name="Analytics").click()  # the page reloads for the tag
    expect(page.locator("#notices")).to_contain_text(SAVED)
    # What Google's script would have left behind, host-only as the tag is configured.
    page.context.add_cookies(
        [
            {"name": "_ga", "value": "GA1.1.123.456", "url": live_url},
            {"name": "_ga_TEST12345", "value": "GS1.1.789", "url": live_url},
        ]
    )
    assert sorted(optional_cookies(page)) == ["_ga", "_ga_TEST12345"]

    page.get_by_role("switch", name="Analytics").click()
    expect(page.get_by_text("Now: not allowed")).to_be_visible()
    assert optional_cookies(page) == []
    assert page.locator("script[data-measurement-id]").count() == 0
    page.goto("/")
    page.wait_for_load_state("networkidle")
    assert asked == [GTAG_URL]  # once, while consent stood


def test_rejecting_by_keyboard_keeps_focus_and_everything_off(browser_page):
    page = browser_page
    asked = answer_google_locally(page)
    page.goto("/privacy/cookies")
    tab_to(page, "Reject all")
    page.keyboard.press("Enter")
    expect(page.get_by_text(SAVED)).to_be_focused()
    assert [c["name"] for c in page.context.cookies()].count("sentro_consent") == 1
    page.goto("/")
    page.wait_for_load_state("networkidle")
    expect(page.get_by_role("region", name="Cookies and your privacy")).to_have_count(0)
    assert asked == []
    assert optional_cookies(page) == []


def test_choosing_without_javascript(nojs_page):
    page = nojs_page
    page.goto("/privacy/cookies")
    page.get_by_role("button", name="Reject all").click()
    page.wait_for_url("**/privacy/cookies")
    expect(page.locator("#notices")).to_contain_text(SAVED)
    expect(page.get_by_role("region", name="Cookies and your privacy")).to_have_count(0)

    page.get_by_role("contentinfo").get_by_role("link", name="Privacy controls").click()
    page.get_by_role("switch", name="Analytics").click()  # a real button: it posts the form
    page.wait_for_url("**/account/privacy-controls")
    expect(page.locator("#notices")).to_contain_text(SAVED)
    page.get_by_role("switch", name="Internal research").click()
    page.wait_for_url("**/account/privacy-controls")
    expect(page.get_by_role("switch", name="Internal research")).to_have_attribute(
        "aria-checked", "true"
    )
    expect(page.locator("#choice-analytics")).to_contain_text("Now: allowed")
    expect(page.locator("#choice-personalisation")).to_contain_text("Now: not allowed")
    page.goto("/")
    assert page.locator("script[data-measurement-id]").count() == 1


def test_global_privacy_control_keeps_google_away_even_after_accepting(chromium, live_url):
    context = chromium.new_context(base_url=live_url, extra_http_headers={"Sec-GPC": "1"})
    page = context.new_page()
    page.set_default_timeout(10_000)
    asked = answer_google_locally(page)
    page.goto("/")
    banner = page.get_by_role("region", name="Cookies and your privacy")
    expect(banner).to_contain_text("Global Privacy Control")
    page.get_by_role("button", name="Accept all").click()
    expect(page.get_by_text(SAVED)).to_be_visible()
    page.goto("/account/privacy-controls")
    expect(page.locator("#gpc-notice")).to_be_visible()
    expect(page.locator("#choice-analytics")).to_contain_text("off (Global Privacy Control)")
    expect(page.get_by_role("switch", name="Analytics")).to_be_disabled()
    expect(page.locator("#choice-research")).to_contain_text("Now: allowed")
    page.wait_for_load_state("networkidle")
    assert asked == []
    assert optional_cookies(page) == []
    context.close()


def test_a_switch_saves_in_place_and_keeps_the_focus(browser_page, config):
    """With JavaScript: no page load, the row says Saved, and focus stays on the switch."""
    page = browser_page
    page.goto("/account/privacy-controls")
    research = page.get_by_role("switch", name="Internal research")
    expect(research).to_have_attribute("aria-checked", "false")
    page.evaluate("() => { window.stayed = true }")
    research.click()
    expect(research).to_have_attribute("aria-checked", "true")
    expect(page.locator("#choice-research")).to_contain_text("Saved")
    expect(research).to_be_focused()
    assert page.evaluate("() => window.stayed") is True  # swapped in place, not reloaded
    page.keyboard.press("Enter")
    expect(research).to_have_attribute("aria-checked", "false")
    expect(page.locator("#choice-research")).to_contain_text("Now: not allowed")
