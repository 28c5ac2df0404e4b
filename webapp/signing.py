"""itsdangerous serializers that do their fixed work once: the cookie session's and the CSRF token's.

Every request opens the signed cookie session and every page signs a CSRF token. itsdangerous
builds a signer for each `dumps` and `loads`, derives its key from the secret and the salt each
time (an HMAC of its own), and signs with `hmac.new` given a Python digest function, which
Python computes in its pure-Python HMAC. A kept serializer builds each signer once per salt,
each signer derives each key once, and signs with OpenSSL's one-shot `hmac.digest`: the same
signatures (a test compares them with itsdangerous's own), less work per request. Nothing kept
here depends on a request: only the keys, the salt and the algorithm.

itsdangerous also tries to zlib-compress every payload, keeping the result if it is shorter.
Setting up a compressor costs about 100 µs here, more than the rest of a signature, and a short
payload (a CSRF secret, a session reference) is random and does not get shorter; a payload under
`SMALL_PAYLOAD` bytes is therefore left as it is. itsdangerous reads both forms, so every reader
of a cookie or token reads these; longer payloads are compressed exactly as before.
"""

from __future__ import annotations

import hmac
from typing import Any

from itsdangerous import Serializer, TimestampSigner, URLSafeTimedSerializer
from itsdangerous.encoding import base64_encode
from itsdangerous.signer import HMACAlgorithm, Signer

#: Payloads (as JSON) shorter than this are not compressed (see above).
SMALL_PAYLOAD = 256


class _OneShotHMAC(HMACAlgorithm):
    """itsdangerous's HMAC, computed by OpenSSL in one call (`hmac.digest`)."""

    def __init__(self, digest_method: Any) -> None:
        super().__init__(digest_method)
        self._name = digest_method().name  # e.g. "sha1": the name OpenSSL knows it by

    def get_signature(self, key: bytes, value: bytes) -> bytes:
        """The same MAC as `hmac.new(key, value, digest_method).digest()`."""
        return hmac.digest(key, value, self._name)


class KeptSigner(TimestampSigner):
    """A timestamp signer that derives each key once and signs with the one-shot HMAC."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if type(self.algorithm) is HMACAlgorithm:  # the default; another is left as given
            self.algorithm = _OneShotHMAC(self.digest_method)
        self._derived: dict[str | bytes | None, bytes] = {}

    def derive_key(self, secret_key: str | bytes | None = None) -> bytes:
        """The key derived from `secret_key` (the newest key when None), worked out once."""
        found = self._derived.get(secret_key)
        if found is None:
            found = self._derived[secret_key] = super().derive_key(secret_key)
        return found


class KeptSerializer(URLSafeTimedSerializer):
    """A URL-safe timed serializer that keeps one `KeptSigner` per salt, and compresses less."""

    default_signer = KeptSigner

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._signers: dict[str | bytes | None, Signer] = {}

    def make_signer(self, salt: str | bytes | None = None) -> Signer:
        """This salt's signer, built on first use (signers hold no state between uses)."""
        found = self._signers.get(salt)
        if found is None:
            found = self._signers[salt] = super().make_signer(salt)
        return found

    def dump_payload(self, obj: Any) -> bytes:
        """The payload as URL-safe base64, compressed as itsdangerous does unless it is small."""
        json = Serializer.dump_payload(self, obj)
        if len(json) < SMALL_PAYLOAD:
            return base64_encode(json)
        return super().dump_payload(obj)
