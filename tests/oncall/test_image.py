"""deploy/Dockerfile's install steps, replayed without Docker (CI has no daemon).

The build stage's steps run as written, with the image's absolute paths
mapped into a temporary folder: COPY copies exactly the files it names (so a
file the build needs but the Dockerfile forgets fails here), the virtual
environment is created with ``python -m venv``, and the project is installed
into it from those files alone, not from the checkout. Then the final
stage's ENTRYPOINT and CMD start the bot with the final stage's environment
(production), the HEALTHCHECK command is run, ``frontdoor probe`` holds a
conversation with it, and SIGTERM stops it.

To keep the suite fast, the project's dependencies are not downloaded again:
``pip install`` gets ``--no-deps`` and the fresh environment borrows the
test environment's packages through a .pth file. The project itself, its
entry point and its data come only from the fresh install.
FRONTDOOR_TEST_FULL_INSTALL=1 installs everything as the image does (~1 min).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from tests.oncall import process
from tests.oncall.dockerfile import Stage, stages

pytestmark = pytest.mark.slow

ROOT = process.ROOT
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
FULL = os.environ.get("FRONTDOOR_TEST_FULL_INSTALL") == "1"
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc")
ACCOUNT_SETUP = ("groupadd ", "useradd ")  # needs root and changes the machine: the only RUN steps not replayed


class Image:
    """The image's filesystem roots mapped into a temporary folder."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.roots: dict[str, Path] = {}

    def path(self, image_path: str, cwd: Path | None = None) -> Path:
        if not image_path.startswith("/"):
            assert cwd is not None, image_path
            return cwd / image_path
        top = "/" + image_path.strip("/").split("/")[0]
        root = self.roots.setdefault(top, self.tmp / top.strip("/"))
        return root / image_path[len(top) :].lstrip("/")

    def rewrite(self, command: str) -> str:
        """Map absolute image paths inside a shell command."""
        def repl(m: re.Match) -> str:
            return str(self.path(m.group(0)))

        return re.sub(r"(?<![\w.])/(opt|src|var|app)(/[\w.\-/]*)?", repl, command)


def copy(image: Image, args: str, cwd: Path) -> None:
    *sources, dest = shlex.split(args)
    target = image.path(dest, cwd)
    for src in sources:
        origin = ROOT / src
        assert origin.exists(), f"the Dockerfile copies {src}, which the repository does not have"
        into = target / origin.name if (dest.endswith("/") or len(sources) > 1) else target
        if origin.is_dir():
            shutil.copytree(origin, into, ignore=IGNORED, dirs_exist_ok=True)
        else:
            into.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(origin, into)


def replay_build(stage: Stage, image: Image) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FRONTDOOR_", "PIP_", "VIRTUAL_ENV"))}
    cwd = image.tmp
    for instruction, args in stage.steps:
        if instruction == "ENV":
            env.update(Stage("", steps=[("ENV", args)]).env())
        elif instruction == "WORKDIR":
            cwd = image.path(args, cwd)
            cwd.mkdir(parents=True, exist_ok=True)
        elif instruction == "COPY":
            assert not args.startswith("--from"), args
            copy(image, args, cwd)
        elif instruction == "RUN":
            command = image.rewrite(args)
            command = re.sub(r"^python ", shlex.quote(sys.executable) + " ", command)
            if not FULL:
                command = command.replace("pip install ", "pip install --no-deps --no-build-isolation ", 1)
            result = subprocess.run(["bash", "-euo", "pipefail", "-c", command], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
            assert result.returncode == 0, f"RUN {args}\n{result.stdout}\n{result.stderr}"
            if not FULL and "-m venv" in command:
                borrow_dependencies(image.path("/opt/frontdoor"))
        else:
            pytest.fail(f"the build stage has a {instruction} step this test does not know how to replay")
    return env


def borrow_dependencies(venv: Path) -> None:
    (site,) = (venv / "lib").glob("python*/site-packages")
    (site / "zz_borrowed_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")


def final_environment(stage: Stage, image: Image, port: int, data: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FRONTDOOR_", "VIRTUAL_ENV"))}
    for key, value in stage.env().items():
        env[key] = image.rewrite(value).replace("$PATH", env.get("PATH", ""))
    env.update(
        {
            # Loopback only in tests, a free port, and production's required secrets.
            "FRONTDOOR_HOST": "127.0.0.1",
            "FRONTDOOR_PORT": str(port),
            "FRONTDOOR_DATA_DIR": str(data),
            "FRONTDOOR_HASH_SECRET": "image-test-hash-secret-0123456789",
            "FRONTDOOR_ENCRYPTION_KEY": Fernet.generate_key().decode(),
            "FRONTDOOR_LOG_LEVEL": "WARNING",
        }
    )
    return env


def exec_form(stage: Stage, instruction: str) -> list[str]:
    (raw,) = stage.args(instruction)
    return json.loads(raw)


def test_the_image_runs_on_the_python_ci_tests():
    build, final = stages(DOCKERFILE)
    version = re.search(r"python:(\d+\.\d+)", final.base)
    assert version and version.group(1) == f"{sys.version_info.major}.{sys.version_info.minor}", final.base
    assert build.base == final.base
    assert final.args("USER") and not final.args("USER")[-1].startswith(("root", "0"))
    assert final.args("HEALTHCHECK") and final.args("STOPSIGNAL") == ["SIGTERM"]


def test_install_steps_build_a_bot_that_serves(tmp_path):
    build, final = stages(DOCKERFILE)
    image = Image(tmp_path / "image")
    replay_build(build, image)

    for instruction, args in final.steps:
        if instruction == "RUN":
            assert args.startswith(ACCOUNT_SETUP), f"a RUN step in the final stage is not replayed here: {args}"
        if instruction == "COPY":
            source, dest = shlex.split(args.split(" ", 1)[1])
            assert args.startswith("--from=build") and source == dest, args  # the venv moves as a whole

    venv = image.path("/opt/frontdoor")
    python = venv / "bin" / "python"
    where = subprocess.run([str(python), "-c", "import bot; print(bot.__file__)"], capture_output=True, text=True, check=True, cwd=venv)
    assert where.stdout.startswith(str(venv)), "the bot must come from the fresh install, not the checkout"

    port = process.free_port()
    data = tmp_path / "data"
    data.mkdir()
    env = final_environment(final, image, port, data)
    assert Path(env["FRONTDOOR_FLOWS_DIR"]).is_dir(), "FRONTDOOR_FLOWS_DIR must point at the copied flows"
    command = exec_form(final, "ENTRYPOINT") + exec_form(final, "CMD")
    command[0] = shutil.which(command[0], path=env["PATH"]) or command[0]
    assert command[0].startswith(str(venv)), command

    server = process.start(env, tmp_path / "serve.log", command=command, cwd=data)
    try:
        healthcheck = json.loads(final.args("HEALTHCHECK")[0].split(" CMD ", 1)[1])  # exec form
        healthcheck[0] = shutil.which(healthcheck[0], path=env["PATH"]) or healthcheck[0]
        check = subprocess.run(healthcheck, env=env, capture_output=True, text=True, timeout=60)
        assert check.returncode == 0, check.stdout + check.stderr

        probed = process.probe(server.url, env=env, executable=venv / "bin" / "frontdoor")
        assert probed.returncode == 0, probed.stdout + probed.stderr
    finally:
        code = server.terminate()
    assert code == 0, server.output()
