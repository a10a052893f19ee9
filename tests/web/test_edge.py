"""The HTTP edge against hostile callers, over a real socket and a real money store: no
anonymous reads, hostile input refused fast with a JSON error, cross-site writes refused,
the security headers and cookie flags, and nothing that tells one caller another's ids."""

from __future__ import annotations

import asyncio
import statistics
import time
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from tests.billing.helpers import snapshot
from tests.web.edge_app import TOKEN, EdgeApp, edge_app
from web.billing_api import SESSION_COOKIE
from web.edge import cross_site_refusal


def bearer(key: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"} if key else {}


async def fetch(
    edge: EdgeApp, method: str, path: str, headers: dict[str, str] | None = None, **kw: Any
) -> tuple[int, dict[str, str], bytes]:
    async with TestClient(TestServer(edge.app)) as client:
        response = await client.request(method, path, headers=headers or {}, **kw)
        return response.status, dict(response.headers), await response.read()


@pytest.fixture
def edge(tmp_path: Path) -> EdgeApp:
    return edge_app(f"sqlite:///{tmp_path / 'b.db'}")


@pytest.mark.parametrize("token", [None, TOKEN], ids=["no token set", "token set"])
@pytest.mark.parametrize("key", [None, "bk_not-a-key"], ids=["no key", "unknown key"])
@pytest.mark.parametrize("path", ["/api/usage?range=7d", "/api/apps", "/usage", "/plans"])
def test_nothing_is_readable_without_a_credential(
    tmp_path: Path, token: str | None, key: str | None, path: str
) -> None:
    edge = edge_app(f"sqlite:///{tmp_path / 'b.db'}", token=token)
    status, _, body = asyncio.run(fetch(edge, "GET", path, bearer(key)))
    assert status == 401, body
    if path.startswith("/api/"):
        assert b'"error"' in body
    else:
        assert b'id="token"' in body  # the sign-in form, nothing else


HOSTILE: list[tuple[str, str, Any]] = [
    ("POST", "/api/subscriptions/bot-1/funds", {"amount": "1e999999"}),
    ("POST", "/api/subscriptions/bot-1/funds", {"amount": "1e999997"}),
    ("POST", "/api/subscriptions/bot-1/funds", {"amount": "9" * 900_000}),
    ("POST", "/api/subscriptions/bot-1/funds", {"amount": "\u0661\u0662"}),
    ("POST", "/api/subscriptions/bot-1/funds", {"amount": "1_000"}),
    ("GET", f"/api/orders/{2**64}/receipt.pdf", None),
    ("GET", f"/api/orders/{'9' * 40}/receipt.pdf", None),
    ("GET", "/api/orders/\u00b2/receipt.pdf", None),
    ("POST", f"/api/extensions/{2**64}/approve", None),
    ("POST", f"/api/extensions/{2**63}/reject", None),
    ("GET", "/api/usage?tz=posix/Asia/Kolkata", None),
    ("GET", "/api/usage?tz=../../etc/passwd", None),
    ("GET", "/api/usage?from=0001-01-01&tz=America/New_York", None),
    ("GET", "/api/usage?from=9999-12-31&tz=Pacific/Kiritimati", None),
]


@pytest.mark.parametrize(("method", "path", "body"), HOSTILE, ids=[p[:60] for _, p, _ in HOSTILE])
def test_hostile_input_gets_400_with_a_json_error_and_changes_nothing(
    edge: EdgeApp, method: str, path: str, body: Any
) -> None:
    before = snapshot(edge.sessions)
    status, headers, answer = asyncio.run(
        fetch(edge, method, path, bearer(edge.keys["root"]), json=body)
    )
    assert (status, headers["Content-Type"]) == (400, "application/json"), answer[:300]
    assert answer.startswith(b'{"error":"') and len(answer) < 400
    assert snapshot(edge.sessions) == before


@pytest.mark.parametrize("amount", ["1e999997", "9" * 900_000])
def test_a_hostile_amount_is_refused_fast_while_the_worker_keeps_answering(
    edge: EdgeApp, amount: str
) -> None:
    async def race() -> list[tuple[float, int, int]]:
        async with TestClient(TestServer(edge.app)) as client:
            await client.get("/api/health")  # connections warm

            async def hostile() -> tuple[float, int]:
                started = time.perf_counter()
                response = await client.post(
                    "/api/subscriptions/bot-1/funds",
                    json={"amount": amount},
                    headers=bearer(edge.keys["root"]),
                )
                return time.perf_counter() - started, response.status

            runs = []
            for _ in range(5):  # the median: a busy machine may pause any one request
                (took, refused), health = await asyncio.gather(hostile(), client.get("/api/health"))
                runs.append((took, refused, health.status))
            return runs

    runs = asyncio.run(race())
    assert {(refused, health) for _, refused, health in runs} == {(400, 200)}
    took = statistics.median(t for t, _, _ in runs)
    assert took < 0.05, f"refused in {took * 1000:.1f} ms (median of 5)"


def test_another_owners_resources_answer_like_missing_ones(edge: EdgeApp) -> None:
    carol = bearer(edge.keys["carol"])

    async def pairs() -> list[tuple[tuple[int, bytes], tuple[int, bytes]]]:
        async def get(path: str) -> tuple[int, bytes]:
            status, _, body = await fetch(edge, "GET", path, carol)
            return status, body

        return [
            (await get("/api/subscriptions/bot-1"), await get("/api/subscriptions/bot-9")),
            (await get("/api/ledger?app=bot-1"), await get("/api/ledger?app=bot-9")),
            (await get("/api/orders/1/receipt.pdf"), await get("/api/orders/999/receipt.pdf")),
            (await get("/api/usage?app=bot-1"), await get("/api/usage?app=bot-9")),
        ]

    for (status, body), (missing_status, missing_body) in asyncio.run(pairs()):
        assert status == missing_status == 404
        assert body.replace(b"bot-1", b"bot-9").replace(b"order 1:", b"order 999:") == missing_body
        assert b"alice" not in body and b"does not own" not in body


async def signed_in(client: TestClient[Any, Any], edge: EdgeApp, key: str) -> None:
    origin = f"http://{client.host}:{client.port}"
    response = await client.post(
        "/plans", data={"token": key}, headers={"Origin": origin}, allow_redirects=False
    )
    assert response.status == 303, await response.text()


@pytest.mark.parametrize(
    ("origin", "content_type"),
    [
        ("http://evil.example", "application/json"),
        ("http://evil.example", "text/plain"),
        (None, "application/json"),
        ("null", "application/json"),
        ("same", "text/plain"),
        ("same", "application/x-www-form-urlencoded"),
    ],
)
def test_cookie_writes_need_this_origin_and_json(
    edge: EdgeApp, origin: str | None, content_type: str
) -> None:
    async def attempt() -> tuple[int, bytes, int]:
        async with TestClient(TestServer(edge.app)) as client:
            await signed_in(client, edge, edge.keys["alice"])
            site = f"http://{client.host}:{client.port}"
            headers = {"Content-Type": content_type}
            if origin is not None:
                headers["Origin"] = site if origin == "same" else origin
            before = snapshot(edge.sessions)
            response = await client.post(
                "/api/subscriptions/bot-1/funds", data=b'{"amount": "10.00"}', headers=headers
            )
            after = snapshot(edge.sessions)
            good = await client.post(
                "/api/subscriptions/bot-1/funds",
                data=b'{"amount": "10.00"}',
                headers={"Origin": site, "Content-Type": "application/json"},
            )
            return response.status, await response.read(), int(before != after) + good.status

    status, body, changed_then_good = asyncio.run(attempt())
    assert status == 403 and body.startswith(b'{"error":'), body
    assert changed_then_good == 200  # nothing recorded; the same call from the site works


def test_signing_in_from_another_site_is_refused(edge: EdgeApp) -> None:
    before = snapshot(edge.sessions)
    status, headers, _ = asyncio.run(
        fetch(
            edge,
            "POST",
            "/plans",
            {"Origin": "http://evil.example"},
            data={"token": edge.keys["root"]},
            allow_redirects=False,
        )
    )
    assert status == 403 and "Set-Cookie" not in headers
    assert snapshot(edge.sessions) == before


@pytest.mark.parametrize(
    ("secure_cookies", "forwarded", "flagged"),
    [(False, None, False), (False, "https", True), (True, None, True)],
)
def test_the_session_cookie_is_secure_over_https(
    tmp_path: Path, secure_cookies: bool, forwarded: str | None, *, flagged: bool
) -> None:
    edge = edge_app(f"sqlite:///{tmp_path / 'b.db'}", secure_cookies=secure_cookies)
    headers = {"Referer": "http://{host}/plans"}
    if forwarded:
        headers["X-Forwarded-Proto"] = forwarded

    async def sign_in() -> str:
        async with TestClient(TestServer(edge.app)) as client:
            headers["Referer"] = f"http://{client.host}:{client.port}/plans"
            response = await client.post(
                "/plans", data={"token": edge.keys["alice"]}, headers=headers, allow_redirects=False
            )
            assert response.status == 303
            return response.headers["Set-Cookie"]

    cookie = asyncio.run(sign_in())
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert ("; Secure" in cookie) is flagged


@pytest.mark.parametrize(
    "path", ["/api/health", "/plans", "/usage.js", "/api/plans", "/nowhere", "/api/nowhere"]
)
def test_every_response_carries_the_security_headers(edge: EdgeApp, path: str) -> None:
    status, headers, body = asyncio.run(fetch(edge, "GET", path))
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    if path == "/api/nowhere":
        assert status == 404 and body.startswith(b'{"error":')


@pytest.mark.parametrize(("trusted", "refused"), [(False, True), (True, False)])
def test_a_forwarded_host_counts_only_behind_a_trusted_proxy(trusted: bool, refused: bool) -> None:
    """Any client can send ``X-Forwarded-Host``: it names this site only when the
    deployment says a proxy sets it (``BILLING_TRUST_PROXY``)."""
    headers = {
        "Origin": "http://evil.example",
        "X-Forwarded-Host": "evil.example",
        "Host": "billing.example",
        "Content-Type": "application/json",
    }
    why = cross_site_refusal(
        "POST", "/api/subscriptions/bot-1/funds", headers, has_cookie=True, trust_proxy=trusted
    )
    assert (why is not None) is refused
