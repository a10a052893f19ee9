"""Accounts on both stores: an existing store moves into the default account, a user may
belong to several accounts, apps move between accounts, and the CLI's accounts commands."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from sqlalchemy import select, text

from billing import accounts, db, documents, keys
from billing import operations as ops
from billing.access import OPERATOR, Actor
from billing.errors import BillingError
from billing.finalize import finalize_due
from billing.models import User
from billing.operations import Sessions
from billing_meter.cli import main
from tests.billing.helpers import NOW, seed, subscribe
from tests.billing.invoices_helpers import NOVEMBER, SETTINGS, october, pdf_text


def test_an_existing_store_moves_into_the_default_account(db_url: str) -> None:
    engine = db.create(db_url)
    db.upgrade(engine, "0004")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO users (name, role, key_hash, created_ms) VALUES "
                "('root', 'admin', 'h1', 1), ('alice', 'owner', 'h2', 1)"
            )
        )
    db.upgrade(engine)
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT a.name, u.name, m.role FROM memberships m"
                " JOIN accounts a ON a.id = m.account_id JOIN users u ON u.id = m.user_id"
                " ORDER BY u.name"
            )
        ).all()
    assert [tuple(r) for r in rows] == [("default", "alice", "owner"), ("default", "root", "admin")]


def test_a_user_acts_in_each_of_their_accounts(sessions: Sessions) -> None:
    seed(sessions)
    with sessions.begin() as session:
        accounts.add_account(session, "beta", {"tax_id": "DE123"}, NOW)
    assert ops.add_user(sessions, OPERATOR, "alice", "admin", NOW, account="beta") == {
        "name": "alice",
        "role": "admin",
        "account": "beta",
    }
    subscribe(sessions, "bot-1", owner="alice")
    subscribe(sessions, "bot-b", owner="alice", account="beta")
    with sessions() as session:
        found = session.scalars(select(User).where(User.name == "alice")).one()
        default = accounts.actor_of(session, found, "default")
        beta = accounts.actor_of(session, found, "beta")
        unnamed = accounts.actor_of(session, found, None)
        assert accounts.actor_of(session, found, "gamma") is None
    assert default is not None and beta is not None
    assert (default.role, beta.role) == ("owner", "admin")
    assert unnamed == beta  # no account named: where their role is the widest
    assert [s["app_id"] for s in ops.subscriptions(sessions, default, None, NOW)] == ["bot-1"]
    assert [s["app_id"] for s in ops.subscriptions(sessions, beta, None, NOW)] == ["bot-b"]


def test_apps_move_between_accounts(sessions: Sessions) -> None:
    seeded = seed(sessions)
    with sessions.begin() as session:
        accounts.add_account(session, "beta", {}, NOW)
    subscribe(sessions, "bot-1", owner="alice")
    with sessions.begin() as session, pytest.raises(BillingError, match="not a user"):
        accounts.move(session, OPERATOR, "bot-1", "beta", NOW)  # alice is not in beta
    ops.add_user(sessions, OPERATOR, "alice", "owner", NOW, account="beta")
    with sessions.begin() as session:
        assert accounts.move(session, OPERATOR, "bot-1", "beta", NOW)["account"] == "beta"
        accounts.move(session, OPERATOR, "stray", "beta", NOW)  # seen only in events
    root = seeded.actors["root"]  # the default account's admin
    with pytest.raises(BillingError, match="unknown app"):
        ops.subscriptions(sessions, root, "bot-1", NOW)
    with sessions.begin() as session, pytest.raises(BillingError, match="operator"):
        accounts.move(session, root, "bot-1", "default", NOW)
    with sessions() as session:
        beta_admin = Actor("x", "admin", None, accounts.account_named(session, "beta").id)
        assert accounts.visible_apps(session, beta_admin) == ["bot-1", "stray"]
        assert keys.list_users(session, NOW)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_the_accounts_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db_ = ["--db", f"sqlite:///{tmp_path / 'b.db'}"]
    code, out, _ = run(
        capsys,
        "accounts",
        "add",
        "acme",
        "--legal-name",
        "Acme Ltd",
        "--address",
        "1 Road",
        "--address",
        "Pune 411001",
        "--tax-id",
        "GSTIN-1",
        "--email",
        "ap@acme.example",
        *db_,
    )
    assert code == 0 and orjson.loads(out)["address"] == ["1 Road", "Pune 411001"]
    code, out, _ = run(
        capsys, "accounts", "profile", "acme", "--tax-id", "GSTIN-2", "--country", "India", *db_
    )
    changed = orjson.loads(out)
    assert code == 0 and (changed["tax_id"], changed["country"]) == ("GSTIN-2", "India")
    assert changed["legal_name"] == "Acme Ltd"  # what is not given stays
    code, out, _ = run(capsys, "accounts", "list", "--format", "json", *db_)
    assert [a["name"] for a in orjson.loads(out)] == ["default", "acme"]
    code, out, _ = run(capsys, "users", "add", "ops", "--role", "operator", *db_)
    assert code == 0 and orjson.loads(out)["account"] is None
    code, out, _ = run(capsys, "users", "add", "amy", "--role", "owner", "--account", "acme", *db_)
    assert code == 0 and orjson.loads(out)["account"] == "acme"
    code, _, err = run(capsys, "accounts", "add", "acme", *db_)
    assert code == 2 and "already exists" in err
    code, _, err = run(capsys, "accounts", "profile", "acme", "--email", "not-an-email", *db_)
    assert code == 2 and "not an e-mail address" in err
    code, _, err = run(capsys, "apps", "move", "app-9", "--to", "nowhere", *db_)
    assert code == 2 and "unknown account" in err
    code, out, _ = run(capsys, "apps", "move", "app-9", "--to", "acme", *db_)
    assert code == 0 and orjson.loads(out) == {"app_id": "app-9", "account": "acme"}


def test_receipts_bill_the_accounts_profile(sessions: Sessions) -> None:
    seed(sessions)
    with sessions.begin() as session:
        accounts.set_profile(
            session,
            "default",
            {
                "legal_name": "Acme Robotics Pvt Ltd",
                "address": "7 MG Road\nPune",
                "tax_id": "GST-9",
            },
        )
    subscribe(sessions, "bot-1", owner="alice")
    order = ops.add_funds(sessions, OPERATOR, "bot-1", amount="20.00", key=None, now_ms=NOW)
    body = documents.receipt_pdf(sessions, OPERATOR, order["id"], SETTINGS)
    words = pdf_text(body)
    assert "Acme Robotics Pvt Ltd" in words and "7 MG Road" in words
    assert "VAT/Tax ID: GST-9" in words
    assert "Acme Bots Ltd" in words  # the seller (BILLING_SELLER)


def test_another_accounts_invoice_answers_like_a_missing_one(sessions: Sessions) -> None:
    october(sessions)  # bot-0 in the default account
    assert finalize_due(sessions, NOVEMBER + 3_600_000, SETTINGS) == ["INV-2026-000001"]
    with sessions.begin() as session:
        beta = accounts.add_account(session, "beta", {}, NOW)
    ops.add_user(sessions, OPERATOR, "b-admin", "admin", NOW, account="beta")
    stranger = Actor("b-admin", "admin", None, beta.id)
    refusals = []
    for number in ("INV-2026-000001", "INV-2026-000099"):
        for read in (documents.get_invoice, documents.invoice_pdf):
            with pytest.raises(BillingError) as refused:
                read(sessions, stranger, number)
            refusals.append((refused.value.status, str(refused.value).replace(number, "N")))
    assert len(set(refusals)) == 1 and refusals[0][0] == 404
