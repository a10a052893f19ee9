"""``BILLING_API_TOKEN`` on the usage API: ``Authorization: Bearer <token>`` (compared in
constant time). Without a token configured nothing is open: callers use a user's API key.
Browsers sign in to the console instead (``web.console``: a session cookie for a user's key
or the token).
"""

from __future__ import annotations

import hmac
import html
from collections.abc import Mapping


def matches(given: str, token: str) -> bool:
    """``given`` equals ``token`` (constant time)."""
    return hmac.compare_digest(given.encode(), token.encode())


def allowed(headers: Mapping[str, str], token: str | None) -> bool:
    """The request carries the configured token as a bearer header (never without one)."""
    if not token:
        return False
    header = headers.get("Authorization", "")
    return header.startswith("Bearer ") and matches(header.removeprefix("Bearer ").strip(), token)


def login_form(template: str, *, failed: bool) -> str:
    """The sign-in page, with an error line after a wrong key."""
    message = "That key is not valid. Try again." if failed else ""
    return template.replace("{{error}}", html.escape(message))
