"""Every route the site serves, read from `app.url_map`, so tests cover pages added later.

The exceptions to the site-wide rules are declared here, once, as data.
"""

from __future__ import annotations

import re
from functools import cache
from urllib.parse import quote

from werkzeug.routing import Rule

from webapp import create_app

#: The endpoints that take unsafe methods without a CSRF token, and why. RFC 8058: the mail
#: client's one-click unsubscribe POST carries no cookie and no token by design.
CSRF_EXEMPT: dict[str, str] = {
    "preferences.unsubscribe": "RFC 8058 one-click unsubscribe: no cookies, no token, by design",
    "auth.backchannel_logout": "OIDC Back-Channel Logout: the provider's server posts a signed "
    "logout token, with no cookie and no CSRF token, by design",
}

#: GET endpoints that answer a file to save, not a page to read.
DOWNLOADS: set[str] = {"mydata.export_json"}

#: Where staff routes live: non-staff get 403 there.
STAFF_PREFIX = "/staff"

UNSAFE = ("POST", "PUT", "PATCH", "DELETE")
_PARAM = re.compile(r"<(?:(?P<converter>\w+)(?:\((?P<args>[^)]*)\))?:)?(?P<name>\w+)>")
SAMPLES = {"int": "1", "float": "1.0", "uuid": "00000000-0000-0000-0000-000000000001"}


@cache
def route_app():
    """An app built only to read its url_map (no database is opened)."""
    return create_app(
        {
            "SENTRO_ENV": "testing",
            "SECRET_KEY": "routes-only-secret-key-0123456789abcdef",
            "DATABASE_URL": "sqlite://",
            "OIDC_ISSUER": "http://localhost:1",
        }
    )


def rules() -> list[Rule]:
    """Every rule but the static files, in a stable order."""
    found = [r for r in route_app().url_map.iter_rules() if r.endpoint != "static"]
    return sorted(found, key=lambda r: (r.rule, r.endpoint))


def methods(rule: Rule) -> list[str]:
    """The methods a rule answers, without the automatic HEAD and OPTIONS."""
    return sorted(m for m in (rule.methods or ()) if m not in {"HEAD", "OPTIONS"})


def params(rule: Rule) -> list[tuple[str, str]]:
    """(converter, name) for each variable in the rule."""
    return [(m["converter"] or "default", m["name"]) for m in _PARAM.finditer(rule.rule)]


def fill(rule: Rule, values: dict[str, object] | None = None) -> str:
    """The rule's path with `values` (or a sample per converter) in its variables."""
    values = values or {}

    def one(match: re.Match) -> str:
        name = match["name"]
        if name in values:
            return quote(str(values[name]), safe="")
        if match["converter"] == "any":  # the first of the allowed values
            return match["args"].split(",")[0].strip().strip("'\"")
        return SAMPLES.get(match["converter"] or "default", "sample")

    return _PARAM.sub(one, rule.rule)


def rule_id(rule: Rule) -> str:
    """A readable test id."""
    return f"{rule.endpoint}:{rule.rule}"


def get_pages() -> list[Rule]:
    """Every GET rule without URL variables: the pages a person can open directly."""
    return [r for r in rules() if "GET" in methods(r) and not r.arguments]
