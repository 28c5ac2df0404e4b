"""The soak's load: people, mail programs and staff, as Locust users (run headless by the soak).

Every write the site acknowledges with a 2xx goes into the ledger (`ledger.jsonl`), and every
attempt before it, so the check afterwards can tell a lost write from one whose answer was
lost. Every request's start, end and status go to `requests.csv` for the per-fault table.
Settings come from `$SOAK_DIR/load.json`, written by `python -m bench.soak`.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import time
import uuid
from pathlib import Path
from typing import ClassVar
from urllib.parse import urlsplit

from locust import HttpUser, between, constant, events, task

FOLDER = Path(os.environ["SOAK_DIR"])
SETTINGS = json.loads((FOLDER / "load.json").read_text())
COOKIE = "sentro_session"
AGENT = "sentro-soak/1 (Locust)"
SWITCHABLE = ["service-updates", "offers", "research", "policy-updates"]
PAGES = [
    "/account",
    "/account/profile",
    "/account/email-preferences",
    "/account/security",
    "/account/disclosures",
    "/privacy",
    "/privacy/versions",
]
# Not /account/your-data: it is an export, limited to 10 an hour per person, and people
# do not read their whole file every half minute.

_sequence = itertools.count(1)
_people = itertools.count(1)
_ledger = open(FOLDER / "ledger.jsonl", "a", buffering=1)  # noqa: SIM115 - the run's life
_requests = open(FOLDER / "requests.csv", "a", buffering=1)  # noqa: SIM115 - the run's life
_links = list(SETTINGS["unsubscribe_links"])
random.Random(7).shuffle(_links)
_next_link = itertools.cycle(_links)


def ledger(event: str, kind: str, who: str, key: str, value) -> int:
    """Append one attempt or acknowledgement to the ledger; return its sequence number."""
    seq = next(_sequence)
    record = {"seq": seq, "t": time.time(), "event": event, "kind": kind, "who": who}
    _ledger.write(json.dumps({**record, "key": key, "value": value}) + "\n")
    return seq


@events.request.add_listener
def _record(request_type, name, response_time, response, exception, start_time=None, **_kw):
    status = getattr(response, "status_code", 0) or 0
    start = start_time or (time.time() - response_time / 1000)
    error = type(exception).__name__ if exception is not None and not status else ""
    _requests.write(
        f"{start:.3f},{start + response_time / 1000:.3f},{request_type},{name},{status},{error}\n"
    )


class Visitor(HttpUser):
    """Something with an address of its own behind the site's proxy (X-Forwarded-For)."""

    abstract = True
    address = "127.20.0.1"

    def send(self, method: str, url: str, name: str, *, cookie: str | None = None, **kwargs):
        """One request, never following redirects, with our address and the session cookie."""
        headers = {
            "User-Agent": AGENT,
            "X-Forwarded-For": self.address,
            **kwargs.pop("headers", {}),
        }
        if cookie:
            # The production cookie is Secure, so requests would not send it over loopback http.
            headers["Cookie"] = f"{COOKIE}={cookie}"
        self.client.cookies.clear()
        return self.client.request(
            method, url, name=name, headers=headers, allow_redirects=False, timeout=30, **kwargs
        )


class SignedIn(Visitor):
    """A person who signs in through the development provider and keeps a session."""

    abstract = True
    claims: ClassVar[dict] = {}

    def on_start(self) -> None:
        self.number = next(_people)
        self.address = f"127.20.{self.number // 250}.{self.number % 250 + 1}"
        self.sub = f"soak-{self.kind}-{self.number}"
        self.cookie: str | None = None
        self.csrf: str | None = None
        self.sign_in()

    kind = "person"

    def remember(self, response) -> None:
        found = re.search(rf"{COOKIE}=([^;]*)", response.headers.get("Set-Cookie", ""))
        if found:
            self.cookie = found.group(1) or None
        location = response.headers.get("Location", "")
        if response.status_code in (302, 303) and urlsplit(location).path == "/login":
            self.cookie = None  # the session ended: sign in again next time

    def sign_in(self) -> None:
        """/login, the provider's form, /auth/callback; then the CSRF token from /account."""
        self.cookie = self.csrf = None
        provider = SETTINGS["provider"]
        claims = {"email": f"{self.sub}@example.test", "name": f"Soak {self.sub}", **self.claims}
        put = self.send("PUT", f"{provider}/users/{self.sub}", "provider: user", json=claims)
        if not put.ok:
            return
        start = self.send("GET", "/login", "sign-in: /login")
        self.remember(start)
        if start.status_code != 302:
            return
        answer = self.send(
            "POST", start.headers["Location"], "provider: authorize", data={"sub": self.sub}
        )
        if answer.status_code != 302:
            return
        callback = urlsplit(answer.headers["Location"])
        done = self.send(
            "GET",
            f"{callback.path}?{callback.query}",
            "sign-in: /auth/callback",
            cookie=self.cookie,
        )
        self.remember(done)
        if done.status_code != 303:
            self.cookie = None
            return
        self.fetch_csrf()

    def fetch_csrf(self) -> None:
        page = self.send("GET", "/account", "page /account", cookie=self.cookie)
        self.remember(page)
        found = re.search(r'"X-CSRFToken": "([^"]+)"', page.text or "")
        self.csrf = found.group(1) if found and page.status_code == 200 else None

    def ready(self) -> bool:
        """Signed in with a CSRF token, signing in again first if not."""
        if not self.cookie or not self.csrf:
            self.sign_in()
        return bool(self.cookie and self.csrf)

    def htmx(self, target: str) -> dict[str, str]:
        return {"HX-Request": "true", "HX-Target": target, "X-CSRFToken": self.csrf or ""}

    def post(self, path: str, name: str, target: str, data: dict):
        response = self.send(
            "POST", path, name, cookie=self.cookie, headers=self.htmx(target), data=data
        )
        self.remember(response)
        if response.status_code == 400 and "form had expired" in (response.text or ""):
            self.csrf = None
        return response


