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


# Each action at the commit its release tag points to (read from the actions' own
# repositories), with the version beside it for people and for Dependabot.
PINNED = {
    "actions/checkout": ("11bd71901bbe5b1630ceea73d27597364c9af683", "v4.2.2"),
    "actions/setup-python": ("a26af69be951a213d495a4c3e4e4022e16d87065", "v5.6.0"),
    "hashicorp/setup-terraform": ("b9cd54a3c349d3f38e8881555d616ced269862dd", "v3.1.2"),
    "docker/setup-buildx-action": ("b5ca514318bd6ebac0fb2aedd5d36ec1b5c232a2", "v3.10.0"),
    "docker/login-action": ("74a5d142397b4f367a81961eba4e8cd7edddf772", "v3.4.0"),
    "docker/build-push-action": ("263435318d21b8e681c14492fe198d362a7d2c83", "v6.18.0"),
    "aws-actions/configure-aws-credentials": (
        "b47578312673ae6fa5b5096b330d9fbac3d116df",
        "v4.2.1",
    ),
}

# The only write scopes any job holds, and why.
WRITE_SCOPES = {
    ("cd.yml", "image"): {"packages"},  # push the image
    ("cd.yml", "infrastructure"): {"id-token"},  # OIDC for the AWS deploy role
    ("cd.yml", "deploy"): {"id-token"},
}


@pytest.mark.parametrize("name", ["ci.yml", "cd.yml"])
def test_every_action_is_pinned_to_a_known_commit(name):
    lines = [
        line.strip()
        for line in (WORKFLOWS / name).read_text().splitlines()
        if re.match(r"\s*(- )?uses:", line)
    ]
    assert len(lines) == len(uses(load(name)))
    for line in lines:
        found = re.fullmatch(
            r"(?:- )?uses: ([\w.-]+/[\w.-]+)@([0-9a-f]{40}) # (v\d+\.\d+\.\d+)", line
        )
        assert found, f"{name}: `{line}` is not ACTION@SHA # vX.Y.Z"
        action, sha, version = found.groups()
        assert PINNED.get(action) == (sha, version), f"{name}: {action}@{sha} ({version})"


@pytest.mark.parametrize("name", ["ci.yml", "cd.yml"])
def test_token_has_no_permission_but_what_each_job_names(name):
    workflow = load(name)
    assert workflow["permissions"] == {}, "nothing by default"
    for job_name, job in workflow["jobs"].items():
        permissions = job.get("permissions")
        assert isinstance(permissions, dict), f"{name}/{job_name} names its permissions"
        assert set(permissions.values()) <= {"read", "write"}, f"{name}/{job_name}"
        writes = {scope for scope, level in permissions.items() if level == "write"}
        assert writes == WRITE_SCOPES.get((name, job_name), set()), f"{name}/{job_name}"
        if "id-token" in writes:
            # the deploy role trusts only the production environment on main
            assert job.get("environment") == "production", f"{name}/{job_name}"


@pytest.mark.parametrize("name", ["ci.yml", "cd.yml"])
def test_checkouts_do_not_keep_the_token_and_no_run_block_expands_an_expression(name):
    for step in steps(load(name)):
        if step.get("uses", "").startswith("actions/checkout@"):
            assert step["with"]["persist-credentials"] is False, step
        # values reach scripts through env:, never spliced into the script's text
        assert "${{" not in step.get("run", ""), step.get("name", step.get("run"))


def test_ci_runs_on_every_push_and_pull_request(ci):
    assert "push" in ci["on"] and "pull_request" in ci["on"]
    assert not (ci["on"]["push"] or {}).get("branches"), "every branch"


def test_ci_runs_every_check(ci):
    script = run_text(ci)
    for command in ("make lint", "make test", "terraform -chdir", "validate", "zizmor"):
        assert command in script, f"ci.yml does not run `{command}`"
    assert "tools/requirements.txt" in script, "the checkers come from tools/requirements.txt"


def test_each_offline_check_has_one_home_in_the_suite(ci):
    """The checkers that need no network run in tests/deploy/test_checkers.py (so in `make
    test`), not a second time in a CI job of their own."""
    suite = (ROOT / "tests" / "deploy" / "test_checkers.py").read_text()
    script = run_text(ci)
    for checker in ("hadolint", "actionlint", "shellcheck", "checkov", "terraform", "compose"):
        assert checker in suite, f"tests/deploy/test_checkers.py does not run {checker}"
    for repeat in ("hadolint", "actionlint", "shellcheck", "checkov", "terraform fmt", "config"):
        assert repeat not in script, f"ci.yml runs `{repeat}` beside make test"


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


def test_cd_gives_terraform_the_proxy_domain(cd):
    env = cd["jobs"]["infrastructure"]["env"]
    assert env["TF_VAR_domain"] == "${{ vars.TXN_DOMAIN }}"


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
    # the host files and the proxy's configuration go with every deploy
    for copied in (
        "docker/Caddyfile",
        "terraform/files/txn-render-env.sh",
        "terraform/files/txn-imds-guard.sh",
        "terraform/files/txn-imds-guard.service",
        "terraform/files/txn-platform.service",
    ):
        assert copied in script, copied
    assert "StrictHostKeyChecking yes" in script, "the host key is verified"
    # the temporary SSH rule is always removed
    close = next(s for s in deploy["steps"] if "revoke-security-group-ingress" in s.get("run", ""))
    assert close["if"].startswith("always()")
    host_script = (ROOT / "terraform/files/txn-deploy.sh").read_text()
    assert "run --rm --no-deps migrate" in host_script
    loop = re.search(r"for service in ([\w -]+); do", host_script)
    assert loop and loop.group(1).split() == ["code-server", "daemon", "webserver"]
    # then the API, beside the old one until the proxy has switched (test_terraform.py
    # runs the script against a stand-in Docker)
    assert host_script.index(loop.group(0)) < host_script.index("\nswap_api\n")
    assert "--scale api=2" in host_script and "TXN_API_UPSTREAM=" in host_script
    assert "wait_healthy" in host_script and "/readyz" in host_script
    assert "caddy reload" in host_script, "a running proxy reads the new Caddyfile"
    # checked from outside over HTTPS, through the proxy
    outside = next(s for s in deploy["steps"] if s.get("name") == "The API answers from outside")
    assert "https://" in outside["run"] and "http://" not in outside["run"]
