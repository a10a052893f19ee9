"""Per-account webhook endpoints on both stores: an app's notifications reach only its
account's endpoints, each signed with that endpoint's secret; a rotated secret signs beside
the new one until the overlap ends; failures are retried; a removed endpoint gets nothing."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac

import orjson

from billing import accounts, endpoints
from billing.access import OPERATOR
from billing.delivery import decode_secret
from billing.notices import notify
from billing.operations import Sessions
from tests.billing.helpers import NOW

HOUR = 3_600_000


class Receiver:
    """A fake endpoint side: records every POST; answers ``status``."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.posts: list[tuple[str, dict[str, str], bytes]] = []

    async def __call__(self, url: str, headers: dict[str, str], body: bytes) -> int:
        self.posts.append((url, headers, body))
        return self.status


def verifies(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """What a Standard Webhooks receiver checks: one of the signatures is the secret's."""
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    digest = hmac.new(decode_secret(secret), signed, hashlib.sha256).digest()
    expected = "v1," + base64.b64encode(digest).decode()
    return expected in headers["webhook-signature"].split(" ")


def setup(sessions: Sessions) -> dict[str, dict[str, object]]:
    with sessions.begin() as session:
        acme = accounts.add_account(session, "acme", {}, NOW)
        beta = accounts.add_account(session, "beta", {}, NOW)
        accounts.move(session, OPERATOR, "bot-a", "acme", NOW)
        accounts.move(session, OPERATOR, "bot-b", "beta", NOW)
        return {
            "a1": endpoints.add(session, acme.id, "https://a1.example/hook", NOW),
            "a2": endpoints.add(session, acme.id, "https://a2.example/hook", NOW),
            "b1": endpoints.add(session, beta.id, "https://b1.example/hook", NOW),
        }


def notice(sessions: Sessions, app_id: str, n: int, at: int = NOW) -> None:
    with sessions.begin() as session:
        notify(
            session,
            key=f"t:{n}",
            app_id=app_id,
            kind="balance.low",
            data={"n": n},
            now_ms=at,
        )


def test_an_apps_notifications_reach_only_its_accounts_endpoints(sessions: Sessions) -> None:
    hooks = setup(sessions)
    notice(sessions, "bot-a", 1)
    receiver = Receiver()
    assert asyncio.run(endpoints.deliver_due(sessions, receiver, NOW)) == (2, 0)
    assert sorted(url for url, _, _ in receiver.posts) == [hooks["a1"]["url"], hooks["a2"]["url"]]
    for url, headers, body in receiver.posts:
        own = hooks["a1"] if url == hooks["a1"]["url"] else hooks["a2"]
        other = hooks["a2"] if own is hooks["a1"] else hooks["a1"]
        assert verifies(str(own["secret"]), headers, body)
        assert not verifies(str(other["secret"]), headers, body)
        assert orjson.loads(body)["data"]["account_id"] is not None
    assert asyncio.run(endpoints.deliver_due(sessions, receiver, NOW + HOUR)) == (0, 0)


def test_a_rotated_secret_signs_beside_the_new_one_until_the_overlap_ends(
    sessions: Sessions,
) -> None:
    hooks = setup(sessions)
    with sessions.begin() as session:
        rotated = endpoints.rotate(session, int(str(hooks["b1"]["id"])), 24, NOW)
    notice(sessions, "bot-b", 1)
    receiver = Receiver()
    asyncio.run(endpoints.deliver_due(sessions, receiver, NOW + HOUR))
    ((_, headers, body),) = receiver.posts
    assert len(headers["webhook-signature"].split(" ")) == 2
    assert verifies(str(rotated["secret"]), headers, body)
    assert verifies(str(hooks["b1"]["secret"]), headers, body)  # receivers not yet switched
    notice(sessions, "bot-b", 2, at=NOW + 25 * HOUR)
    asyncio.run(endpoints.deliver_due(sessions, receiver, NOW + 25 * HOUR))
    _, headers, body = receiver.posts[-1]
    assert verifies(str(rotated["secret"]), headers, body)
    assert not verifies(str(hooks["b1"]["secret"]), headers, body)  # the overlap is over


def test_failures_are_retried_and_removed_endpoints_get_nothing(sessions: Sessions) -> None:
    hooks = setup(sessions)
    with sessions.begin() as session:
        endpoints.remove(session, int(str(hooks["a2"]["id"])), NOW)
    notice(sessions, "bot-a", 1)
    down = Receiver(status=500)
    assert asyncio.run(endpoints.deliver_due(sessions, down, NOW)) == (0, 1)
    assert asyncio.run(endpoints.deliver_due(sessions, down, NOW + 1000)) == (0, 0)  # backoff
    up = Receiver()
    assert asyncio.run(endpoints.deliver_due(sessions, up, NOW + 5_000)) == (1, 0)
    assert [url for url, _, _ in up.posts] == [hooks["a1"]["url"]]
    with sessions() as session:
        assert [e["url"] for e in endpoints.listing(session, None)] == [
            hooks["a1"]["url"],
            hooks["b1"]["url"],
        ]
