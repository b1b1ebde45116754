"""The Dockerfile: its shape (multi-stage, pinned base, non-root, health check) and its
install steps, run for real outside Docker (no engine runs on the test machines).
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import sysconfig
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from txn_dev.run_local import DAGSTER_PROCESS_ENV

ROOT = Path(__file__).parents[2]
PACKAGES = ("txn_core", "txn_assets", "txn_api")


@dataclass
class Instruction:
    keyword: str
    value: str
    line: int


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]


def parse_dockerfile(text: str) -> tuple[dict[str, str], list[Stage]]:
    """Global ARGs and the build stages, continuation lines joined, comments dropped."""
    instructions: list[Instruction] = []
    buffer, start = "", 0
    for number, raw in enumerate(text.splitlines(), 1):
        stripped = raw.strip()
        if not buffer and (not stripped or stripped.startswith("#")):
            continue
        if buffer and stripped.startswith("#"):
            continue  # a comment inside a continued instruction
        if not buffer:
            start = number
        if stripped.endswith("\\"):
            buffer += stripped[:-1] + " "
            continue
        buffer += stripped
        keyword, _, value = buffer.partition(" ")
        instructions.append(Instruction(keyword.upper(), value.strip(), start))
        buffer = ""
    args: dict[str, str] = {}
    stages: list[Stage] = []
    for instruction in instructions:
        if instruction.keyword == "FROM":
            words = instruction.value.split()
            name = words[2] if len(words) > 2 and words[1].upper() == "AS" else None
            stages.append(Stage(base=words[0], name=name))
        elif not stages:
            if instruction.keyword == "ARG" and "=" in instruction.value:
                key, _, default = instruction.value.partition("=")
                args[key] = default
        else:
            stages[-1].instructions.append(instruction)
    return args, stages


@pytest.fixture(scope="module")
def dockerfile() -> tuple[dict[str, str], list[Stage]]:
    return parse_dockerfile((ROOT / "Dockerfile").read_text())


def resolve(base: str, args: dict[str, str]) -> str:
    return re.sub(r"\$\{?(\w+)\}?", lambda m: args.get(m.group(1), m.group(0)), base)


# ---------------------------------------------------------------------------------------
# Shape
# ---------------------------------------------------------------------------------------


def test_multi_stage_from_a_pinned_slim_base(dockerfile):
    args, stages = dockerfile
    assert len(stages) >= 2, "builder and runtime stages"
    bases = {resolve(stage.base, args) for stage in stages}
    assert len(bases) == 1, f"builder and runtime share one base: {bases}"
    (base,) = bases
    assert re.fullmatch(r"python:3\.11\.\d+-slim-bookworm@sha256:[0-9a-f]{64}", base), base


def test_final_stage_runs_as_a_non_root_user(dockerfile):
    _, stages = dockerfile
    users = stages[-1].all("USER")
    assert users, "the final stage sets USER"
    user = users[-1].value.split(":")[0]
    assert user not in {"root", "0"}, user


def test_final_stage_copies_the_venv_and_installs_nothing(dockerfile):
    _, stages = dockerfile
    builder, final = stages[0], stages[-1]
    copies = [c.value for c in final.all("COPY") if c.value.startswith("--from=")]
    assert any(f"--from={builder.name}" in c and "/opt/venv" in c for c in copies), copies
    runs = " ".join(r.value for r in final.all("RUN"))
    assert "pip install" not in runs, "dependencies are installed in the builder only"
    for compiler in ("build-essential", "gcc", "g++", "make ", "apt-get install"):
        assert compiler not in runs, f"final stage installs {compiler.strip()}"


def test_builder_pip_keeps_no_cache(dockerfile):
    _, stages = dockerfile
    pip_runs = [r.value for r in stages[0].all("RUN") if "pip install" in r.value]
    assert pip_runs
    for run in pip_runs:
        for command in re.findall(r"pip install[^;&|]*", run):
            assert "--no-cache-dir" in command, command
    assert "-c constraints.txt" in " ".join(pip_runs), "installs against the pinned constraints"


def test_final_stage_has_the_dagster_home_and_a_default_command(dockerfile):
    _, stages = dockerfile
    final = stages[-1]
    env = " ".join(e.value for e in final.all("ENV"))
    assert "DAGSTER_HOME=/opt/dagster/home" in env
    # The image's Dagster processes batch event writes as `make run`'s do.
    for name, value in DAGSTER_PROCESS_ENV.items():
        assert f"{name}={value}" in env
    copies = " ".join(c.value for c in final.all("COPY"))
    assert "dagster.yaml /opt/dagster/home/dagster.yaml" in copies
    assert "docker/ /app/docker/" in copies, "docker/workspace.yaml is in the image"
    cmd = json.loads(final.all("CMD")[-1].value)
    assert cmd[:2] == ["uvicorn", "txn_api.main:app"]


def healthcheck_command(stage: Stage) -> list[str]:
    checks = stage.all("HEALTHCHECK")
    assert checks, "the final stage has a HEALTHCHECK"
    value = checks[-1].value
    assert "CMD" in value
    return json.loads(value[value.index("CMD") + 3 :].strip())


def test_healthcheck_probes_the_api_liveness_with_python(dockerfile):
    _, stages = dockerfile
    command = healthcheck_command(stages[-1])
    assert command[0] == "python", "curl is not in the slim image"
    assert "http://127.0.0.1:8000/livez'" in command[-1], "the process, not the warehouse"


class _HealthHandler(BaseHTTPRequestHandler):
    healthy = True

    def do_GET(self):
        ok = self.path == "/livez" and type(self).healthy
        self.send_response(200 if ok else 503)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.mark.parametrize("healthy", [True, False])
def test_healthcheck_command_really_works(dockerfile, healthy):
    """Run the HEALTHCHECK's own command against a stand-in /livez endpoint."""
    _, stages = dockerfile
    command = healthcheck_command(stages[-1])
    handler = type("Handler", (_HealthHandler,), {"healthy": healthy})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        script = command[-1].replace("127.0.0.1:8000", f"127.0.0.1:{port}")
        assert script != command[-1], "the probe targets 127.0.0.1:8000"
        result = subprocess.run(
            [sys.executable, *command[1:-1], script], capture_output=True, timeout=30
        )
    finally:
        server.shutdown()
    assert (result.returncode == 0) is healthy, result.stderr


