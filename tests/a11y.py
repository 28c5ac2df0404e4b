"""axe-core in the browser tests: zero WCAG 2.2 A/AA violations, with readable failures.

`axe_page` is a tab whose context bypasses the CSP (the CSP rightly forbids the injected
script); `assert_accessible(page, where)` checks the page as it is now, so a test can call it
after an htmx swap too. axe-core is pinned in package.json; `make setup` copies it to
tests/vendor/ (never static/).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from tests.browser import _no_browser, new_tab

AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
AXE_FALLBACK = Path(__file__).resolve().parent.parent / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


@cache
def axe_source() -> str:
    """The pinned axe-core script."""
    for path in (AXE, AXE_FALLBACK):
        if path.exists():
            return path.read_text()
    _no_browser(f"axe-core missing at {AXE} (run `make setup`)")
    return ""


def violations(page) -> list[dict]:
    """axe's violations of the WCAG 2.2 A and AA rules on the page as it is now."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source())
    result = page.evaluate(
        """async (tags) => {
            const r = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
            return r.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
                nodes: v.nodes.map(n => ({target: n.target.join(' '),
                                          html: n.html.slice(0, 200),
                                          summary: n.failureSummary}))}));
        }""",
        WCAG_TAGS,
    )
    return result


def describe(where: str, found: list[dict]) -> str:
    """Violations as a person reads them: the rule, why, and each element."""
    lines = [f"{where}: {len(found)} accessibility violation(s)"]
    for v in found:
        lines.append(f"  [{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})")
        for node in v["nodes"][:5]:
            lines.append(f"      at {node['target']}: {node['html']}")
            lines.append("        " + (node["summary"] or "").replace("\n", "\n        "))
    return "\n".join(lines)


def assert_accessible(page, where: str = "") -> None:
    """Fail with a readable report when the page has any WCAG 2.2 A/AA violation."""
    found = violations(page)
    assert not found, describe(where or page.url, found)


@pytest.fixture
def axe_page(chromium, live_url):
    """A tab for accessibility checks (CSP bypassed so axe can be injected)."""
    with new_tab(chromium, live_url, bypass_csp=True) as page:
        yield page


@pytest.fixture
def axe_check():
    """`axe_check(page, where)`: the same check as a fixture, for tests after an htmx swap."""
    return assert_accessible
