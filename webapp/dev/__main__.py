"""`make run`: the whole site on loopback, on embedded defaults.

Starts the development OpenID provider (oidc-provider-mock) with a demo customer and a demo
staff member, a mail catcher (aiosmtpd) that keeps messages in instance/dev-mail (read them at
/dev/mail), a mail worker, and the site itself, after upgrading the SQLite database.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox
from oidc_provider_mock import User

from .provider import run_provider

SITE_PORT = int(os.environ.get("PORT", "5000"))
PROVIDER_PORT = int(os.environ.get("DEV_PROVIDER_PORT", "5001"))
SMTP_PORT = int(os.environ.get("DEV_SMTP_PORT", "8025"))

DEMO_USERS = [
    User(
        sub="customer",
        claims={"email": "ana@example.com", "email_verified": True, "name": "Ana Customer"},
    ),
    User(
        sub="staff",
        claims={
            "email": "sam@sentro.co",
            "email_verified": True,
            "name": "Sam Staff",
            "groups": ["sentro-staff"],
        },
    ),
]


def main() -> None:
    """Start the provider, the mail catcher, the worker and the site; Ctrl-C stops them all."""
    os.environ.setdefault("SENTRO_ENV", "development")
    os.environ.setdefault("OIDC_ISSUER", f"http://localhost:{PROVIDER_PORT}")
    os.environ.setdefault("SMTP_URL", f"smtp://127.0.0.1:{SMTP_PORT}")
    os.environ.setdefault("BASE_URL", f"http://localhost:{SITE_PORT}")
    os.environ.setdefault("STAFF_GROUP", "sentro-staff")
    # The development provider accepts any client, but Authlib must still authenticate as one.
    os.environ.setdefault("OIDC_CLIENT_SECRET", "development-client-secret")

    from webapp import create_app
    from webapp.cli import upgrade_database
    from webapp.dev.seed import seed_demo_people
    from webapp.logsafe import RedactingFilter
    from webapp.mail.cli import deliver_until_idle

    app = create_app()
    maildir = Path(app.instance_path) / "dev-mail"
    maildir.parent.mkdir(parents=True, exist_ok=True)
    with app.app_context():
        upgrade_database()
        # So a newcomer's profile page shows a saved card from the first sign-in.
        seed_demo_people(app.config["OIDC_ISSUER"], [(u.sub, u.claims) for u in DEMO_USERS])

    catcher = Controller(Mailbox(str(maildir)), hostname="127.0.0.1", port=SMTP_PORT)
    catcher.start()
    stop = threading.Event()

    def deliver_forever() -> None:
        with app.app_context():
            while not stop.is_set():
                deliver_until_idle(stop)
                stop.wait(1)

    threading.Thread(target=deliver_forever, name="mail-worker", daemon=True).start()
    with run_provider(port=PROVIDER_PORT, user_claims=DEMO_USERS):
        print(
            f"""
  Sentro account is running.

    Site:          http://localhost:{SITE_PORT}
    Caught mail:   http://localhost:{SITE_PORT}/dev/mail
    Provider:      http://localhost:{PROVIDER_PORT}  (development OpenID provider)

  Demo people (choose one on the provider's page):
    customer  Ana Customer, ana@example.com
    staff     Sam Staff, sam@sentro.co (staff)

  Ctrl-C stops everything.
""",
            flush=True,
        )
        # The development server's request lines follow the same rule as production's.
        logging.getLogger("werkzeug").addFilter(RedactingFilter())
        try:
            app.run(host="localhost", port=SITE_PORT, use_reloader=False, threaded=True)
        finally:
            stop.set()
            catcher.stop()


if __name__ == "__main__":
    main()
