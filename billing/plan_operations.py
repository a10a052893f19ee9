"""Plan revisions and plan moves as the CLI and the HTTP API call them (issue #23): the next
version of a plan with what changed, and the plans a caller may move a bot to."""

from __future__ import annotations

from typing import Any

from billing import catalog, plan_moves, views
from billing.access import Actor, require_admin
from billing.errors import InvalidError
from billing.operations import Sessions


def revise_plan(
    sessions: Sessions, actor: Actor, code: str, revision: catalog.Revision, now_ms: int
) -> dict[str, Any]:
    """``plans revise``: the next version, changed only where ``revision`` says (admins);
    ``changes`` lists each field's old and new value. Nothing changed: refused."""
    require_admin(actor, "revise plans")
    with sessions.begin() as session:
        old, new = catalog.revise_plan(session, code, revision, now_ms)
        before, after = _flat(views.plan_json(old)), _flat(views.plan_json(new))
        changes = [
            {"field": name, "from": before[name], "to": after[name]}
            for name in after
            if name != "version" and before[name] != after[name]
        ]
        if not changes:  # raising rolls the new version back
            raise InvalidError(f"nothing to change: {code} version {old.version} has these values")
        return {**views.plan_json(new), "changes": changes}


def _flat(plan: dict[str, Any]) -> dict[str, Any]:
    """A plan's fields, meters spelled out (``included.agents``)."""
    flat: dict[str, Any] = {}
    for name, value in plan.items():
        if isinstance(value, dict):
            flat.update({f"{name}.{meter}": v for meter, v in value.items()})
        else:
            flat[name] = value
    return flat


def plan_options(sessions: Sessions, actor: Actor, app_id: str) -> list[dict[str, Any]]:
    """The plans the caller may move ``app_id`` to (newest versions): what the console offers."""
    with sessions() as session:
        subscription = views.visible_subscriptions(session, actor, app_id)[0]
        return [views.plan_json(p) for p in plan_moves.options(session, actor, subscription)]