def test_the_image_carries_the_rds_ca_bundle_pinned_by_hash(dockerfile):
    """Amazon RDS's global bundle, fetched at build time and checked against its SHA-256
    (BuildKit's ADD --checksum), readable by the unprivileged user."""
    _, stages = dockerfile
    adds = [a.value.split() for a in stages[-1].all("ADD")]
    bundles = [a for a in adds if a[-1] == "/etc/ssl/certs/rds-global-bundle.pem"]
    assert len(bundles) == 1, adds
    (add,) = bundles
    assert add[-2] == "https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem"
    flags = add[:-2]
    assert any(re.fullmatch(r"--checksum=sha256:[0-9a-f]{64}", flag) for flag in flags), flags
    assert "--chmod=644" in flags
    syntax = (ROOT / "Dockerfile").read_text().splitlines()[0]
    assert syntax == "# syntax=docker/dockerfile:1", "ADD --checksum needs dockerfile 1.6+"


def test_dockerignore_keeps_local_state_and_secrets_out():
    patterns = (ROOT / ".dockerignore").read_text().split()
    for required in (".git", ".venv", "var", ".env", "terraform", "**/*.tfstate", "tests"):
        assert required in patterns, f".dockerignore lacks {required}"


def test_hadolint_ignores_no_rule_silently():
    """Any `hadolint ignore` must carry its reason in a comment on the same line."""
    for number, line in enumerate((ROOT / "Dockerfile").read_text().splitlines(), 1):
        if "hadolint ignore" in line:
            assert re.search(r"hadolint ignore=\S+\s+#?\s*\w+.{10,}", line), f"line {number}"
    config = ROOT / ".hadolint.yaml"
    assert not config.exists() or "ignored" not in config.read_text()


# ---------------------------------------------------------------------------------------
# The image's install steps, run as plain commands
# ---------------------------------------------------------------------------------------


