"""The remediations the TiKV subject offers, as PD operator and config calls.

Bodies are PD's own: ``POST /operators`` with ``{"name": "transfer-leader",
"region_id": N, "to_store_id": M}`` or ``{"name": "split-region", ...,
"policy": "approximate"}``, ``POST /config/schedule`` with kebab-case keys,
``DELETE /store/{id}`` to drain a store (PD sets it Offline and moves its
regions away), ``POST /schedulers`` with ``{"name": "evict-leader-scheduler",
"store_id": N}`` and ``DELETE /schedulers/evict-leader-scheduler-N`` to start and stop
moving every leader off a store (server/api/scheduler.go). Each action is declared once with the PD call that performs it
(``REMEDIES``) and ``execute`` dispatches by the declared name. Whether an action may run (observe / approve / auto) is core's
decision; the subject only validates arguments and executes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from operator_tikv.pd import PDClient
from operator_tui.core.subject import Action, ActionArg, SubjectError
from operator_tui.core.types import ActionResult

PdCall = Callable[[PDClient, dict[str, Any]], Awaitable[str]]


@dataclass(frozen=True, slots=True)
class Remedy:
    """A declared action and the PD call that performs it, given validated arguments.

    ``changes_config``: the action writes PD's schedule config, which the subject
    then reads again on its next tick so the change shows at once.
    """

    action: Action
    call: PdCall
    changes_config: bool = False


EVICT_LEADER = "evict-leader-scheduler"


def _schedule_limit(key: str) -> PdCall:
    return lambda pd, a: pd.set_schedule_config({key: a["n"]})


REMEDIES: tuple[Remedy, ...] = (
    Remedy(
        Action(
            "transfer_leader",
            (
                ActionArg("region_id", "int", "region whose leader moves"),
                ActionArg("to_store_id", "int", "store holding a voter of the region"),
            ),
            "Move a region's leader to another store (PD transfer-leader operator).",
            "low",
        ),
        lambda pd, a: pd.add_operator(
            {
                "name": "transfer-leader",
                "region_id": a["region_id"],
                "to_store_id": a["to_store_id"],
            }
        ),
    ),
    Remedy(
        Action(
            "split_region",
            (ActionArg("region_id", "int", "region to split in two"),),
            "Split a region at its approximate middle (PD split-region operator).",
            "low",
        ),
        lambda pd, a: pd.add_operator(
            {"name": "split-region", "region_id": a["region_id"], "policy": "approximate"}
        ),
    ),
    Remedy(
        Action(
            "set_leader_schedule_limit",
            (ActionArg("n", "int", "concurrent leader-transfer operators"),),
            "Set PD's leader-schedule-limit.",
            "medium",
        ),
        _schedule_limit("leader-schedule-limit"),
        changes_config=True,
    ),
    Remedy(
        Action(
            "set_replica_schedule_limit",
            (ActionArg("n", "int", "concurrent replica-repair operators"),),
            "Set PD's replica-schedule-limit (speed of re-replication after a failure).",
            "medium",
        ),
        _schedule_limit("replica-schedule-limit"),
        changes_config=True,
    ),
    Remedy(
        Action(
            "set_region_schedule_limit",
            (ActionArg("n", "int", "concurrent region-move operators"),),
            "Set PD's region-schedule-limit.",
            "medium",
        ),
        _schedule_limit("region-schedule-limit"),
        changes_config=True,
    ),
    Remedy(
        Action(
            "drain_store",
            (ActionArg("store_id", "int", "store to take out of service"),),
            "Set a store Offline so PD moves all its regions away "
            "(it becomes Tombstone when empty).",
            "high",
        ),
        lambda pd, a: pd.remove_store(a["store_id"]),
    ),
    Remedy(
        Action(
            "evict_leader",
            (ActionArg("store_id", "int", "store whose leaders all move away"),),
            "Add PD's evict-leader scheduler for a store: PD moves every leader off it and "
            "keeps them off (what operators do first for a slow or flapping store).",
            "medium",
        ),
        lambda pd, a: pd.add_scheduler({"name": EVICT_LEADER, "store_id": a["store_id"]}),
    ),
    Remedy(
        Action(
            "remove_evict_leader",
            (ActionArg("store_id", "int", "store that may lead regions again"),),
            "Remove a store from PD's evict-leader scheduler so it may lead regions again.",
            "low",
        ),
        lambda pd, a: pd.remove_scheduler(f"{EVICT_LEADER}-{a['store_id']}"),
    ),
    Remedy(
        Action(
            "set_low_space_threshold",
            (
                ActionArg(
                    "percent",
                    "float",
                    "used-space percentage at which PD treats a store as low on space",
                ),
            ),
            "Set PD's low-space-ratio (percent / 100); must stay above high-space-ratio.",
            "medium",
        ),
        lambda pd, a: pd.set_schedule_config({"low-space-ratio": round(a["percent"] / 100.0, 6)}),
        changes_config=True,
    ),
)

ACTIONS: tuple[Action, ...] = tuple(r.action for r in REMEDIES)
BY_NAME = {r.action.name: r for r in REMEDIES}


class BadArguments(ValueError):
    """Arguments that do not match the action's declaration."""