class Person(SignedIn):
    """A customer: opens pages, saves their name through htmx, switches lists."""

    weight = 20
    wait_time = between(1, 4)

    @task(6)
    def open_page(self) -> None:
        if not self.ready():
            return
        path = random.choice(PAGES)
        self.remember(self.send("GET", path, f"page {path}", cookie=self.cookie))

    @task(1)
    def sign_in_again(self) -> None:
        """A new sign-in, as on another day: exercises the provider and the sign-in limits."""
        self.sign_in()

    @task(3)
    def save_name(self) -> None:
        if not self.ready():
            return
        edit = self.send(
            "GET",
            "/account/profile/name/edit",
            "profile: edit name",
            cookie=self.cookie,
            headers={"HX-Request": "true", "HX-Target": "field-name"},
        )
        self.remember(edit)
        seen = re.search(r'name="seen" value="([^"]*)"', edit.text or "")
        if edit.status_code != 200 or not seen:
            return
        value = {
            "name": f"Soak Person {self.number}",
            "preferred_name": f"P{uuid.uuid4().hex[:10]}",
        }
        ledger("attempt", "profile", self.sub, "name", value)
        saved = self.post(
            "/account/profile/name",
            "profile: save name",
            "field-name",
            {**value, "seen": seen.group(1)},
        )
        if 200 <= saved.status_code < 300:
            ledger("ack", "profile", self.sub, "name", value)

    @task(3)
    def switch_list(self) -> None:
        if not self.ready():
            return
        list_id = random.choice(SWITCHABLE)
        subscribed = random.choice([True, False])
        ledger("attempt", "list", self.sub, list_id, subscribed)
        saved = self.post(
            f"/account/email-preferences/{list_id}",
            "preferences: switch list",
            f"list-{list_id}",
            {"subscribed": "1" if subscribed else "0"},
        )
        if 200 <= saved.status_code < 300:
            ledger("ack", "list", self.sub, list_id, subscribed)


class MailProgram(Visitor):
    """A mail provider posting RFC 8058 one-click unsubscribes for seeded people."""

    weight = 3
    wait_time = between(1, 3)

    def on_start(self) -> None:
        self.address = f"127.30.0.{random.randint(1, 250)}"

    @task(1)
    def open_link(self) -> None:
        """A person following the footer link: the page (rate-limited), which changes nothing."""
        _user_id, _list_id, url = next(_next_link)
        self.send("GET", url, "unsubscribe page")

    @task(4)
    def one_click(self) -> None:
        user_id, list_id, url = next(_next_link)
        ledger("attempt", "unsubscribe", str(user_id), list_id, False)
        answer = self.send(
            "POST", url, "one-click unsubscribe", data={"List-Unsubscribe": "One-Click"}
        )
        if 200 <= answer.status_code < 300:
            ledger("ack", "unsubscribe", str(user_id), list_id, False)


class Staff(SignedIn):
    """A staff member who publishes a new policy version now and then; it fans out as mail."""

    fixed_count = 1
    kind = "staff"
    claims: ClassVar[dict] = {"groups": ["sentro-staff"]}
    wait_time = constant(SETTINGS["publish_every"])

    @task
    def publish(self) -> None:
        if not self.ready():
            return
        form = self.send("GET", "/staff/policy/", "staff: policy form", cookie=self.cookie)
        self.remember(form)
        on = re.search(r'name="effective_on" min="([0-9-]+)"', form.text or "")
        if form.status_code != 200 or not on:
            return
        revision = uuid.uuid4().hex[:8]
        text = SETTINGS["policy_text"] + f"\n\nSoak revision {revision}.\n"
        ledger("attempt", "publish", self.sub, revision, None)
        # The page's own order: the preview was seen, so the post says it is confirmed; the
        # version is published and its notices are left to the mail workers.
        fields = {"text": text, "summary": f"Soak revision {revision}", "effective_on": on.group(1)}
        done = self.post(
            "/staff/policy/", "staff: publish", "publish-form", {**fields, "confirmed": "yes"}
        )
        if done.status_code == 303:
            done = self.send("GET", "/staff/policy/", "staff: policy form", cookie=self.cookie)
            self.remember(done)
        audience = re.search(r"of ([\d,]+) notices? queued", done.text or "")
        if 200 <= done.status_code < 300 and audience:
            ledger("ack", "publish", self.sub, revision, int(audience.group(1).replace(",", "")))
