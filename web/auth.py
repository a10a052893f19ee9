"""Optional token protection of the usage API and page (``BILLING_API_TOKEN``).

A client sends ``Authorization: Bearer <token>``; the page's login form sets a
cookie holding an HMAC of the token (never the token itself). Comparisons are
constant-time. Without a token configured, everything is allowed.
"""

from __future__ import annotations

import hashlib
import hmac
import html
from collections.abc import Mapping

COOKIE = "billing_session"
NO_STORE = {"Cache-Control": "no-store"}


def matches(given: str, token: str) -> bool:
    """``given`` equals ``token`` (constant time)."""
    return hmac.compare_digest(given.encode(), token.encode())


def cookie_value(token: str) -> str:
    """What the login cookie holds: an HMAC of the token, not the token."""
    return hmac.new(token.encode(), b"billing-meter usage page", hashlib.sha256).hexdigest()


def set_cookie(token: str) -> str:
    """The ``Set-Cookie`` header after a successful login."""
    return f"{COOKIE}={cookie_value(token)}; HttpOnly; SameSite=Strict; Path=/"


def allowed(headers: Mapping[str, str], cookies: Mapping[str, str], token: str | None) -> bool:
    """The request carries the token (bearer header or login cookie), or none is needed."""
    if not token:
        return True
    header = headers.get("Authorization", "")
    if header.startswith("Bearer ") and matches(header.removeprefix("Bearer ").strip(), token):
        return True
    return matches(cookies.get(COOKIE, ""), cookie_value(token))


def login_form(template: str, *, failed: bool) -> str:
    """The login page, with an error line after a wrong token."""
    message = "That token is not valid. Try again." if failed else ""
    return template.replace("{{error}}", html.escape(message))
