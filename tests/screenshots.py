"""`make screenshots`: every page of the populated site, as customer, staff and signed out, at
desktop (1280 px) and phone (390 px) width, written to docs/screenshots/ as PNG.

The site is the one the route walkers open (tests/populate.py: a person with data in every
table, staff queues with rows, two policy versions), served on loopback with the development
OpenID provider; the browser is Debian's Chromium through Playwright. Each picture is the page
from its top, at most `MAX_HEIGHT` pixels tall, so the folder stays small.
"""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

from tests import routes
from tests.browser import CHROMIUM, CHROMIUM_ARGS, sign_in_with_browser
from tests.conftest import settings, sign_in
from tests.helpers import free_port, live_server
from tests.populate import CUSTOMER, STAFF, populate_site
from webapp import create_app
from webapp.dev.provider import run_provider

OUT = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}
MAX_HEIGHT = 2000
#: Pages that look the same for everyone are taken once, signed out; account pages as the
#: customer; staff pages as staff.
PUBLIC = (
    "public.",
    "policy.",
    "consent.cookies",
    "preferences.by_token",
    "preferences.unsubscribe",
    "auth.signed_out",
)


def _who(endpoint: str) -> str:
    if "_staff." in endpoint or endpoint.startswith("staff."):
        return "staff"
    if endpoint.startswith(PUBLIC) and endpoint != "policy.acknowledge":
        return "signed-out"
    return "customer"


def _name(who: str, rule, path: str, kind: str) -> str:
    """A stable file name: the path, or the endpoint where the path holds a signed token."""
    source = rule.endpoint if rule is not None and "token" in rule.arguments else path.lower()
    slug = re.sub(r"[^a-z0-9]+", "-", source).strip("-") or "home"
    return f"{who}--{slug[:60]}--{kind}.png"


def _save_small(png: bytes, target: Path) -> None:
    """Write the picture in at most 256 colours: flat interface colours survive, bytes do not."""
    from io import BytesIO

    from PIL import Image

    image = Image.open(BytesIO(png)).convert("RGB")
    image.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(target, optimize=True)


def main() -> int:
    """Build the populated site, then photograph every page; print what was written."""
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*.png"):
        old.unlink()
    with tempfile.TemporaryDirectory() as tmp, run_provider(port=0) as provider:
        provider_url = f"http://localhost:{provider.server_port}"
        port = free_port()
        config = {
            **settings(f"sqlite:///{tmp}/site.sqlite3", provider_url, free_port()),
            "BASE_URL": f"http://localhost:{port}",
            "_LIVE_PORT": port,
        }
        pages = routes.walked_rules()
        app = create_app(config)
        with app.app_context():
            from webapp.cli import upgrade_database

            upgrade_database()
        site = populate_site(app, provider_url, sign_in)
        plan: dict[str, list] = {"signed-out": [], "customer": [], "staff": []}
        for rule in pages:
            for path in site.path(rule):
                plan[_who(rule.endpoint)].append((rule, path))
        plan["signed-out"].append((None, "/error-404-no-such-page"))  # the not-found page
        plan["customer"].append((None, "/staff/"))  # a customer on a staff page: 403
        with live_server(app) as url, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for who, paths in plan.items():
                context = browser.new_context(base_url=url)
                page = context.new_page()
                if who != "signed-out":
                    sign_in_with_browser(
                        page, provider_url, *(CUSTOMER if who == "customer" else STAFF)
                    )
                for rule, path in paths:
                    for kind, (width, height) in WIDTHS.items():
                        page.set_viewport_size({"width": width, "height": height})
                        page.goto(path)
                        if not page.url.startswith(url):
                            break
                        full = page.evaluate("() => document.documentElement.scrollHeight")
                        clip = {"x": 0, "y": 0, "width": width, "height": min(full, MAX_HEIGHT)}
                        target = OUT / _name(who, rule, path, kind)
                        _save_small(page.screenshot(full_page=True, clip=clip), target)
                        print(target.relative_to(OUT.parent.parent))
                context.close()
            browser.close()
        app.extensions["sentro.engine"].dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
