"""The HTTP edge: what every response carries, and the checks a browser's write must pass.

* Every response: a Content-Security-Policy (scripts, styles and connections from this
  site only; no framing), ``X-Frame-Options: DENY``, ``X-Content-Type-Options: nosniff``.
* A browser's write (any method but GET/HEAD/OPTIONS): signing in or out, or an API call
  carrying the console cookie and no ``Authorization: Bearer``. Its ``Origin`` (else its
  ``Referer``) must be this site (OWASP: verify the source origin), and an API write must
  be ``application/json`` (a cross-site form can only send ``text/plain``, form or
  multipart bodies). A browser never adds a bearer key by itself, so bearer calls, and
  API calls with no credential at all (they get 401), skip both checks.
* An error of the framework (unknown route, body too large) on ``/api/`` is JSON too.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from urllib.parse import urlsplit

from aiohttp import web

from web.billing_api import SESSION_COOKIE
from web.responses import json_response

log = logging.getLogger(__name__)

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def cross_site_refusal(
    method: str,
    path: str,
    headers: Mapping[str, str],
    *,
    has_cookie: bool,
    trust_proxy: bool = False,
) -> str | None:
    """Why a browser's write is refused (None: it may go on). ``headers`` are the request's;
    ``has_cookie``: it carries the console's session cookie; ``trust_proxy``: a reverse
    proxy sets ``X-Forwarded-Host`` (``BILLING_TRUST_PROXY=1``), else any client could."""
    if method in SAFE_METHODS or headers.get("Authorization", "").startswith("Bearer "):
        return None
    if path.startswith("/api/") and not has_cookie:
        return None
    source = headers.get("Origin") or headers.get("Referer") or ""
    if not source:
        return "a browser write needs an Origin or Referer header"
    parts = urlsplit(source)
    forwarded = headers.get("X-Forwarded-Host") if trust_proxy else None
    hosts = {h.strip().lower() for h in (headers.get("Host"), forwarded) if h}
    if parts.scheme not in ("http", "https") or parts.netloc.lower() not in hosts:
        return "cross-site request refused: the Origin is not this site"
    content_type = headers.get("Content-Type", "").split(";")[0].strip().lower()
    if path.startswith("/api/") and content_type != "application/json":
        return "a browser write to the API must be Content-Type: application/json"
    return None


def is_https(request: web.Request, configured: bool) -> bool:
    """Served over HTTPS: configured, TLS here, or a proxy's ``X-Forwarded-Proto``. (Only
    used to add ``Secure`` to cookies, which a spoofed header cannot make less safe.)"""
    forwarded = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    return configured or request.secure or forwarded == "https"


def cookie(name: str, value: str, *, max_age: int, secure: bool) -> str:
    """A ``Set-Cookie`` value: HttpOnly, SameSite=Strict, and Secure over HTTPS."""
    flags = "; Secure" if secure else ""
    return f"{name}={value}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age}{flags}"


#: ``BILLING_TRUST_PROXY``, as the composition root read it (set by ``create_app``).
TRUST_PROXY = web.AppKey("trust_proxy", bool)


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse cross-site browser writes; answer framework errors on the API as JSON."""
    has_cookie = SESSION_COOKIE in request.cookies
    refusal = cross_site_refusal(
        request.method,
        request.path,
        request.headers,
        has_cookie=has_cookie,
        trust_proxy=request.config_dict.get(TRUST_PROXY, False),
    )
    if refusal is not None:
        return json_response({"error": refusal}, status=403)
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if not request.path.startswith("/api/") or exc.status < 400:
            raise
        return json_response({"error": exc.reason}, status=exc.status)
    except Exception:
        log.exception("unexpected error on %s %s", request.method, request.path)
        return json_response({"error": "internal error"}, status=500)


async def add_security_headers(_request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare``: the security headers on every response, errors included."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
