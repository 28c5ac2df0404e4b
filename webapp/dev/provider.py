"""The development OpenID provider (oidc-provider-mock), signing with a key it loads once.

oidc-provider-mock gives Authlib its private key as a JWK dictionary for every ID token it
signs, and building an RSA private key from its numbers checks the key: about 60 ms of CPU per
sign-in, where a real provider, holding its key loaded, signs in about 1 ms. Measured against
the mock as it is, every sign-in of the tests, the benchmarks and the soak looked 60 ms slower
than the site makes it. `run_provider` is `run_server_in_thread` with the key loaded once;
what the provider issues (claims, header, signature algorithm, keys) is unchanged.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from joserfc.jwk import import_key
from oidc_provider_mock import _app, run_server_in_thread

_loaded: dict[str, Any] = {}
_original_config = _app.OpenIDCode.get_jwt_config


def _config_with_loaded_key(self: Any, grant: Any, client: object = None) -> dict[str, Any]:
    config = _original_config(self, grant, client)
    key = config["key"]
    if isinstance(key, dict) and "n" in key:
        found = _loaded.get(key["n"])
        if found is None:
            found = _loaded[key["n"]] = import_key(key)  # Authlib signs with it as it is
        config["key"] = found
    return config


@contextlib.contextmanager
def run_provider(**options: Any) -> Iterator[Any]:
    """oidc-provider-mock on a loopback thread (see the module's note on its key)."""
    _app.OpenIDCode.get_jwt_config = _config_with_loaded_key  # type: ignore[method-assign]
    with run_server_in_thread(**options) as server:
        yield server
