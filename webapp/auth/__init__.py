"""Sign-in and sign-out through the OpenID Connect provider; who is signed in; guards."""

from .guards import recent_login_required, staff_required

__all__ = ["recent_login_required", "staff_required"]
