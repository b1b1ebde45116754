"""The deployment files pass their field's own checkers.

Each test runs the real checker binary from `.venv-tools` (created from
tools/requirements.txt by `make test`), falling back to PATH. A missing checker is a
failure, not a skip: a green run must mean every check ran. Only terraform, which PyPI
does not carry, may skip when its binary is absent.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
TOOLS_BIN = ROOT / ".venv-tools" / "bin"
INSTALL_HINT = (
    "install the checkers with `make tools` (or: python3 -m venv .venv-tools && "
    ".venv-tools/bin/pip install -r tools/requirements.txt)"
)


def tool(name: str) -> str:
    """The checker's path: .venv-tools/bin first, then PATH; fail when neither has it."""
    candidate = TOOLS_BIN / name
    if candidate.is_file() and os.access(candidate, os.X_OK):
        return str(candidate)
    found = shutil.which(name)
    if found:
        return found
    pytest.fail(f"checker `{name}` not found in {TOOLS_BIN} or on PATH: {INSTALL_HINT}")


def tools_env() -> dict[str, str]:
    """PATH with the checkers first, so that actionlint finds shellcheck."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(TOOLS_BIN), env.get("PATH", "")])
    return env


def run(args: list[str], timeout: float = 120, **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args,
        cwd=kwargs.pop("cwd", ROOT),
        env=kwargs.pop("env", tools_env()),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        **kwargs,
    )


def assert_ok(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, (
        f"`{' '.join(result.args)}` exited {result.returncode}\n"
        f"--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}"
    )


# ---------------------------------------------------------------------------------------
# Dockerfile
# ---------------------------------------------------------------------------------------


def test_hadolint_passes_with_no_finding():
    # --failure-threshold info: even an informational finding fails the check.
    assert_ok(run([tool("hadolint"), "--failure-threshold", "info", "Dockerfile"]))


# ---------------------------------------------------------------------------------------
# GitHub Actions
# ---------------------------------------------------------------------------------------


def test_actionlint_passes_with_shellcheck_on_run_blocks():
    tool("shellcheck")  # actionlint checks `run:` scripts only when it finds shellcheck
    result = run([tool("actionlint"), "-no-color"])
    assert_ok(result)


def test_zizmor_finds_nothing_in_the_workflows():
    """zizmor's security audit at its default (`regular`) persona: unpinned actions,
    excessive token permissions, persisted credentials, template injection, ...

    --offline: the audits that ask GitHub's API (does each pinned SHA belong to its action,
    known advisories) run in CI's workflow, which has a token; this one runs anywhere.
    """
    result = run(
        [
            tool("zizmor"),
            "--offline",
            "--persona",
            "regular",
            "--no-progress",
            "--color",
            "never",
            ".github/workflows",
        ]
    )
    assert_ok(result)
    assert "No findings to report" in result.stdout, result.stdout


def test_workflows_match_the_github_workflow_schema():
    workflows = sorted(str(p.relative_to(ROOT)) for p in (ROOT / ".github/workflows").glob("*.yml"))
    assert workflows, "no workflow found"
    cmd = [tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows"]
    assert_ok(run([*cmd, *workflows]))


# ---------------------------------------------------------------------------------------
# Shell scripts run on the Docker host
# ---------------------------------------------------------------------------------------


def test_shellcheck_passes_on_host_scripts():
    scripts = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "terraform/files").glob("*.sh"))
    assert scripts, "no host script found"
    assert_ok(run([tool("shellcheck"), "--severity=info", *scripts]))


# ---------------------------------------------------------------------------------------
# docker-compose.yml, by the Compose command line itself (no Docker engine needed)
# ---------------------------------------------------------------------------------------


def test_docker_compose_config_accepts_the_example_env():
    result = run(
        [tool("docker-compose"), "--env-file", ".env.example", "-f", "docker-compose.yml", "config"]
    )
    assert_ok(result)
    assert "postgres:" in result.stdout, "the localdb profile of .env.example starts postgres"


def test_docker_compose_config_accepts_a_production_env(tmp_path):
    """On the host: no local PostgreSQL (profile off), the warehouse on RDS, S3 landing; the
    variables txn-render-env writes (test_terraform.py runs it)."""
    env_file = tmp_path / "prod.env"
    env_file.write_text(
        "GITHUB_REPOSITORY=acme/txn-platform\n"
        "IMAGE_TAG=0123abc\n"
        "TXN_DATABASE_URL='postgresql://txn:pw@db.internal:5432/txn'\n"
        "TXN_DAGSTER_PG_HOST=db.internal\n"
        "TXN_DAGSTER_PG_PASSWORD=pw\n"
        "TXN_LANDING=s3://bucket/landing\n"
        "TXN_API_KEY='K3yK3yK3yK3yK3yK3yK3yK3yK3yK3yK3yK3y'\n"
        "TXN_GENERATE_DAILY='false'\n"
        "TXN_DOMAIN='api.example.com'\n"
        "PGSSLMODE=verify-full\n"
        "PGSSLROOTCERT=/etc/ssl/certs/rds-global-bundle.pem\n"
    )
    result = run(
        [tool("docker-compose"), "--env-file", str(env_file), "-f", "docker-compose.yml", "config"]
    )
    assert_ok(result)
    assert "\n  postgres:" not in result.stdout, "postgres must not run beside RDS"
    assert "image: ghcr.io/acme/txn-platform:0123abc" in result.stdout


def test_docker_compose_config_refuses_a_missing_password(tmp_path):
    env_file = tmp_path / "empty.env"
    env_file.write_text("COMPOSE_PROFILES=localdb\n")
    result = run(
        [tool("docker-compose"), "--env-file", str(env_file), "-f", "docker-compose.yml", "config"]
    )
    assert result.returncode != 0
    assert "POSTGRES_PASSWORD" in result.stderr


# ---------------------------------------------------------------------------------------
# Terraform
# ---------------------------------------------------------------------------------------


def test_terraform_fmt_check():
    terraform = shutil.which("terraform")
    if terraform is None:
        pytest.skip("terraform binary not installed (it is not on PyPI); CI installs it")
    env = tools_env()
    # a CLI configuration file named by the environment may be absent: none is needed
    env.pop("TF_CLI_CONFIG_FILE", None)
    assert_ok(run([terraform, "fmt", "-check", "-recursive", "-diff", "terraform"], env=env))


@pytest.fixture(scope="module")
def checkov_run(tmp_path_factory) -> tuple[subprocess.CompletedProcess[str], dict]:
    """checkov over terraform/, once per test run (it takes several seconds).

    The console gets the usual compact report; a JSON copy is kept to check that the
    scan really covered the resources. --skip-download: no request to the vendor's API
    (doc links and severities only), so the check runs offline.
    """
    report = tmp_path_factory.mktemp("checkov") / "report.json"
    result = run(
        [
            tool("checkov"),
            "-d",
            "terraform",
            "--quiet",
            "--compact",
            "--skip-download",
            "-o",
            "cli",
            "-o",
            "json",
            "--output-file-path",
            f"console,{report}",
        ],
        timeout=300,
    )
    data = json.loads(report.read_text()) if report.is_file() else {}
    return result, data


@pytest.mark.timeout(600)  # checkov takes 10-30 s
def test_checkov_passes_on_terraform(checkov_run):
    result, _ = checkov_run
    assert_ok(result)


@pytest.mark.timeout(600)  # checkov takes 10-30 s
def test_checkov_scanned_the_terraform(checkov_run):
    """A run that found nothing to scan also exits 0: make sure it checked resources."""
    _, data = checkov_run
    reports = data if isinstance(data, list) else [data]
    summaries = [r["summary"] for r in reports if r.get("check_type") == "terraform"]
    assert summaries, f"no terraform report from checkov: {data!r:.500}"
    summary = summaries[0]
    assert summary["failed"] == 0
    assert summary["parsing_errors"] == 0
    assert summary["passed"] > 100
    assert summary["resource_count"] > 40


def test_every_checkov_skip_is_justified():
    """`#checkov:skip=CKV_...:reason` with a real reason, never a bare skip."""
    skips = []
    for path in (ROOT / "terraform").rglob("*.tf"):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if "checkov:skip" in line:
                skips.append((path.relative_to(ROOT), number, line.strip()))
    assert skips, "expected the few justified skips (public API port, replication, ...)"
    for path, number, line in skips:
        _, _, rest = line.partition("checkov:skip=")
        check_id, sep, reason = rest.partition(":")
        assert check_id.startswith(("CKV_", "CKV2_")), f"{path}:{number}: {line}"
        assert sep and len(reason.split()) >= 5, f"{path}:{number}: skip without a reason"
