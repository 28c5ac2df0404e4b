"""What the consent tests share: the measurement id they run with and how they read answers."""

from __future__ import annotations

from sqlmodel import select

from webapp.models import ConsentChoice, User

GA_ID = "G-TEST12345"
GTM = "https://www.googletagmanager.com"


def set_cookie_names(response) -> list[str]:
    return [h.split("=", 1)[0].strip() for h in response.headers.getlist("Set-Cookie")]


def expired_cookie_names(response) -> set[str]:
    return {
        h.split("=", 1)[0].strip()
        for h in response.headers.getlist("Set-Cookie")
        if "Max-Age=0" in h
    }


def has_tag(response) -> bool:
    html = response.get_data(as_text=True)
    return "js/analytics.js" in html and f'data-measurement-id="{GA_ID}"' in html


def csp(response) -> str:
    return response.headers["Content-Security-Policy"]


def accept_all(client, **headers):
    return client.post(
        "/account/privacy-controls/banner",
        data={"decision": "accept", "next": "/"},
        headers=headers,
    )


def rows(db, user: User) -> list[ConsentChoice]:
    db.rollback()  # a fresh transaction sees what the app committed since
    return list(
        db.exec(
            select(ConsentChoice).where(ConsentChoice.user_id == user.id).order_by(ConsentChoice.id)
        ).all()
    )
