"""The operator image's Dockerfile, read statically: built from the wheels, non-root, no Docker
socket, headless by default with /healthz. (``test_wheels`` runs its build steps outside Docker.)"""

from __future__ import annotations

import re

from operator_tui.testing.dockerfile import DOCKERFILE, dockerignore_kept, instructions, stages


def test_two_stages_the_image_installs_the_wheels_the_first_builds() -> None:
    build, final = stages()
    name = instructions(build, "FROM")[0].split()[-1]
    assert any("scripts/build-wheels.sh /wheels" in run for run in instructions(build, "RUN"))
    assert f"--from={name} /wheels /wheels" in instructions(final, "COPY")
    assert any(re.search(r"pip install /wheels/\*\.whl", r) for r in instructions(final, "RUN"))
    assert not instructions(final, "COPY")[1:], "the image gets nothing but the wheels"


def test_bases_are_pinned() -> None:
    for stage in stages():
        base = instructions(stage, "FROM")[0].split()[0]
        assert ":" in base and not base.endswith(":latest")


def test_runs_as_a_numeric_non_root_user_without_the_docker_socket() -> None:
    final = stages()[-1]
    user = instructions(final, "USER")[-1]
    uid = user.split(":")[0]
    assert uid.isdigit() and uid != "0"
    assert "docker.sock" not in DOCKERFILE.read_text()
    assert "/data" in " ".join(instructions(final, "VOLUME"))


def test_headless_by_default_with_health_and_json_logs() -> None:
    final = stages()[-1]
    assert instructions(final, "ENTRYPOINT") == ['["operator-tui"]']
    cmd = re.findall(r'"([^"]+)"', instructions(final, "CMD")[0])
    assert cmd[0] == "--no-ui"
    port = cmd[cmd.index("--health-port") + 1]
    assert cmd[cmd.index("--health-host") + 1] == "0.0.0.0"
    assert instructions(final, "EXPOSE") == [port]
    health = instructions(final, "HEALTHCHECK")[0]
    assert f"http://127.0.0.1:{port}/healthz" in health
    env = " ".join(instructions(final, "ENV"))
    assert "OPERATOR_LOG_FORMAT=json" in env


def test_build_context_sends_what_the_wheels_are_built_from() -> None:
    kept = dockerignore_kept()
    for needed in ("pyproject.toml", "README.md", "LICENSE", "operator_tui", "subjects/tikv"):
        assert needed in kept, f"{needed} is excluded from the build context"
    assert "scripts/build-wheels.sh" in kept
