"""What PD says about the lab's stores: how many are Up, and which service runs store N.

PD's ``/pd/api/v1/stores`` lists each store with its ``address`` (``tikv1:20160`` inside the
compose network, so the host part is the service) and ``state_name`` (``Up`` once it serves).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import httpx

from operator_tikv.lab.compose_file import ComposeLab
from operator_tui.core.deploy import ChaosTarget, DeployError, ProgressCallback, UpProgress

Stores = Callable[[], Awaitable[list[dict[str, Any]]]]


async def pd_stores(http: httpx.AsyncClient, endpoints: Sequence[str]) -> list[dict[str, Any]]:
    """``/pd/api/v1/stores`` from the first PD that answers, as plain ``store`` objects."""
    errors = []
    for base in endpoints:
        try:
            resp = await http.get(f"{base}/pd/api/v1/stores", timeout=5.0)
            resp.raise_for_status()
            body = resp.json()
            return [
                s["store"] for s in body.get("stores") or () if isinstance(s.get("store"), dict)
            ]
        except (httpx.HTTPError, ValueError, KeyError, AttributeError, TypeError) as exc:
            errors.append(f"{base}: {type(exc).__name__}" + (f" {exc}" if str(exc) else ""))
    raise DeployError("PD did not answer: " + ("; ".join(errors) or "no PD endpoint"))


async def wait_for_stores(
    lab: ComposeLab, stores: Stores, report: ProgressCallback, wait_s: float, poll_s: float
) -> int:
    """Poll PD until every store service of the lab is Up; the count, or ``DeployError``."""
    expected = len(lab.tikv_services)
    deadline = time.monotonic() + wait_s
    up, last_error = 0, ""
    while True:
        try:
            up = sum(1 for s in await stores() if s.get("state_name") == "Up")
            last_error = ""
        except DeployError as exc:
            last_error = str(exc)
        report(UpProgress("stores", stores_up=up, stores_expected=expected, detail=last_error))
        if up >= expected:
            return up
        if time.monotonic() >= deadline:
            why = f" ({last_error})" if last_error else ""
            raise DeployError(
                f"only {up} of {expected} stores are Up in PD after {wait_s:.0f}s{why}; "
                f"see `operator-tui deploy local logs {lab.tikv_services[0] if expected else 'pd0'}`"
            )
        await asyncio.sleep(poll_s)


async def resolve_target(lab: ComposeLab, target: str, stores: Stores) -> ChaosTarget:
    """A service name as is; a store id through PD's store address (``how="pd"``), or, when
    PD does not answer, as the Nth tikv service (``how="convention"``)."""
    target = target.strip()
    if target in lab.services:
        return ChaosTarget(target, None, "service")
    if not target.isdigit():
        names = ", ".join(lab.tikv_services)
        raise DeployError(f"unknown store or service {target!r}: give a store id or one of {names}")
    store_id = int(target)
    try:
        found = await stores()
    except DeployError:
        tikv = lab.tikv_services
        if 1 <= store_id <= len(tikv):
            return ChaosTarget(tikv[store_id - 1], store_id, "convention")
        raise DeployError(
            f"PD is unreachable and store {store_id} is not between 1 and {len(tikv)} "
            f"(store N = the Nth tikv service); name the service instead, e.g. {tikv[0] if tikv else 'tikv0'}"
        ) from None
    store = next((s for s in found if s.get("id") == store_id), None)
    if store is None:
        ids = ", ".join(str(s.get("id")) for s in found) or "none"
        raise DeployError(f"PD has no store {store_id} (stores: {ids})")
    address = str(store.get("address", ""))
    host = address.rsplit(":", 1)[0]
    if host not in lab.services:
        raise DeployError(
            f"store {store_id} is at {address}, which is not a service of {lab.path.name}"
        )
    return ChaosTarget(host, store_id, "pd", address)


def describe_target(target: ChaosTarget) -> str:
    if target.store_id is None:
        return target.service
    if target.how == "pd":
        return f"{target.service} (store {target.store_id} at {target.address})"
    return f"{target.service} (store {target.store_id}, by convention: the Nth tikv service)"
