"""The GitHub Actions workflows do what the deployment relies on."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"


def load(name: str) -> dict:
    workflow = yaml.safe_load((WORKFLOWS / name).read_text())
    # YAML 1.1 reads the key `on` as True
    workflow["on"] = workflow.pop(True, workflow.get("on"))
    return workflow


@pytest.fixture(scope="module")
def ci() -> dict:
    return load("ci.yml")


@pytest.fixture(scope="module")
def cd() -> dict:
    return load("cd.yml")


def steps(workflow: dict) -> list[dict]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def run_text(workflow: dict) -> str:
    return "\n".join(step.get("run", "") for step in steps(workflow))


def uses(workflow: dict) -> list[str]:
    return [step["uses"] for step in steps(workflow) if "uses" in step]


@pytest.mark.parametrize("name", ["ci.yml", "cd.yml"])
def test_every_action_is_pinned_to_a_version(name):
    for action in uses(load(name)):
        _, _, ref = action.partition("@")
        assert re.fullmatch(r"v\d+\.\d+\.\d+|[0-9a-f]{40}", ref), f"{name}: {action}"


@pytest.mark.parametrize("name", ["ci.yml", "cd.yml"])
def test_token_permissions_are_read_only_by_default(name):
    assert load(name)["permissions"] == {"contents": "read"}


def test_ci_runs_on_every_push_and_pull_request(ci):
    assert "push" in ci["on"] and "pull_request" in ci["on"]
    assert not (ci["on"]["push"] or {}).get("branches"), "every branch"


def test_ci_runs_every_check(ci):
    script = run_text(ci)
    for command in (
        "ruff check .",
        "make test",
        "terraform fmt -check -recursive",
        "checkov -d terraform",
        "hadolint",
        "actionlint",
    ):
        assert command in script, f"ci.yml does not run `{command}`"
    assert "tools/requirements.txt" in script, "the checkers come from tools/requirements.txt"


def test_cd_runs_on_push_to_main(cd):
    assert cd["on"]["push"]["branches"] == ["main"]
    assert cd["concurrency"]["cancel-in-progress"] is False


def test_cd_pushes_the_image_tagged_with_sha_and_latest(cd):
    job = cd["jobs"]["image"]
    assert job["permissions"]["packages"] == "write"
    build = next(
        s for s in job["steps"] if s.get("uses", "").startswith("docker/build-push-action@")
    )
    assert build["with"]["push"] is True
    tags = build["with"]["tags"]
    assert ":${{ github.sha }}" in tags and ":latest" in tags
    assert "ghcr.io/" in run_text(cd)
    login = next(s for s in job["steps"] if s.get("uses", "").startswith("docker/login-action@"))
    assert login["with"]["registry"] == "ghcr.io"


def test_cd_uses_oidc_for_aws(cd):
    for name in ("infrastructure", "deploy"):
        job = cd["jobs"][name]
        assert job["permissions"]["id-token"] == "write", name
        creds = next(
            s
            for s in job["steps"]
            if s.get("uses", "").startswith("aws-actions/configure-aws-credentials@")
        )
        assert re.fullmatch(r"\$\{\{ (vars|secrets)\.\w+ \}\}", creds["with"]["role-to-assume"])
    text = (WORKFLOWS / "cd.yml").read_text()
    assert "aws-access-key-id" not in text and "AWS_SECRET_ACCESS_KEY" not in text


def test_cd_plans_then_applies_the_plan(cd):
    script = run_text(cd)
    assert "terraform plan -out=tfplan" in script
    assert "terraform apply tfplan" in script
    assert script.index("terraform plan") < script.index("terraform apply")
    assert cd["jobs"]["infrastructure"]["needs"] == "image"


def test_cd_deploys_over_ssh_with_migrations_and_a_rolling_restart(cd):
    deploy = cd["jobs"]["deploy"]
    assert set(deploy["needs"]) == {"image", "infrastructure"}
    script = "\n".join(s.get("run", "") for s in deploy["steps"])
    assert "ssh " in script and "txn-deploy.sh" in script
    assert "StrictHostKeyChecking yes" in script, "the host key is verified"
    # the temporary SSH rule is always removed
    close = next(s for s in deploy["steps"] if "revoke-security-group-ingress" in s.get("run", ""))
    assert close["if"].startswith("always()")
    host_script = (ROOT / "terraform/files/txn-deploy.sh").read_text()
    assert "run --rm --no-deps migrate" in host_script
    loop = re.search(r"for service in ([\w -]+); do", host_script)
    assert loop and loop.group(1).split() == ["code-server", "daemon", "webserver", "api"]
    assert "wait_healthy" in host_script and "/health" in host_script