def _as_int(name: str, value: Any) -> int:
    if isinstance(value, bool):
        raise BadArguments(f"{name} must be an integer, got {value!r}")
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and value.strip().lstrip("+").isdigit():
        number = int(value.strip())
    else:
        raise BadArguments(f"{name} must be an integer, got {value!r}")
    if number < 0:
        raise BadArguments(f"{name} must not be negative, got {number}")
    return number


def _as_float(name: str, value: Any) -> float:
    if isinstance(value, bool):
        raise BadArguments(f"{name} must be a number, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise BadArguments(f"{name} must be a number, got {value!r}") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise BadArguments(f"{name} must be a finite number, got {value!r}")
    return number


def validate(action: Action, args: dict[str, Any]) -> dict[str, Any]:
    """Typed arguments for ``action``; raises ``BadArguments`` with a one-line reason."""
    if not isinstance(args, dict):
        raise BadArguments(f"arguments must be an object, got {type(args).__name__}")
    declared = {a.name: a for a in action.args}
    unknown = sorted(set(args) - set(declared))
    if unknown:
        raise BadArguments(f"unknown argument(s) {', '.join(unknown)} for {action.name}")
    missing = [a for a in declared if a not in args]
    if missing:
        raise BadArguments(f"missing argument(s) {', '.join(missing)} for {action.name}")
    out: dict[str, Any] = {}
    for name, spec in declared.items():
        out[name] = _as_int(name, args[name]) if spec.type == "int" else _as_float(name, args[name])
    if action.name.startswith("set_") and action.name.endswith("_schedule_limit"):
        if out["n"] > 1_000_000:
            raise BadArguments(f"n is implausibly large: {out['n']}")
    if action.name == "set_low_space_threshold" and not 0 < out["percent"] <= 100:
        raise BadArguments(f"percent must be in (0, 100], got {out['percent']:g}")
    return out


def typed_or_none(action: str, args: Any) -> dict[str, Any] | None:
    """The validated arguments of a declared action, or None."""
    remedy = BY_NAME.get(action)
    if remedy is None or not isinstance(args, dict):
        return None
    try:
        return validate(remedy.action, args)
    except BadArguments:
        return None


async def execute(
    pd: PDClient, action: str, args: Any, *, config_changed: Callable[[], None]
) -> ActionResult:
    """Run a declared action through PD; bad requests are refused and failures reported,
    never raised. ``config_changed`` runs after a schedule-config write, whatever PD said."""
    if not isinstance(args, dict):
        return ActionResult(
            str(action), {}, False, "action arguments must be an object", refused=True
        )
    remedy = BY_NAME.get(action)
    if remedy is None:
        known = ", ".join(a.name for a in ACTIONS)
        return ActionResult(
            action, args, False, f"unknown action {action!r} (declared: {known})", refused=True
        )
    try:
        typed = validate(remedy.action, args)
    except BadArguments as exc:
        return ActionResult(action, args, False, f"{action}: {exc}", refused=True)
    try:
        try:
            result = ActionResult(action, typed, True, await remedy.call(pd, typed))
        except SubjectError as exc:
            result = ActionResult(action, typed, False, str(exc))
        if remedy.changes_config:
            config_changed()
        return result
    except Exception as exc:
        return ActionResult(action, typed, False, f"{action} failed: {type(exc).__name__}: {exc}")
