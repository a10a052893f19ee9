"""Live console sessions over HTTP: revoking or rotating a key (the CLI's commands) ends
the browser's session on its next request; changing BILLING_API_TOKEN ends the token's."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from billing_meter.cli import main
from tests.web.edge_app import TOKEN, edge_app
from web.billing_api import SESSION_COOKIE


async def sign_in(client: TestClient[Any, Any], key: str) -> None:
    origin = f"http://{client.host}:{client.port}"
    response = await client.post(
        "/plans", data={"token": key}, headers={"Origin": origin}, allow_redirects=False
    )
    assert response.status == 303


async def me(client: TestClient[Any, Any]) -> int:
    return (await client.get("/api/me")).status


@pytest.mark.parametrize("command", ["revoke", "rotate-key", "remove"])
def test_the_cli_ends_a_live_console_session(
    tmp_path: Path, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'b.db'}"
    edge = edge_app(url)

    async def run() -> list[int]:
        async with TestClient(TestServer(edge.app)) as client:
            await sign_in(client, edge.keys["root"])
            before = await me(client)
            code = await asyncio.to_thread(main, ["users", command, "root", "--db", url])
            return [before, code, await me(client), (await client.get("/usage")).status]

    assert asyncio.run(run()) == [200, 0, 401, 401]
    assert '"sessions_ended": 1' in capsys.readouterr().out


def test_a_token_session_ends_when_the_token_changes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'b.db'}"
    before, after = edge_app(url, token=TOKEN), edge_app(url, token="new-token", seed=False)  # noqa: S106

    async def run() -> list[int]:
        async with TestClient(TestServer(before.app)) as client:
            await sign_in(client, TOKEN)
            cookie = next(iter(client.session.cookie_jar)).value
            statuses = [await me(client)]
        async with TestClient(TestServer(after.app)) as client:  # restarted, token changed
            headers = {"Cookie": f"{SESSION_COOKIE}={cookie}"}
            statuses.append((await client.get("/api/me", headers=headers)).status)
        return statuses

    assert asyncio.run(run()) == [200, 401]
