"""The billing HTTP API (BILLING-SPEC §7): the same operations, validation and JSON as
the CLI (``billing.operations``), behind API keys.

Every billing endpoint needs ``Authorization: Bearer <key>``: a user's API key, or
``BILLING_API_TOKEN`` (an admin). Members get 403. Amounts in bodies are decimal
strings; a JSON number is refused, so no float ever holds money.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web

from billing import operations
from billing.access import Actor
from billing.errors import BillingError, ForbiddenError, InvalidError
from billing.finalize import InvoiceSettings
from billing.keys import actor_for_cookie, actor_for_key
from web.responses import NO_STORE, json_response

Handler = Callable[[web.Request, Actor], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class BillingApi:
    """What the billing endpoints use: the money store and the admin token."""

    sessions: operations.Sessions
    admin_token: str | None
    clock: Callable[[], int] = lambda: int(time.time() * 1000)
    invoices: InvoiceSettings = field(default_factory=InvoiceSettings)
    secure_cookies: bool = False  # BILLING_SECURE_COOKIES: Secure even without HTTPS signs


SESSION_COOKIE = "billing_console"
ACCOUNT_HEADER = "X-Billing-Account"
_ROW_ID = re.compile(r"[0-9]{1,18}")


async def authenticate(request: web.Request, api: BillingApi) -> Actor | None:
    """The actor of the request's bearer key (in the account ``X-Billing-Account`` names, else
    the user's first), else of its console session cookie (in the session's account), or
    None."""
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        key = header.removeprefix("Bearer ").strip()
        account = request.headers.get(ACCOUNT_HEADER) or None
        return await asyncio.to_thread(_actor, api, key, account) if key else None
    cookie = request.cookies.get(SESSION_COOKIE, "")
    if cookie:
        return await asyncio.to_thread(_cookie_actor, api, cookie)
    return None


def _actor(api: BillingApi, key: str, account: str | None) -> Actor | None:
    with api.sessions() as session:
        return actor_for_key(session, key, api.admin_token, api.clock(), account)


def _cookie_actor(api: BillingApi, cookie: str) -> Actor | None:
    with api.sessions() as session:
        return actor_for_cookie(session, cookie, api.admin_token, api.clock())


def endpoint(
    api: BillingApi, handler: Handler, *, members: bool = False
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """A billing route: 401 without credentials, 403 for a member (unless ``members``:
    who they are and switching accounts, so a member here can go where they are more)."""

    async def respond(request: web.Request) -> web.Response:
        actor = await authenticate(request, api)
        if actor is None:
            return json_response(
                {"error": "unauthorized: send Authorization: Bearer <API key>"},
                status=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        try:
            if actor.role == "member" and not members:
                raise ForbiddenError(f"{actor.name} (member) has no access to billing")
            result = await handler(request, actor)
            return (
                result
                if isinstance(result, web.Response)
                else json_response(result, headers=NO_STORE)
            )
        except BillingError as exc:
            return json_response({"error": str(exc)}, exc.status, NO_STORE)

    return respond


async def body_of(request: web.Request) -> dict[str, Any]:
    """The JSON object a request carries; ``InvalidError`` otherwise."""
    try:
        body = orjson.loads(await request.read() or b"{}")
    except orjson.JSONDecodeError:
        raise InvalidError("the body is not JSON") from None
    if not isinstance(body, dict):
        raise InvalidError("the body must be a JSON object")
    return body


def text_field(body: dict[str, Any], name: str, *, required: bool = True) -> str | None:
    """A string field (amounts too: decimal strings, never JSON numbers)."""
    value = body.get(name)
    if value is None:
        if required:
            raise InvalidError(f"{name!r} is required")
        return None
    if not isinstance(value, str):
        hint = ' (a decimal string such as "10.00")' if name == "amount" else ""
        raise InvalidError(f"{name!r} must be a string{hint}")
    return value


def int_field(body: dict[str, Any], name: str) -> int:
    """A whole-number field."""
    value = body.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidError(f"{name!r} must be a whole number")
    return value


def app_of(request: web.Request) -> str:
    return request.match_info["app"]


def row_id(text: str, what: str) -> int:
    """A row id from a path: 1-18 ASCII digits (fits 64 bits); ``InvalidError`` otherwise."""
    if _ROW_ID.fullmatch(text) is None:
        raise InvalidError(f"{what} id {text[:32]!r} is not a number of at most 18 digits")
    return int(text)


def extension_id_of(request: web.Request) -> int:
    return row_id(request.match_info["id"], "extension")
