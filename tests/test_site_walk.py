"""Every GET page of the populated site, walked in Chromium as each kind of visitor.

For each page of `app.url_map` (variables filled from tests/populate.py; exceptions declared in
`routes.UNWALKED`), signed out, as the customer with data in every table and as staff with rows
in every queue:

- at 320, 390 and 1280 px the document is never wider than the screen (no sideways scrolling);
- the console shows no error (CSP violations, failed loads such as a missing favicon, scripts);
- axe-core finds no WCAG 2.2 A/AA violation, in the light and in the dark colour scheme.

One browser per worker, one populated database per worker; each visitor gets one tab for the
width and console checks (CSP enforced, as people get it) and one for axe (CSP bypassed so axe
can be injected), reused for every page.
"""

from __future__ import annotations

import pytest

from tests import routes
from tests.a11y import describe, violations
from tests.browser import new_tab, sign_in_with_browser
from tests.helpers import free_port, live_server
from tests.populate import CUSTOMER, STAFF
from webapp import create_app

pytestmark = pytest.mark.browser

WIDTHS = (320, 390, 1280)
WHO = {"signed out": None, "customer": CUSTOMER, "staff": STAFF}


@pytest.fixture(scope="module")
def site_url(populated_site):
    """The populated site, served on loopback."""
    routes.rules()  # built first: an app built later re-initialises the shared rate limiter
    port = free_port()
    live = create_app(
        {**populated_site[1].settings, "BASE_URL": f"http://localhost:{port}", "_LIVE_PORT": port}
    )
    with live_server(live) as url:
        yield url
    live.extensions["sentro.engine"].dispose()


def _pages(site) -> list[str]:
    return [path for _, path in routes.walked(site[1])]


def _open(page, url: str, path: str) -> bool:
    """Open `path`; True when it is one of our HTML pages (not the provider's, not a file)."""
    response = page.goto(path)
    kind = (response.headers.get("content-type", "") if response else "").split(";")[0]
    return page.url.startswith(url) and kind == "text/html"


@pytest.mark.parametrize("who", list(WHO))
def test_every_page_fits_every_screen_without_console_errors(
    who, site, site_url, chromium, provider_url
):
    errors: list[str] = []
    too_wide: list[str] = []
    with new_tab(chromium, site_url) as page:

        def console(message) -> None:
            # An error page's own status (a customer on a staff page: 403) is the page working;
            # any other failed load (a stylesheet, a favicon) or script error is not.
            own_status = message.location.get("url") == page.url and message.text.startswith(
                "Failed to load resource: the server responded with a status of 4"
            )
            if message.type == "error" and page.url.startswith(site_url) and not own_status:
                errors.append(f"{page.url}: {message.text}")

        page.on("console", console)
        page.on("pageerror", lambda e: errors.append(f"{page.url}: {e}"))
        if WHO[who]:
            sign_in_with_browser(page, provider_url, *WHO[who])
        seen = 0
        for path in _pages(site):
            page.set_viewport_size({"width": 1280, "height": 900})
            if not _open(page, site_url, path):
                continue
            seen += 1
            for width in WIDTHS:
                page.set_viewport_size({"width": width, "height": 900})
                scroll = page.evaluate("() => document.documentElement.scrollWidth")
                if scroll > width:
                    too_wide.append(f"{who} {path} at {width}px: {scroll}px wide")
    assert seen >= (5 if who == "signed out" else 25)
    assert not too_wide, "\n".join(too_wide)
    assert not errors, "\n".join(errors)


@pytest.mark.parametrize("who", list(WHO))
def test_every_page_is_accessible_in_light_and_dark(who, site, site_url, chromium, provider_url):
    failures: list[str] = []
    with new_tab(chromium, site_url, bypass_csp=True) as page:
        if WHO[who]:
            sign_in_with_browser(page, provider_url, *WHO[who])
        for path in _pages(site):
            page.emulate_media(color_scheme="light")
            if not _open(page, site_url, path):
                continue
            for scheme in ("light", "dark"):
                page.emulate_media(color_scheme=scheme)
                found = violations(page)
                if found:
                    failures.append(describe(f"{who} {path} ({scheme})", found))
    assert not failures, "\n\n".join(failures)


