"""``operator-tui deploy local up|down|status|logs|restart|files``: the compose lab on this machine.

The lab ships inside the subject's package; ``up`` copies its project files into a state
directory (``--dir``, printed by ``files``) and runs Docker Compose there, from any directory."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

import httpx
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from operator_tui.bootstrap import open_lab
from operator_tui.config import Settings
from operator_tui.core.deploy import DeployError, Deployment, ServiceStatus, UpProgress, UpResult

EXIT_ERROR = 2


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "deploy",
        help="run the Docker Compose lab (3 PD, 3 TiKV, Prometheus, Grafana)",
        description="Run the subject's Docker Compose lab (needs Docker with Compose v2).",
    )
    targets = p.add_subparsers(dest="deploy_target", metavar="TARGET", required=True)
    local = targets.add_parser("local", help="the lab on this machine's Docker engine")
    local.add_argument(
        "--dir",
        type=Path,
        metavar="DIR",
        dest="lab_dir",
        help="state directory of the lab's compose files (default: see `deploy local files`)",
    )
    actions = local.add_subparsers(dest="deploy_action", metavar="ACTION", required=True)

    up = actions.add_parser("up", help="start the lab, wait until healthy and every store is Up")
    up.add_argument("--operator", action="store_true", help="also start the headless operator")
    up.add_argument("--load", action="store_true", help="also start the go-ycsb load generator")
    up.add_argument(
        "--workload", metavar="NAME", help="ycsb workload with --load: hotkey (default) or uniform"
    )
    up.add_argument(
        "--build", action="store_true", help="rebuild the operator and ycsb images first"
    )

    down = actions.add_parser("down", help="stop the lab and remove its containers and data")
    down.add_argument("--keep-volumes", action="store_true", help="keep the data volumes")

    actions.add_parser("status", help="services with their state and health")

    logs = actions.add_parser("logs", help="print the logs of the lab or of one service")
    logs.add_argument("service", nargs="?", metavar="SERVICE", help="e.g. tikv0, pd1, operator")
    logs.add_argument("-f", "--follow", action="store_true", help="keep printing new lines")
    logs.add_argument("--tail", type=int, metavar="N", help="only the last N lines per container")

    restart = actions.add_parser("restart", help="restart one service")
    restart.add_argument("service", metavar="SERVICE")

    actions.add_parser(
        "files", help="write the lab's compose project into its state directory and print where"
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    console = Console()
    try:
        return asyncio.run(_run(args, settings, console))
    except DeployError as exc:
        print(f"operator-tui: error: {exc}", file=sys.stderr)
        return EXIT_ERROR


async def _run(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    async with httpx.AsyncClient() as http:
        lab = open_lab(settings, http, directory=getattr(args, "lab_dir", None))
        action = args.deploy_action
        if action == "files":
            files = getattr(lab, "files", None)
            if files is None:
                raise DeployError("this lab keeps no files of its own")
            print(files())
        elif action == "up":
            result = await _up(lab, args, console)
            _print_up(result, console)
        elif action == "down":
            console.print(await lab.down(volumes=not args.keep_volumes))
        elif action == "status":
            _print_status(await lab.status(), lab, console)
        elif action == "logs":
            async for line in lab.logs(args.service, follow=args.follow, tail=args.tail):
                print(line, flush=args.follow)
        elif action == "restart":
            console.print(await lab.restart(args.service))
    return 0


async def _up(lab: Deployment, args: argparse.Namespace, console: Console) -> UpResult:
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TextColumn("[dim]{task.fields[detail]}"),
        TimeElapsedColumn(),
    )
    await lab.check()
    with Progress(*columns, console=console, transient=False) as progress:
        tasks: dict[str, TaskID] = {}

        def show(step: UpProgress) -> None:
            if step.phase in ("load", "notice"):
                progress.console.print(step.detail)
                return
            label, done, total = (
                ("services healthy", step.services_ready, step.services_total)
                if step.phase == "starting"
                else ("stores Up in PD", step.stores_up, step.stores_expected)
            )
            if step.phase not in tasks:
                tasks[step.phase] = progress.add_task(label, total=total, detail="")
            progress.update(tasks[step.phase], completed=done, total=total, detail=step.detail)

        return await lab.up(
            operator=args.operator,
            load=args.load,
            workload=args.workload,
            build=args.build,
            on_progress=show,
        )


def _print_up(result: UpResult, console: Console) -> None:
    console.print(f"[green]lab is up:[/] {result.stores_up} stores Up in PD")
    table = Table("endpoint", "url", title="endpoints")
    for endpoint in result.endpoints:
        table.add_row(endpoint.name, endpoint.url)
    console.print(table)
    urls = {e.name: e.url for e in result.endpoints}
    if "PD API" in urls:
        watch = f"operator-tui --pd {urls['PD API']}"
        if "Prometheus" in urls:
            watch += f" --prometheus {urls['Prometheus']}"
        console.print(f"watch it with: {watch}", soft_wrap=True)


def _print_status(services: list[ServiceStatus], lab: Deployment, console: Console) -> None:
    table = Table("service", "state", "health", "status", "ports", title=f"lab {lab.project}")
    for s in services:
        style = "green" if s.ready else ("dim" if s.state == "absent" else "red")
        table.add_row(
            s.service,
            f"[{style}]{s.state}[/]",
            s.health or "",
            s.status,
            ", ".join(s.ports),
        )
    console.print(table)
    if all(s.state == "absent" for s in services):
        console.print("the lab is not running: operator-tui deploy local up")
