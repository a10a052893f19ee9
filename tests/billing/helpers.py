"""Shared set-up of the billing tests: users, plans and a clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from billing import operations as ops
from billing.access import OPERATOR, Actor
from billing.catalog import PlanSpec
from billing.models import Account, Base, User
from billing.operations import Sessions


def ms(text: str) -> int:
    """Epoch ms of an ISO instant (with its offset)."""
    return int(datetime.fromisoformat(text).timestamp() * 1000)


NOW = ms("2026-11-15T12:00:00+00:00")


def starter(code: str = "starter", **overrides: Any) -> PlanSpec:
    values: dict[str, Any] = {
        "code": code,
        "name": code.title(),
        "currency": "USD",
        "fee": "49.00",
        "included": {"billing_sessions": "1000", "voice_sessions": "200", "agents": "2"},
        "prices": {"billing_sessions": "0.05", "voice_sessions": "0.10", "agents": "15"},
    }
    values.update(overrides)
    return PlanSpec(**values)


@dataclass(frozen=True)
class Seeded:
    actors: dict[str, Actor]
    keys: dict[str, str]


USERS = (("alice", "owner"), ("carol", "owner"), ("bob", "member"), ("root", "admin"))


def default_account(sessions: Sessions) -> int:
    """The id of the account every existing store moved into (migration 0005)."""
    with sessions() as session:
        return session.scalars(select(Account.id).where(Account.name == "default")).one()


def seed(sessions: Sessions, now: int = NOW) -> Seeded:
    """Users alice (owner), carol (owner), bob (member), root (admin); plans starter, pro,
    euro (EUR), trial (30-day term), corp (enterprise). Returns their actors and API keys."""
    actors: dict[str, Actor] = {}
    keys: dict[str, str] = {}
    for name, role in USERS:
        keys[name] = ops.add_user(sessions, OPERATOR, name, role, now)["api_key"]
        actors[name] = Actor(name, role, _user_id(sessions, name), default_account(sessions))
    ops.add_plan(sessions, OPERATOR, starter(), now)
    pro = starter(
        "pro",
        fee="99.00",
        included={"billing_sessions": "5000"},
        prices={"billing_sessions": "0.04"},
    )
    ops.add_plan(sessions, OPERATOR, pro, now)
    ops.add_plan(sessions, OPERATOR, starter("euro", currency="EUR", fee="10.00"), now)
    ops.add_plan(sessions, OPERATOR, starter("trial", fee="0", term_days=30), now)
    ops.add_plan(sessions, OPERATOR, starter("corp", kind="enterprise", fee="1000.00"), now)
    return Seeded(actors, keys)


def _user_id(sessions: Sessions, name: str) -> int:
    with sessions() as session:
        return session.scalars(select(User.id).where(User.name == name)).one()


def snapshot(sessions: Sessions) -> dict[str, int]:
    """Row counts of every table: what "nothing changed" compares."""
    with sessions() as session:
        return {
            table.name: int(session.scalar(select(func.count()).select_from(table)) or 0)
            for table in Base.metadata.sorted_tables
        }


def subscribe(
    sessions: Sessions, app: str = "bot-1", plan: str = "starter", **kw: Any
) -> dict[str, Any]:
    args: dict[str, Any] = {
        "app_id": app,
        "plan": plan,
        "owner": "alice",
        "start": "2026-11-01",
        "tz": "UTC",
        "low_balance": None,
        "now_ms": NOW,
    }
    args.update(kw)
    return ops.subscribe(sessions, OPERATOR, **args)
