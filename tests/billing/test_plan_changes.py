"""Issue #23 (4, 5): ``plans revise`` changes only what it is given and says what changed;
``plans add`` of an existing code is refused; each plan lists where a bot may move, moves
between prepaid and enterprise are an admin's, and the free trial is not offered again."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from billing import operations as ops
from billing import plan_operations as plan_ops
from billing.access import OPERATOR
from billing.catalog import Revision
from billing.errors import BillingError
from billing.operations import Sessions
from billing.plan_moves import Facts, refusal
from billing_meter.cli import main
from tests.billing.helpers import NOW, seed, starter, subscribe

PLAN = [
    "--currency", "USD", "--fee", "49.00",
    "--included", "billing_sessions=1000,voice_sessions=200,agents=2",
    "--price", "billing_sessions=0.05,voice_sessions=0.10,agents=15",
]  # fmt: skip


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("BILLING_NOW", "2026-11-15T12:00:00Z")
    url = f"sqlite:///{tmp_path / 'b.db'}"
    assert main(["plans", "add", "starter", "--name", "Starter", *PLAN, "--db", url]) == 0
    return url


def _latest(capsys: pytest.CaptureFixture[str], db: str, code: str) -> dict[str, object]:
    _, out, _ = run(capsys, "plans", "list", "--format", "json", "--db", db)
    return [p for p in orjson.loads(out) if p["code"] == code][-1]  # type: ignore[no-any-return]


def test_revise_changes_only_what_it_is_given(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    before = _latest(capsys, db, "starter")
    code, out, err = run(
        capsys, "plans", "revise", "starter", "--fee", "59.00",
        "--included", "billing_sessions=1500", "--db", db,
    )  # fmt: skip
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "starter: version 1 -> 2",
        "  monthly_fee: 49.00 -> 59.00",
        "  included.billing_sessions: 1000 -> 1500",
    ]
    after = _latest(capsys, db, "starter")
    assert after["version"] == 2 and after["monthly_fee"] == "59.00"
    assert after["included"] == {**before["included"], "billing_sessions": 1500}  # type: ignore[dict-item]
    assert after["unit_price"] == before["unit_price"]  # voice and agents keep their prices
    assert after["name"] == "Starter"


def test_revise_refuses_nothing_to_change_and_bad_values(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    for argv, words in (
        (["--fee", "49.00"], "nothing to change"),
        (["--fee", "1e3"], "not a plain decimal"),
        (["--price", "agents=-1"], "must not be negative"),
        (["--changes-to", "nowhere"], "unknown plan 'nowhere'"),
    ):
        code, out, err = run(capsys, "plans", "revise", "starter", *argv, "--db", db)
        assert code == 2 and out == "" and words in err and err.count("\n") == 1, argv
    code, _, err = run(capsys, "plans", "revise", "gold", "--fee", "1.00", "--db", db)
    assert code == 2 and "unknown plan 'gold'" in err
    assert _latest(capsys, db, "starter")["version"] == 1  # nothing was written


def test_adding_an_existing_code_is_refused_naming_revise(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        capsys, "plans", "add", "starter", "--name", "Starter", "--currency", "USD",
        "--fee", "59.00", "--included", "billing_sessions=1000", "--db", db,
    )  # fmt: skip
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "plans revise starter" in err
    assert _latest(capsys, db, "starter")["version"] == 1


def test_changes_to_is_kept_by_a_revision_and_cleared_by_any(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["plans", "add", "pro", "--name", "Pro", *PLAN, "--db", db]) == 0
    assert main(["plans", "add", "max", "--name", "Max", *PLAN, "--db", db]) == 0
    assert main(["plans", "revise", "starter", "--changes-to", "pro", "--db", db]) == 0
    assert main(["plans", "revise", "starter", "--fee", "50.00", "--db", db]) == 0
    assert _latest(capsys, db, "starter")["changes_to"] == ["pro"]
    code, out, _ = run(capsys, "plans", "revise", "starter", "--changes-to", "any", "--db", db)
    assert code == 0 and "  changes_to: pro -> any" in out.splitlines()
    assert _latest(capsys, db, "starter")["changes_to"] is None


PREPAID_49 = Facts("starter", "prepaid", "USD", 4900, None)


@pytest.mark.parametrize(
    ("target", "admin", "past", "allowed", "refused"),
    [
        (Facts("pro", "prepaid", "USD", 9900, None), False, True, None, None),
        (Facts("pro", "prepaid", "USD", 9900, None), False, True, ("max",), "allows moves to max"),
        (Facts("euro", "prepaid", "EUR", 900, None), True, True, None, "is in EUR"),
        (Facts("corp", "enterprise", "USD", 100000, None), False, True, None, "only an admin"),
        (Facts("corp", "enterprise", "USD", 100000, None), True, True, ("pro",), None),
        (Facts("trial", "prepaid", "USD", 0, 30), False, True, None, "past its trial"),
        (Facts("trial", "prepaid", "USD", 0, 30), False, False, None, None),
        (Facts("trial", "prepaid", "USD", 0, 30), True, True, None, None),
        (PREPAID_49, True, True, None, "already on"),
    ],
)
def test_the_move_rule(
    target: Facts, admin: bool, past: bool, allowed: tuple[str, ...] | None, refused: str | None
) -> None:
    reason = refusal(PREPAID_49, allowed, target, admin=admin, past_trial=past)
    assert (reason is None) if refused is None else (refused in (reason or ""))


def test_owners_are_offered_and_may_make_only_allowed_moves(sessions: Sessions) -> None:
    seeded = seed(sessions)
    alice, root = seeded.actors["alice"], seeded.actors["root"]
    subscribe(sessions)  # bot-1 on starter (USD prepaid), owned by alice
    codes = [p["code"] for p in plan_ops.plan_options(sessions, alice, "bot-1")]
    assert codes == ["pro"]  # not euro (EUR), corp (enterprise), trial (paid a fee already)
    admin_codes = [p["code"] for p in plan_ops.plan_options(sessions, root, "bot-1")]
    assert admin_codes == ["corp", "pro", "trial"]
    for code in ("corp", "trial", "euro"):
        with pytest.raises(BillingError) as refused:
            ops.change_plan(sessions, alice, "bot-1", code, NOW)
        assert refused.value.status == 409 and "cannot move to" in str(refused.value)
    plan_ops.revise_plan(sessions, OPERATOR, "starter", Revision(changes_to="trial"), NOW)
    # the list is the version's: bot-1 stays on version 1, which allows every USD prepaid plan
    assert [p["code"] for p in plan_ops.plan_options(sessions, alice, "bot-1")] == ["pro"]
    subscribe(sessions, "bot-2")  # on version 2: the trial only, and it paid a fee already
    assert plan_ops.plan_options(sessions, alice, "bot-2") == []
    with pytest.raises(BillingError) as refused:
        ops.change_plan(sessions, alice, "bot-2", "pro", NOW)
    assert refused.value.status == 409 and "allows moves to trial only" in str(refused.value)
    assert ops.change_plan(sessions, root, "bot-2", "corp", NOW)["status"] == "scheduled"


def test_a_move_to_enterprise_waits_for_the_next_period_and_charges_nothing(
    sessions: Sessions,
) -> None:
    """corp (enterprise, 1000.00 a month) costs more than starter, but a prepaid balance
    never pays part of a contract's fee: the move is scheduled, never prorated."""
    root = seed(sessions).actors["root"]
    subscribe(sessions)  # bot-1 on starter since Nov 1 (prepaid)
    before = ops.subscriptions(sessions, root, "bot-1", NOW)[0]
    preview = ops.preview_change(sessions, root, "bot-1", "corp", NOW)
    assert (preview["kind"], preview["proration"]) == ("switch", None)
    assert preview["effective"] == "2026-12-01T00:00:00Z"
    order = ops.change_plan(sessions, root, "bot-1", "corp", NOW)
    assert (order["status"], order["amount"], order["detail"]["change"]) == (
        "scheduled",
        "0.00",
        "switch",
    )
    after = ops.subscriptions(sessions, root, "bot-1", NOW)[0]
    assert (after["plan"], after["pending_plan"]) == ("starter", "corp")
    assert after["balance"] == before["balance"]  # nothing was charged
    pro = ops.preview_change(sessions, root, "bot-1", "pro", NOW)  # same kind: an upgrade
    assert pro["kind"] == "upgrade" and pro["proration"] is not None


def test_a_new_bot_on_a_free_plan_is_offered_the_trial(sessions: Sessions) -> None:
    seeded = seed(sessions)
    ops.add_plan(sessions, OPERATOR, starter("free", fee="0"), NOW)
    subscribe(sessions, "bot-1", "free")  # no fee paid, never on a trial
    codes = [p["code"] for p in plan_ops.plan_options(sessions, seeded.actors["alice"], "bot-1")]
    assert codes == ["pro", "starter", "trial"]
