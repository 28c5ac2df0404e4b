"""The Authlib client for Sentro's OpenID Connect provider."""

from __future__ import annotations

from authlib.integrations.flask_client import OAuth
from flask import Flask, current_app

from .service import SignInRefused

LEEWAY_SECONDS = 60


def init_app(app: Flask) -> None:
    """Register the provider from OIDC_ISSUER; discovery happens on first use, not at start-up."""
    oauth = OAuth(app)
    issuer = app.config["OIDC_ISSUER"] or ""
    oauth.register(
        "provider",
        client_id=app.config["OIDC_CLIENT_ID"],
        client_secret=app.config["OIDC_CLIENT_SECRET"],
        server_metadata_url=f"{issuer}/.well-known/openid-configuration",
        client_kwargs={
            "scope": "openid email profile",
            "code_challenge_method": "S256",
            "default_timeout": 10,
        },
    )
    app.extensions["sentro.oidc"] = oauth


def provider():
    """The registered Authlib client."""
    return current_app.extensions["sentro.oidc"].provider


def claims_options() -> dict:
    """Authlib checks only what it is told: insist on our issuer and our client id."""
    config = current_app.config
    return {
        "iss": {"essential": True, "value": config["OIDC_ISSUER"]},
        "aud": {"essential": True, "value": config["OIDC_CLIENT_ID"]},
        "sub": {"essential": True},
        "exp": {"essential": True},
        "iat": {"essential": True},
    }


def logout_token_provider():
    """What checking a back-channel logout token needs: issuer, client, algorithms, keys."""
    from .backchannel import Provider, allowed_algorithms

    client = provider()
    metadata = client.load_server_metadata()
    return Provider(
        issuer=current_app.config["OIDC_ISSUER"],
        client_id=current_app.config["OIDC_CLIENT_ID"],
        algorithms=allowed_algorithms(metadata.get("id_token_signing_alg_values_supported")),
        keys=lambda fresh: client.fetch_jwk_set(force=fresh),
    )


def checked_metadata() -> dict:
    """The provider's discovery document, refused unless it names OIDC_ISSUER exactly.

    OpenID Connect Discovery 1.0 section 4.3: the `issuer` in the document must be identical to
    the issuer URL it was fetched for; otherwise its endpoints and keys belong to someone else.
    """
    metadata = provider().load_server_metadata()
    expected = current_app.config["OIDC_ISSUER"]
    found = metadata.get("issuer")
    if found != expected:
        shown = repr(found)[:200]
        raise SignInRefused(
            f"the discovery document names issuer {shown}, not OIDC_ISSUER {expected!r}"
        )
    return metadata