def test_the_width_check_sees_a_page_that_scrolls_sideways(chromium, site_url):
    """The control: a page with a 500 px wide box is wider than a 320 px screen."""
    with new_tab(chromium, site_url) as page:
        page.set_viewport_size({"width": 320, "height": 600})
        page.set_content('<html><body><div style="width:500px">x</div></body></html>')
        assert page.evaluate("() => document.documentElement.scrollWidth") > 320


@pytest.mark.parametrize("who", list(WHO))
def test_every_page_works_without_javascript(who, site, site_url, chromium, provider_url):
    """With JavaScript off: every page has its heading, the menu opens, every form can post."""
    from tests.test_accessibility import _broken_forms

    problems: list[str] = []
    with new_tab(chromium, site_url, java_script_enabled=False) as page:
        if WHO[who]:
            sign_in_with_browser(page, provider_url, *WHO[who])
        for path in _pages(site):
            page.set_viewport_size({"width": 1280, "height": 900})
            if not _open(page, site_url, path):
                continue
            if page.locator("main h1").count() < 1:
                problems.append(f"{path} has no heading")
            problems += _broken_forms(page.content(), path)
        if WHO[who]:
            page.set_viewport_size({"width": 390, "height": 844})
            page.goto("/account")
            page.get_by_text("Menu").click()
            menu = page.get_by_role("navigation", name="Sections")
            current = menu.locator("[aria-current=page]")
            assert current.inner_text() == "Account"
            menu.get_by_role("link", name="Your data").click()
            assert page.url.endswith("/account/your-data")
    assert not problems, "\n".join(problems)


FOCUS_VISIBLE = """() => {
    const el = document.activeElement;
    if (!el || el === document.body) return null;
    const style = getComputedStyle(el);
    const ring = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2;
    return {name: (el.textContent || el.getAttribute("aria-label") || el.name || el.tagName)
                  .replace(/\\s+/g, " ").trim().slice(0, 40),
            visible: ring || style.boxShadow !== "none",
            inMain: !!el.closest("main"),
            pastNavigation: !el.closest(".site-header, .sidenav, .banner, .consent-banner")};
}"""


@pytest.mark.parametrize("who", ["customer", "staff"])
def test_every_page_can_be_used_from_the_keyboard(who, site, site_url, chromium, provider_url):
    """Tab first reaches "Skip to main content", which lands in the page; every tab stop of the
    navigation and the first of the page shows a focus ring; on a phone the menu opens and
    leads to another section with the keyboard alone."""
    problems: list[str] = []
    with new_tab(chromium, site_url) as page:
        sign_in_with_browser(page, provider_url, *WHO[who])
        for path in _pages(site):
            page.set_viewport_size({"width": 1280, "height": 900})
            if not _open(page, site_url, path):
                continue
            if page.evaluate(FOCUS_VISIBLE):
                continue  # an edit page puts focus in its form (autofocus): no tab from the top
            page.keyboard.press("Tab")
            first = page.evaluate(FOCUS_VISIBLE)
            if not first or first["name"] != "Skip to main content":
                problems.append(f"{path}: the first tab stop is {first}")
                continue
            for _ in range(40):  # through the header, banners and side navigation, into the page
                page.keyboard.press("Tab")
                stop = page.evaluate(FOCUS_VISIBLE)
                if stop is None:
                    break
                if not stop["visible"]:
                    problems.append(f"{path}: no visible focus on {stop['name']}")
                if stop["inMain"]:
                    break
            page.locator(".skip-link").focus()
            page.keyboard.press("Enter")
            page.keyboard.press("Tab")
            after = page.evaluate(FOCUS_VISIBLE)
            if after and not after["pastNavigation"]:
                problems.append(f"{path}: after the skip link, Tab goes to {after['name']}")
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto("/account")
        page.keyboard.press("Tab")  # skip link
        for _ in range(6):
            page.keyboard.press("Tab")
            if page.evaluate(FOCUS_VISIBLE)["name"] == "Menu":
                break
        page.keyboard.press("Enter")
        for _ in range(15):
            page.keyboard.press("Tab")
            if page.evaluate(FOCUS_VISIBLE)["name"] == "Privacy questions":
                break
        page.keyboard.press("Enter")
        page.wait_for_url("**/account/privacy-requests")
    assert not problems, "\n".join(problems)
