"""``operator-tui chaos kill|start STORE``: break and mend a store of the compose lab.

STORE is a PD store id or a compose service name (``tikv1``, ``pd0``). A store id is mapped
to its service through PD's ``/pd/api/v1/stores`` (``address`` ``tikv1:20160`` -> service
``tikv1``); when PD does not answer, store N is taken to be the Nth tikv service.
``kill`` is ``docker compose kill`` (SIGKILL); a killed container stays down until ``start``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

import httpx

from operator_tui.bootstrap import open_lab
from operator_tui.config import Settings
from operator_tui.core.deploy import DeployError

EXIT_ERROR = 2


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "chaos",
        help="kill or start a store of the compose lab",
        description=(
            "Kill or start a store of the compose lab. STORE is a PD store id (mapped to its "
            "service through PD's store address; when PD does not answer, store N is the Nth "
            "tikv service) or a service name such as tikv1 or pd0."
        ),
    )
    actions = p.add_subparsers(dest="chaos_action", metavar="ACTION", required=True)
    kill = actions.add_parser("kill", help="SIGKILL the store's container (docker kill)")
    kill.add_argument("store", metavar="STORE", help="store id or service name")
    start = actions.add_parser("start", help="start a killed store's container again")
    start.add_argument("store", metavar="STORE", help="store id or service name")


def run(args: argparse.Namespace, settings: Settings) -> int:
    try:
        print(asyncio.run(_run(args, settings)))
    except DeployError as exc:
        print(f"operator-tui: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    return 0


async def _run(args: argparse.Namespace, settings: Settings) -> str:
    async with httpx.AsyncClient() as http:
        lab = open_lab(settings, http)
        if args.chaos_action == "kill":
            return await lab.kill(args.store)
        return await lab.start(args.store)
