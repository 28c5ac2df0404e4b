"""An OpenID provider of the tests' own, on loopback, that can be told to misbehave.

oidc-provider-mock always answers correctly; this one signs (joserfc) whatever a test asks
for: a wrong audience or issuer, a bad signature, `alg: none`, a wrong nonce, an expired
token, a userinfo about someone else, or garbage instead of JSON.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlencode

from joserfc import jwt
from joserfc.jwk import RSAKey
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from tests.helpers import free_port

#: What the provider can be told to do wrong, and where.
ID_TOKEN_FAULTS = (
    "wrong_audience",
    "wrong_issuer",
    "bad_signature",
    "alg_none",
    "wrong_nonce",
    "expired",
    "userinfo_sub_mismatch",
)
GARBAGE = {
    "junk_json": (200, "application/json", '{"issuer": 42, "nonsense": ['),
    "html": (200, "text/html", "<html><body><h1>Welcome to nginx!</h1></body></html>"),
    "server_error": (500, "text/plain", "Internal Server Error"),
}


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


class FakeProvider:
    """A provider whose next answers follow `fault` (None: behave)."""

    def __init__(self, client_id: str) -> None:
        self.client_id = client_id
        self.key = RSAKey.generate_key(2048, parameters={"kid": "fake-1"})
        self.other_key = RSAKey.generate_key(2048, parameters={"kid": "fake-1"})
        self.fault: str | None = None
        self.garbage_at: str = "discovery"  # which endpoint answers garbage
        self.subject = "fake-person"
        self.sid: str | None = None  #: the provider's session id, put in ID tokens when set
        self.discovery_changes: dict[str, object] = {}  # fields to change (None: leave out)
        self.url = ""
        self._nonces: dict[str, str] = {}

    # --- the endpoints --------------------------------------------------------------

    def __call__(self, environ, start_response):
        request = Request(environ)
        path = request.path
        name = {
            "/.well-known/openid-configuration": "discovery",
            "/authorize": "authorize",
            "/token": "token",
            "/userinfo": "userinfo",
            "/jwks": "jwks",
        }.get(path)
        if name is None:
            return Response("not found", 404)(environ, start_response)
        if self.fault in GARBAGE and self.garbage_at == name:
            status, kind, body = GARBAGE[self.fault]
            return Response(body, status, content_type=kind)(environ, start_response)
        return getattr(self, name)(request)(environ, start_response)

    def discovery(self, request: Request) -> Response:
        document = {
            "issuer": self.url,
            "authorization_endpoint": f"{self.url}/authorize",
            "token_endpoint": f"{self.url}/token",
            "userinfo_endpoint": f"{self.url}/userinfo",
            "jwks_uri": f"{self.url}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
        }
        document.update(self.discovery_changes)
        return _json({k: v for k, v in document.items() if v is not None})

    def authorize(self, request: Request) -> Response:
        code = secrets.token_urlsafe(16)
        self._nonces[code] = request.args.get("nonce", "")
        query = urlencode({"code": code, "state": request.args.get("state", "")})
        return Response(status=302, headers={"Location": f"{request.args['redirect_uri']}?{query}"})

    def token(self, request: Request) -> Response:
        nonce = self._nonces.pop(request.form.get("code", ""), "")
        return _json(
            {
                "access_token": secrets.token_urlsafe(16),
                "token_type": "Bearer",
                "expires_in": 300,
                "id_token": self.id_token(nonce),
            }
        )

    def userinfo(self, request: Request) -> Response:
        sub = "someone-else" if self.fault == "userinfo_sub_mismatch" else self.subject
        return _json({"sub": sub, "email": "fake@example.com", "name": "Fake Person"})

    def jwks(self, request: Request) -> Response:
        return _json({"keys": [self.key.as_dict(private=False)]})

    # --- the ID token, right or wrong ------------------------------------------------

    def id_token(self, nonce: str) -> str:
        now = int(time.time())
        claims = {
            "iss": self.url,
            "aud": self.client_id,
            "sub": self.subject,
            "email": "fake@example.com",
            "iat": now,
            "exp": now + 300,
            "nonce": nonce,
        }
        if self.sid:
            claims["sid"] = self.sid
        fault = self.fault
        if fault == "wrong_audience":
            claims["aud"] = "someone-elses-client"
        elif fault == "wrong_issuer":
            claims["iss"] = "https://evil.example"
        elif fault == "wrong_nonce":
            claims["nonce"] = "not-the-nonce-we-were-sent"
        elif fault == "expired":
            claims["iat"], claims["exp"] = now - 7200, now - 3600
        if fault == "alg_none":
            return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
        key = self.other_key if fault == "bad_signature" else self.key
        return jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)

    # --- back-channel logout tokens, right or wrong -----------------------------------

    def logout_token(
        self, *, alg: str = "RS256", key=None, header: dict | None = None, **claims
    ) -> str:
        """A logout token (OIDC Back-Channel Logout 1.0): claims given as None are left out."""
        now = int(time.time())
        body = {
            "iss": self.url,
            "aud": self.client_id,
            "iat": now,
            "exp": now + 120,
            "jti": secrets.token_urlsafe(12),
            "events": {"http://schemas.openid.net/event/backchannel-logout": {}},
            **claims,
        }
        body = {name: value for name, value in body.items() if value is not None}
        head = {"alg": alg, "typ": "logout+jwt", **(header or {})}
        if alg == "none":
            return f"{_b64(head)}.{_b64(body)}."
        if key is None:
            key = self.key
            head.setdefault("kid", key.kid)
        return jwt.encode(head, body, key, algorithms=[alg])


def _json(data: dict) -> Response:
    return Response(json.dumps(data), 200, content_type="application/json")


@contextmanager
def fake_provider(client_id: str) -> Iterator[FakeProvider]:
    """Serve a FakeProvider on a loopback thread."""
    provider = FakeProvider(client_id)
    port = free_port()
    server = make_server("127.0.0.1", port, provider, threaded=True)
    provider.url = f"http://127.0.0.1:{port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        thread.join(5)