def dockerignore_excludes(relative: str, patterns: list[str]) -> bool:
    """Docker's .dockerignore matching, enough for this file: last match wins, `!` keeps."""
    excluded = False
    parts = relative.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for pattern in patterns:
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").rstrip("/")
        candidates = [pattern]
        if pattern.startswith("**/"):
            candidates.append(pattern[3:])
        matched = any(
            fnmatch.fnmatchcase(prefix, candidate) or fnmatch.fnmatchcase(prefix, f"*/{candidate}")
            if candidate != pattern
            else fnmatch.fnmatchcase(prefix, candidate)
            for prefix in prefixes
            for candidate in candidates
        )
        if matched:
            excluded = not negate
    return excluded


def build_context(destination: Path) -> Path:
    """Copy what `docker build .` would send, per .dockerignore."""
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    for dirpath, dirnames, filenames in os.walk(ROOT):
        rel_dir = Path(dirpath).relative_to(ROOT).as_posix()
        rel_dir = "" if rel_dir == "." else rel_dir + "/"
        dirnames[:] = [d for d in dirnames if not dockerignore_excludes(rel_dir + d, patterns)]
        for name in filenames:
            relative = rel_dir + name
            if not dockerignore_excludes(relative, patterns):
                target = destination / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(ROOT / relative, target)
    return destination


def test_the_build_context_leaves_the_proxy_configuration_out():
    patterns = (ROOT / ".dockerignore").read_text().split()
    assert dockerignore_excludes("docker/Caddyfile", patterns), "the proxy has its own image"
    assert not dockerignore_excludes("docker/workspace.yaml", patterns)


def test_build_context_filter_is_sound(tmp_path):
    patterns = [".venv", "var", "**/__pycache__", ".env", ".env.*", "!.env.example", "terraform"]
    assert dockerignore_excludes(".venv/bin/python", patterns)
    assert dockerignore_excludes("txn_core/__pycache__/x.pyc", patterns)
    assert dockerignore_excludes(".env.local", patterns)
    assert not dockerignore_excludes(".env.example", patterns)
    assert not dockerignore_excludes("txn_core/sql.py", patterns)
    assert not dockerignore_excludes("variables.txt", patterns)


@pytest.fixture(scope="module")
def installed_image_venv(dockerfile, tmp_path_factory) -> Path:
    """Run the builder stage's RUN lines against a temporary virtual environment.

    /opt/venv becomes a temporary venv and WORKDIR the filtered build context. The
    project's dependencies are already installed in the test environment: a .pth file
    makes them visible, so pip finds them satisfied (it still checks them against
    constraints.txt) and builds and installs the project itself, as the image does.
    """
    _, stages = dockerfile
    builder = stages[0]
    work = tmp_path_factory.mktemp("image")
    context = build_context(work / "context")
    venv = work / "venv"

    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    cwd = context
    ran = []
    for instruction in builder.instructions:
        value = instruction.value.replace("/opt/venv", str(venv))
        if instruction.keyword == "ENV":
            for key, val in re.findall(r"(\w+)=(\S+)", value):
                env[key] = val.replace("$PATH", env["PATH"])
        elif instruction.keyword == "WORKDIR":
            assert value == "/src", "the builder works in /src"
        elif instruction.keyword == "COPY":
            assert value in {". .", "./ ./"}, f"unexpected COPY in the builder: {value}"
        elif instruction.keyword == "RUN":
            result = subprocess.run(
                ["sh", "-c", value], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
            )
            assert result.returncode == 0, (
                f"Dockerfile line {instruction.line}: {value}\n{result.stdout}\n{result.stderr}"
            )
            ran.append(value)
            if value.startswith("python -m venv"):
                site = Path(
                    subprocess.check_output(
                        [
                            str(venv / "bin/python"),
                            "-c",
                            "import sysconfig; print(sysconfig.get_paths()['purelib'])",
                        ],
                        text=True,
                    ).strip()
                )
                (site / "_test_environment.pth").write_text(sysconfig.get_paths()["purelib"])
    assert any("pip install" in r for r in ran), "the builder's pip install ran"
    return venv


