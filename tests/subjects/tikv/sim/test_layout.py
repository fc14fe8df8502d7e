"""The model's split into one module per concern: old import paths still work, shared helpers hold."""

from __future__ import annotations

import importlib

from operator_tikv.sim import model
from operator_tikv.sim.operators import Step, add_peer_steps, move_peer_steps

# Where each name imported from ``operator_tikv.sim.model`` before the split now lives.
MOVED = {
    "MIN_HOT_READ_BYTES": "traffic",
    "MIN_HOT_WRITE_BYTES": "traffic",
    "READ_RATIO": "traffic",
    "REGION_HEARTBEAT_NS": "traffic",
    "VALUE_BYTES": "traffic",
    "OP_ADMIN": "operators",
    "OP_LEADER": "operators",
    "OP_REGION": "operators",
    "OP_SPLIT": "operators",
    "STATUS_WORDS": "operators",
    "Step": "operators",
    "PD_GIT_HASH": "members",
    "PD_VERSION": "members",
    "Member": "members",
    "STATE_TOMBSTONE": "store",
    "TIKV_GIT_HASH": "store",
    "TIKV_VERSION": "store",
    "Store": "store",
    "SimError": "errors",
    "jitter": "noise",
}


def test_model_still_exports_the_names_imported_from_it() -> None:
    for name, home in MOVED.items():
        module = importlib.import_module(f"operator_tikv.sim.{home}")
        assert getattr(model, name) is getattr(module, name), name
    assert set(model.__all__) == {*MOVED, "Cluster"}


def test_a_moved_peer_hands_over_leadership_only_when_it_leads() -> None:
    led = move_peer_steps(leader_store=1, src=1, dst=4, peer_id=99)
    assert [s.kind for s in led] == ["add_learner", "promote", "transfer_leader", "remove_peer"]
    assert led[2] == Step("transfer_leader", store=1, to_store=4)
    assert led[3] == Step("remove_peer", store=1)
    followed = move_peer_steps(leader_store=2, src=1, dst=4, peer_id=99)
    assert [s.kind for s in followed] == ["add_learner", "promote", "remove_peer"]
    assert add_peer_steps(4, 99) == followed[:2]
    assert all(s.store == 4 and s.peer_id == 99 for s in followed[:2])
