"""Every route the site serves, read from `app.url_map`, so tests cover pages added later.

The exceptions to the site-wide rules are declared here, once, as data.
"""

from __future__ import annotations

import inspect
import re
import sys
from collections.abc import Callable
from functools import cache
from types import CodeType, FunctionType, ModuleType
from urllib.parse import quote

from flask import Flask
from werkzeug.routing import Rule
from wtforms import Form
from wtforms.fields.core import UnboundField

from webapp import create_app
from webapp.auth import staff_required

#: The endpoints a signed-out visitor may use, and why. Every other route refuses a visitor
#: who is not signed in (tests/test_security.py walks them all): a new public route is one
#: line here, with its reason.
PUBLIC: dict[str, str] = {
    "public.home": "the front page",
    "public.healthz": "load balancers ask without signing in",
    "auth.login": "where signing in starts",
    "auth.callback": "the provider sends the browser back here",
    "auth.logout_page": "the sign-out button (a signed-out visitor is sent home)",
    "auth.logout": "signing out when already signed out changes nothing",
    "auth.signed_out": "where the provider sends the browser after signing out",
    "policy.current": "the privacy policy is public",
    "policy.versions": "every version of the policy is public",
    "policy.version": "every version of the policy is public",
    "policy.compare": "the comparison of public versions is public",
    "consent.cookies": "the cookie declaration is public",
    "consent.answer_banner": "the cookie banner is answered before anyone signs in",
    "consent.controls": "cookie and storage choices are made before anyone signs in",
    "consent.save_controls": "cookie and storage choices are made before anyone signs in",
    "preferences.by_token": "an emailed link: the signed token says whose preferences",
    "preferences.save_by_token": "an emailed link: it may only reduce mail",
    "preferences.new_link": "an emailed link: a fresh one goes to the address on file",
    "preferences.unsubscribe": "RFC 8058: the unsubscribe link works without any sign-in",
    "profile.confirm_email": "the new address's link works in whatever browser opens it",
    "profile.undo_email": "the old address's link works in whatever browser opens it",
    "profile.email_link_done": "what such a link did, shown in that browser",
    "mydata.signed_out_everywhere": "shown after 'This wasn't me' ended every session",
    "auth.backchannel_logout": "the provider's server posts a signed logout token, no cookie",
}

#: The endpoints that take unsafe methods without a CSRF token, and why. Each must refuse a
#: bad token and change nothing for it (tests/test_security.py proves both).
CSRF_EXEMPT: dict[str, str] = {
    "preferences.unsubscribe": "RFC 8058 one-click unsubscribe: no cookies, no token, by design",
    "auth.backchannel_logout": "OIDC Back-Channel Logout: the provider's server posts a signed "
    "logout token, with no cookie and no CSRF token, by design",
}

#: GET endpoints that answer a file to save, not a page to read.
DOWNLOADS: set[str] = {"mydata.export_json"}

#: GET endpoints the populated-site walkers do not open, and why. Everything else in the url_map
#: is opened with its variables filled from tests/populate.py (`Site.values`).
UNWALKED: dict[str, str] = {
    "auth.callback": "the provider's redirect target: without its one-time code it is an error by design",
    "auth.login": "leaves the site for the OpenID provider's page, which is not ours to check",
    "mydata.export_json": "a JSON download, not a page (DOWNLOADS)",
    "public.healthz": "a machine's health answer, not a page",
}

#: Where the staff pages live. Staff routes are found by their guard (`staff_required`);
#: every route under this prefix must carry it.
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
            # Flask-Limiter's limiter is one object: building this app must not switch it on
            # under a live test server that was built with limits off.
            "RATELIMIT_ENABLED": False,
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


def walked_rules() -> list[Rule]:
    """Every GET rule the populated-site walkers open."""
    return [r for r in rules() if "GET" in methods(r) and r.endpoint not in UNWALKED]


def walked(site) -> list[tuple[Rule, str]]:
    """(rule, path) for every GET page of the populated site, variables filled from its data."""
    return [(rule, path) for rule in walked_rules() for path in site.path(rule)]


def get_pages() -> list[Rule]:
    """Every GET rule without URL variables: the pages a person can open directly."""
    return [r for r in rules() if "GET" in methods(r) and not r.arguments]


# --- guards and forms, read from the views ---------------------------------------------


def _view(rule: Rule, app: Flask | None = None) -> Callable:
    return (app or route_app()).view_functions[rule.endpoint]


@cache
def _guard_codes(guard: Callable) -> frozenset[CodeType]:
    """The code of the wrappers `guard` defines (its nested functions, at any depth)."""
    found: set[CodeType] = set()
    pending = [guard.__code__]
    while pending:
        for const in pending.pop().co_consts:
            if isinstance(const, CodeType):
                found.add(const)
                pending.append(const)
    return frozenset(found)


def guarded_by(rule: Rule, guard: Callable, app: Flask | None = None) -> bool:
    """Whether the rule's view runs one of `guard`'s wrappers, under any other decorators.

    Decorators reach the function they wrap through `__wrapped__` or their closure, so both
    are followed; what a view's own closure holds is not a decorator, and a view that merely
    calls the guard's wrapper code would have to be a wrapper itself.
    """
    codes = _guard_codes(guard)
    pending: list[object] = [_view(rule, app)]
    seen: set[int] = set()
    while pending:
        fn = pending.pop()
        if not isinstance(fn, FunctionType) or id(fn) in seen:
            continue
        seen.add(id(fn))
        if fn.__code__ in codes:
            return True
        pending.append(getattr(fn, "__wrapped__", None))
        pending += [cell.cell_contents for cell in fn.__closure__ or () if _filled(cell)]
    return False


def _filled(cell) -> bool:
    try:
        cell.cell_contents  # noqa: B018 - an empty cell raises
    except ValueError:
        return False
    return True


def staff_only(rule: Rule, app: Flask | None = None) -> bool:
    """Whether only staff may use the rule: its view carries `staff_required`."""
    return guarded_by(rule, staff_required, app)


_READS = re.compile(
    r"request\.(?:form|args|values)(?:\.(?:get|getlist)\(|\[)\s*[\"']([^\"']+)[\"']"
)


def _forms_in(module: ModuleType) -> list[type[Form]]:
    found = []
    for value in vars(module).values():
        if isinstance(value, ModuleType) and value.__name__.endswith(".forms"):
            found += _forms_in(value)
        elif isinstance(value, type) and issubclass(value, Form) and value is not Form:
            found.append(value)
    return found


@cache
def _module_fields(module_name: str) -> tuple[str, ...]:
    module = sys.modules[module_name]
    names = set(_READS.findall(inspect.getsource(module)))
    for form in _forms_in(module):
        names.update(n for n in dir(form) if isinstance(getattr(form, n, None), UnboundField))
    return tuple(sorted(names))


def form_fields(rule: Rule, app: Flask | None = None) -> tuple[str, ...]:
    """Every form or query-string field the rule's view module reads by name, and its forms'."""
    return _module_fields(inspect.unwrap(_view(rule, app)).__module__)