def installed_python(venv: Path, code: str, tmp_path: Path) -> str:
    result = subprocess.run(
        [str(venv / "bin/python"), "-c", code],
        cwd=tmp_path,  # away from the checkout: imports come from the venv
        env={k: v for k, v in os.environ.items() if not k.startswith("PYTHON")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.timeout(600)  # builds and installs the project (about a minute)
def test_image_install_puts_the_packages_in_the_venv(installed_image_venv, tmp_path):
    venv = installed_image_venv
    present = [name for name in PACKAGES if (ROOT / name / "__init__.py").is_file()]
    assert "txn_core" in present
    code = (
        "import importlib.util, json, sys\n"
        f"print(json.dumps({{n: importlib.util.find_spec(n).origin for n in {present!r}}}))"
    )
    origins = json.loads(installed_python(venv, code, tmp_path))
    for name, origin in origins.items():
        assert origin.startswith(str(venv)), f"{name} imported from {origin}, not the image venv"


@pytest.mark.timeout(600)  # builds and installs the project (about a minute)
def test_image_install_leaves_the_developer_machinery_out(installed_image_venv, tmp_path):
    code = "import importlib.util; print(importlib.util.find_spec('txn_dev') is None)"
    assert installed_python(installed_image_venv, code, tmp_path).strip() == "True"


@pytest.mark.timeout(600)  # builds and installs the project (about a minute)
def test_image_install_carries_every_package_file(installed_image_venv, tmp_path):
    """Package data (migrations, templates, .sql, .ini) reaches the installed copy."""
    venv = installed_image_venv
    site = Path(
        installed_python(
            venv, "import sysconfig; print(sysconfig.get_paths()['purelib'])", tmp_path
        ).strip()
    )
    missing = []
    installed_as = {name: name for name in PACKAGES} | {"sql": "txn_sql"}
    for name, package in installed_as.items():
        source = ROOT / name
        for path in source.rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                relative = path.relative_to(source)
                if not (site / package / relative).is_file():
                    missing.append(str(path.relative_to(ROOT)))
    assert not missing, f"not installed by `pip install .`: {missing}"


def test_the_sql_installs_with_the_package_not_by_hand(dockerfile):
    _, stages = dockerfile
    steps = " ".join(step.value for stage in stages for step in stage.all("RUN"))
    assert "sql" not in steps, "pip install . carries sql/ as the package txn_sql"


@pytest.mark.timeout(600)  # builds and installs the project (about a minute)
def test_image_install_finds_the_named_sql(installed_image_venv, tmp_path):
    names = sorted(
        p.relative_to(ROOT / "sql").with_suffix("").as_posix()
        for p in (ROOT / "sql").rglob("*.sql")
    )
    assert names
    code = (
        "from txn_core.sql import SQL, load_sql\n"
        f"for name in {names!r}:\n"
        "    assert load_sql(name).strip(), name\n"
        "print(SQL)"
    )
    sql_dir = installed_python(installed_image_venv, code, tmp_path).strip()
    assert not sql_dir.startswith(str(ROOT)), "the image must not read SQL from the checkout"


@pytest.mark.timeout(600)  # builds and installs the project (about a minute)
def test_image_install_dependencies_are_consistent(installed_image_venv):
    result = subprocess.run(
        [str(installed_image_venv / "bin/python"), "-m", "pip", "check"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_direct_dependency_is_pinned_in_constraints():
    pyproject = (ROOT / "pyproject.toml").read_text()
    block = re.search(r"^dependencies = \[(.*?)^\]", pyproject, re.DOTALL | re.MULTILINE)
    assert block
    names = {
        re.split(r"[<>=!~\[; ]", shlex.split(line.strip().rstrip(","))[0])[0].lower()
        for line in block.group(1).splitlines()
        if line.strip().startswith('"')
    }
    pinned = {
        line.split("==")[0].strip().lower().replace("_", "-")
        for line in (ROOT / "constraints.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    }
    assert names, "no dependency parsed"
    unpinned = {n for n in names if n.replace("_", "-") not in pinned}
    assert not unpinned, f"constraints.txt pins no version of {sorted(unpinned)}"
