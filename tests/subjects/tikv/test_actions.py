"""TiKV actions: each declared once with its PD call, run through ``execute`` by name."""

import json

import pytest
from operator_tikv import actions
from operator_tikv.actions import ACTIONS, BY_NAME, REMEDIES
from operator_tikv.pd import PDClient


def client(fake_pd, http):
    return PDClient(http, list(fake_pd.endpoints), retries=0)


async def run(pd, action, args, changed=None):
    seen = changed if changed is not None else []
    return await actions.execute(pd, action, args, config_changed=lambda: seen.append(action))


async def test_actions_send_pd_bodies(fake_pd, mock_http):
    pd = client(fake_pd, mock_http)
    r = await run(pd, "transfer_leader", {"region_id": 10, "to_store_id": 4})
    assert r.ok and r.message == "The operator is created." and not r.refused
    r = await run(pd, "split_region", {"region_id": "14"})
    assert r.ok and r.args == {"region_id": 14}
    assert (await run(pd, "set_leader_schedule_limit", {"n": 8})).ok
    assert (await run(pd, "set_replica_schedule_limit", {"n": 32})).ok
    assert (await run(pd, "set_region_schedule_limit", {"n": 16})).ok
    assert (await run(pd, "set_low_space_threshold", {"percent": 85})).ok
    r = await run(pd, "drain_store", {"store_id": 5})
    assert r.ok and r.message == "The store is set as Offline."
    bodies = [json.loads(c.content) for c in fake_pd.calls if c.method == "POST"]
    assert bodies == [
        {"name": "transfer-leader", "region_id": 10, "to_store_id": 4},
        {"name": "split-region", "region_id": 14, "policy": "approximate"},
        {"leader-schedule-limit": 8},
        {"replica-schedule-limit": 32},
        {"region-schedule-limit": 16},
        {"low-space-ratio": 0.85},
    ]
    assert [c.url.path for c in fake_pd.calls if c.method == "DELETE"] == ["/pd/api/v1/store/5"]


async def test_pd_error_comes_back_as_pd_message(fake_pd, mock_http):
    fake_pd.overrides["/pd/api/v1/operators"] = (
        500,
        '"[PD:region:ErrRegionNotFound]region 77 not found"',
    )
    pd = client(fake_pd, mock_http)
    r = await run(pd, "transfer_leader", {"region_id": 77, "to_store_id": 1})
    assert not r.ok and not r.refused
    assert r.message == "[PD:region:ErrRegionNotFound]region 77 not found"


@pytest.mark.parametrize(
    ("action", "args", "fragment"),
    [
        ("reboot_cluster", {}, "unknown action 'reboot_cluster'"),
        ("transfer_leader", {"region_id": 1}, "missing argument(s) to_store_id"),
        (
            "transfer_leader",
            {"region_id": 1, "to_store_id": 2, "force": True},
            "unknown argument(s) force",
        ),
        ("split_region", {"region_id": "ten"}, "region_id must be an integer"),
        ("split_region", {"region_id": True}, "region_id must be an integer"),
        ("drain_store", {"store_id": -4}, "must not be negative"),
        ("set_low_space_threshold", {"percent": 150}, "percent must be in (0, 100]"),
        ("set_low_space_threshold", {"percent": "nan"}, "finite"),
        ("set_leader_schedule_limit", None, "arguments must be an object"),
    ],
)
async def test_execute_refuses_bad_requests_without_raising(
    fake_pd, mock_http, action, args, fragment
):
    pd = client(fake_pd, mock_http)
    r = await run(pd, action, args)
    assert r.refused and not r.ok
    assert fragment in r.message
    assert not [c for c in fake_pd.calls if c.method != "GET"]


async def test_execute_survives_unreachable_pd(fake_pd, mock_http):
    fake_pd.dead.update(fake_pd.endpoints)
    pd = client(fake_pd, mock_http)
    r = await run(pd, "set_region_schedule_limit", {"n": 4})
    assert not r.ok and not r.refused and "no PD endpoint answered" in r.message


def test_every_action_is_declared_once_with_its_call():
    assert [r.action for r in REMEDIES] == list(ACTIONS)
    assert len(BY_NAME) == len(ACTIONS)
    assert {r.action.name for r in REMEDIES if r.changes_config} == {
        "set_leader_schedule_limit",
        "set_replica_schedule_limit",
        "set_region_schedule_limit",
        "set_low_space_threshold",
    }


async def test_a_config_write_is_announced_whatever_pd_said(fake_pd, mock_http):
    pd = client(fake_pd, mock_http)
    changed: list[str] = []
    assert (await run(pd, "set_region_schedule_limit", {"n": 4}, changed)).ok
    assert (await run(pd, "split_region", {"region_id": 3}, changed)).ok
    assert (await run(pd, "set_low_space_threshold", {"percent": 0}, changed)).refused
    fake_pd.overrides["/pd/api/v1/config/schedule"] = (400, '"low-space-ratio too low"')
    r = await run(pd, "set_low_space_threshold", {"percent": 10}, changed)
    assert not r.ok and not r.refused and r.message == "low-space-ratio too low"
    assert changed == ["set_region_schedule_limit", "set_low_space_threshold"]


class BrokenPD:
    async def add_operator(self, body):
        raise RuntimeError("socket closed")


async def test_an_unexpected_failure_is_reported_not_raised():
    r = await run(BrokenPD(), "split_region", {"region_id": 9})
    assert not r.ok and not r.refused and r.args == {"region_id": 9}
    assert r.message == "split_region failed: RuntimeError: socket closed"
