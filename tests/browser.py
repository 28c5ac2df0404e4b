"""Browser fixtures: Playwright driving Debian's Chromium against the site on a loopback port.

Tests that use `browser_page` skip, with the reason, where no Chromium is installed, and fail
instead when REQUIRE_BROWSER=1 (as CI sets it).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.helpers import free_port, live_server
from webapp import create_app

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def _no_browser(reason: str) -> None:
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(f"REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium():
    """A running Chromium, shared by the session's browser tests."""
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        _no_browser(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _no_browser("the playwright package is not installed")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def live_url(config, migrated) -> Iterator[str]:
    """The site, served for real on loopback, with BASE_URL pointing at itself."""
    port = free_port()
    app = create_app({**config, "BASE_URL": f"http://localhost:{port}", "_LIVE_PORT": port})
    with live_server(app) as url:
        yield url
    app.extensions["sentro.engine"].dispose()


@contextmanager
def new_tab(chromium, live_url: str, **options) -> Iterator:
    """A tab in a fresh browser context (its own cookies) on the live site."""
    context = chromium.new_context(base_url=live_url, **options)
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def browser_page(chromium, live_url):
    """A fresh browser tab (its own cookies) on the live site."""
    with new_tab(chromium, live_url) as page:
        yield page


@pytest.fixture
def nojs_page(chromium, live_url):
    """A browser tab with JavaScript switched off, to prove every form works without it."""
    with new_tab(chromium, live_url, java_script_enabled=False) as page:
        yield page


def sign_in_with_browser(page, provider_url: str, sub: str, claims: dict) -> None:
    """Sign in through the provider's own page, as a person would."""
    import requests

    claims = {"email_verified": True, **claims}  # as login_as: the provider verified it
    requests.put(f"{provider_url}/users/{sub}", json=claims, timeout=5).raise_for_status()
    page.goto("/")
    page.get_by_role("link", name="Sign in").first.click()
    page.locator("input[name=sub]").fill(sub)
    page.locator("form button[type=submit], form input[type=submit]").first.click()
    page.wait_for_url("**/account")
