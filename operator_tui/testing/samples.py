"""Sample payloads for tests: a valid ``submit_diagnosis`` tool input that tests then bend."""

from __future__ import annotations

from typing import Any


def diagnosis_input(**over: Any) -> dict[str, Any]:
    """A ``Diagnosis`` as a model would submit it (store 2 down); keyword arguments replace fields."""
    data: dict[str, Any] = {
        "observation": "Store 2 stopped answering.",
        "root_cause": "TiKV store 2 process is gone.",
        "root_cause_class": "store_down",
        "target": 2,
        "correlated_metrics": [
            {"metric": "qps", "store_id": 1, "value": 1500.0, "baseline": 1000.0}
        ],
        "options_considered": [
            {"option": "drain store 2", "rejected_because": "irreversible"},
            {"option": "wait", "rejected_because": "regions under-replicated"},
        ],
        "recommended_actions": [
            {
                "action": "set_replica_schedule_limit",
                "args": {"n": 16},
                "rationale": "repair faster",
                "risk": "medium",
            }
        ],
        "confidence": 0.8,
        "severity": "critical",
    }
    data.update(over)
    return data
