"""Properties of terraform/ that a reviewer looks for, read from the parsed HCL.

The HCL parser is the one checkov uses (python-hcl2, in .venv-tools); it runs in that
environment and hands the parsed files over as JSON.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).parents[2]
TERRAFORM = ROOT / "terraform"
TOOLS_PYTHON = ROOT / ".venv-tools" / "bin" / "python"

DUMP = """
import json, pathlib, sys
import hcl2
root = pathlib.Path(sys.argv[1])
out = {}
for path in sorted(root.rglob("*.tf")):
    if ".terraform" in path.parts:
        continue
    with open(path) as handle:
        out[path.relative_to(root).as_posix()] = hcl2.load(handle)
print(json.dumps(out))
"""

SECRET_WORDS = ("password", "secret", "token", "api_key", "private_key", "credential")


@pytest.fixture(scope="module")
def hcl() -> dict[str, dict]:
    if not TOOLS_PYTHON.is_file():
        pytest.fail(f"{TOOLS_PYTHON} missing: run `make tools` (tools/requirements.txt)")
    result = subprocess.run(
        [str(TOOLS_PYTHON), "-c", DUMP, str(TERRAFORM)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def blocks(hcl: dict, kind: str, folder: str = "") -> dict[str, dict]:
    """`resource`/`data` blocks as {"type.name": body}, or variables/outputs as {name: body},
    from the files directly in `folder` ("" for the root module)."""
    found: dict[str, dict] = {}
    for path, document in hcl.items():
        if str(Path(path).parent) != (folder or "."):
            continue
        for entry in document.get(kind, []):
            for first, inner in entry.items():
                if kind in ("resource", "data"):
                    for name, body in inner.items():
                        found[f"{first}.{name}"] = body
                else:
                    found[first] = inner
    return found


def value(body: dict, key: str):
    """python-hcl2 wraps attribute values in a one-element list."""
    raw = body.get(key)
    return raw[0] if isinstance(raw, list) and len(raw) == 1 else raw


def text_of(*names: str) -> str:
    return "\n".join((TERRAFORM / name).read_text() for name in names)


# ---------------------------------------------------------------------------------------
# Secrets
# ---------------------------------------------------------------------------------------


def test_no_secret_in_variable_defaults(hcl):
    for folder in ("", "bootstrap"):
        for name, body in blocks(hcl, "variable", folder).items():
            if any(word in name.lower() for word in SECRET_WORDS):
                assert "default" not in body, f"variable {name} must not have a default"
            default = json.dumps(body.get("default", ""))
            assert not re.search(r"AKIA[0-9A-Z]{16}|-----BEGIN", default), name


def test_admin_cidr_and_keys_have_no_default(hcl):
    variables = blocks(hcl, "variable")
    for name in ("admin_cidr", "ssh_public_key", "image_repository"):
        assert name in variables
        assert "default" not in variables[name], f"{name} must be given explicitly"
    assert "0.0.0.0/0" in json.dumps(variables["admin_cidr"]["validation"]), (
        "admin_cidr refuses the whole internet"
    )


def test_secrets_are_generated_and_kept_in_ssm_securestrings(hcl):
    resources = blocks(hcl, "resource")
    assert "random_password.db" in resources
    db = resources["aws_db_instance.main"]
    assert value(db, "password") == "${random_password.db.result}"
    parameters = resources["aws_ssm_parameter.host"]
    assert value(parameters, "type") == "SecureString"
    assert value(parameters, "key_id"), "encrypted with the environment's key"
    assert "local.host_parameter_names" in json.dumps(parameters["for_each"])
    values, names = host_parameters(hcl)
    assert set(values) - {"__start_line__", "__end_line__"} == set(names), (
        "every value has its parameter, and only those"
    )
    for name in ("TXN_DATABASE_URL", "TXN_DAGSTER_PG_PASSWORD", "TXN_API_KEY", "TXN_LANDING"):
        assert name in names, name
    assert "random_password.db.result" in values["TXN_DAGSTER_PG_PASSWORD"]
    assert "random_password.api_key.result" in values["TXN_API_KEY"]
    api_key = resources["random_password.api_key"]
    assert value(api_key, "length") >= 32 and value(api_key, "special") is False


def host_parameters(hcl) -> tuple[dict, list[str]]:
    secrets_locals = {k: v for e in hcl["secrets.tf"]["locals"] for k, v in e.items()}
    return value(secrets_locals, "host_parameters"), value(secrets_locals, "host_parameter_names")


def test_production_settings_flow_from_variables_into_the_env(hcl):
    """Simulated data is opt-in (off by default), the proxy's site address is the domain
    or the Elastic IP, and TLS to RDS is not a parameter anyone could weaken."""
    variables = blocks(hcl, "variable")
    assert value(variables["generate_daily"], "type") == "${bool}"
    assert value(variables["generate_daily"], "default") is False
    assert value(variables["domain"], "default") == ""
    assert "validation" in variables["domain"]
    values, names = host_parameters(hcl)
    assert values["TXN_GENERATE_DAILY"] == "${tostring(var.generate_daily)}"
    assert "var.domain" in values["TXN_DOMAIN"] and "aws_eip.host.public_ip" in values["TXN_DOMAIN"]
    assert {"TXN_GENERATE_DAILY", "TXN_DOMAIN"} <= set(names)
    assert not {"PGSSLMODE", "PGSSLROOTCERT"} & set(names), "written by txn-render-env itself"
    # the address exists before the host boots: the EIP is associated separately
    resources = blocks(hcl, "resource")
    assert "instance" not in resources["aws_eip.host"]
    association = resources["aws_eip_association.host"]
    assert value(association, "instance_id") == "${aws_instance.host.id}"
    outputs = blocks(hcl, "output")
    assert '"https://${var.domain' in value(outputs["api_url"], "value")


def test_outputs_reveal_no_secret(hcl):
    for folder in ("", "bootstrap"):
        for name, body in blocks(hcl, "output", folder).items():
            expression = json.dumps(body.get("value"))
            for forbidden in ("random_password", "aws_ssm_parameter", "password", "api_key"):
                assert forbidden not in expression, f"output {name} exposes {forbidden}"
            assert value(body, "sensitive") in (None, False), f"output {name}: no secret output"


def user_data_sources(hcl) -> tuple[str, list[Path]]:
    locals_ = {}
    for entry in blocks_locals(hcl):
        locals_.update(entry)
    expression = value(locals_, "user_data")
    files = [
        (TERRAFORM / relative).resolve()
        for relative in re.findall(r'file(?:base64)?\("\$\{path\.module\}/([^"]+)"\)', expression)
    ]
    return expression, files


def blocks_locals(hcl) -> list[dict]:
    return [
        entry for path, doc in hcl.items() if "/" not in path for entry in doc.get("locals", [])
    ]


def test_user_data_carries_no_secret(hcl):
    resources = blocks(hcl, "resource")
    host = resources["aws_instance.host"]
    assert "local.user_data" in json.dumps(host)
    expression, files = user_data_sources(hcl)
    assert files, "user data is built from the files under terraform/files"
    for forbidden in ("random_password", "aws_ssm_parameter", "password", "api_key", "secret"):
        assert forbidden not in expression.lower(), f"user data references {forbidden}"
    host_conf = value({k: v for e in blocks_locals(hcl) for k, v in e.items()}, "host_conf")
    assert set(re.findall(r"^(\w+)=", host_conf, re.MULTILINE)) == {
        "REGION",
        "SSM_PATH",
        "IMAGE_REPOSITORY",
        "IMAGE_TAG",
    }
    for path in files:
        content = path.read_text()
        assert not re.search(
            r"(?i)(password|api_key|token)\s*[:=]\s*['\"]?[A-Za-z0-9]{12,}", content
        )
        assert "AKIA" not in content and "-----BEGIN" not in content, path
    render = (TERRAFORM / "files/txn-render-env.sh").read_text()
    assert "get-parameters-by-path" in render and "--with-decryption" in render


def test_user_data_fits_the_ec2_limit(hcl):
    """EC2 takes at most 16 KB of user data; it is sent gzipped."""
    _, files = user_data_sources(hcl)
    document = "#cloud-config\n" + yaml.safe_dump(
        {"write_files": [{"path": f"/x/{p.name}", "content": p.read_text()} for p in files]}
    )
    assert "base64gzip(local.user_data)" in text_of("compute.tf")
    assert len(gzip.compress(document.encode())) < 16 * 1024 * 0.75


# ---------------------------------------------------------------------------------------
# Network and access
# ---------------------------------------------------------------------------------------


def test_vpc_has_a_public_subnet_and_private_subnets_in_two_zones(hcl):
    resources = blocks(hcl, "resource")
    private = resources["aws_subnet.private"]
    assert value(private, "count") == 2
    assert "count.index" in value(private, "availability_zone")
    assert value(private, "map_public_ip_on_launch") is False
    assert "aws_subnet.public" in resources
    route = json.dumps(resources["aws_route_table.private"])
    assert "gateway_id" not in route, "private subnets have no route to the internet"
    variables = blocks(hcl, "variable")
    assert len(value(variables["availability_zones"], "default")) == 2


def test_only_https_and_its_redirect_are_public_ssh_from_admin_cidr(hcl):
    resources = blocks(hcl, "resource")
    ingress = {
        k: v for k, v in resources.items() if k.startswith("aws_vpc_security_group_ingress_rule")
    }
    ports = {}
    public = set()
    for name, body in ingress.items():
        low, high = value(body, "from_port"), value(body, "to_port")
        ports[(low, high)] = body
        for private_port in (3000, 4000, 5432, 8000):
            if private_port == 5432 and name.endswith("database_from_host"):
                continue
            assert not (low <= private_port <= high), f"{name} opens port {private_port}"
        assert value(body, "ip_protocol") == "tcp", f"{name}: TCP only"
        assert "cidr_ipv6" not in body, name
        if value(body, "cidr_ipv4") == "0.0.0.0/0":
            public.add((low, high))
    assert public == {(80, 80), (443, 443)}, "the proxy's HTTPS and its redirect, nothing else"
    ssh = ports[(22, 22)]
    assert value(ssh, "cidr_ipv4") == "${var.admin_cidr}"
    database = resources["aws_vpc_security_group_ingress_rule.database_from_host"]
    assert "aws_security_group.host" in value(database, "referenced_security_group_id")
    # no inline rules: the deploy job's temporary SSH rule is never fought by Terraform
    for name, body in resources.items():
        if name.startswith("aws_security_group."):
            assert "ingress" not in body and "egress" not in body, name


def test_ami_is_looked_up_from_canonical(hcl):
    ami = blocks(hcl, "data")["aws_ami.ubuntu"]
    assert value(ami, "owners") == ["099720109477"] or ami["owners"] == [["099720109477"]]
    assert value(ami, "most_recent") is True
    names = json.dumps(ami["filter"])
    assert "ubuntu-jammy-22.04-amd64-server" in names
    instance = blocks(hcl, "resource")["aws_instance.host"]
    assert value(instance, "ami") == "${data.aws_ami.ubuntu.id}"
    assert not re.search(r"ami-[0-9a-f]{8,}", text_of("compute.tf")), "no hard-coded AMI id"


def test_instance_uses_imdsv2_an_encrypted_disk_and_its_role(hcl):
    instance = blocks(hcl, "resource")["aws_instance.host"]
    metadata = value(instance, "metadata_options")
    assert value(metadata, "http_tokens") == "required"
    # two hops reach a container; which containers may is txn-imds-guard's decision
    assert value(metadata, "http_put_response_hop_limit") <= 2
    assert value(metadata, "http_protocol_ipv6") == "disabled", "no second metadata address"
    disk = value(instance, "root_block_device")
    assert value(disk, "encrypted") is True
    assert value(instance, "iam_instance_profile") == "${aws_iam_instance_profile.host.name}"


# ---------------------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------------------


def test_rds_postgres_15_private_encrypted_backed_up(hcl):
    resources = blocks(hcl, "resource")
    db = resources["aws_db_instance.main"]
    assert value(db, "engine") == "postgres"
    assert str(value(db, "engine_version")).split(".")[0] == "15"
    assert value(db, "storage_encrypted") is True
    assert value(db, "publicly_accessible") is False
    assert value(db, "backup_retention_period") == "${var.db_backup_retention_days}"
    assert value(db, "deletion_protection") == "${var.db_deletion_protection}"
    assert value(db, "skip_final_snapshot") is False
    parameters = {
        value(p, "name"): str(value(p, "value"))
        for p in resources["aws_db_parameter_group.postgres15"]["parameter"]
    }
    assert parameters["rds.force_ssl"] == "1", "TLS required by the server"
    assert db["parameter_group_name"] == ["${aws_db_parameter_group.postgres15.name}"]
    assert value(db, "ca_cert_identifier").startswith("rds-ca-")
    variables = blocks(hcl, "variable")
    assert value(variables["db_backup_retention_days"], "default") >= 7
    assert value(variables["db_deletion_protection"], "type") == "${bool}"
    subnets = resources["aws_db_subnet_group.main"]
    assert "aws_subnet.private" in json.dumps(subnets["subnet_ids"])


def test_landing_bucket_is_versioned_encrypted_private_with_lifecycle(hcl):
    resources = blocks(hcl, "resource")
    versioning = value(resources["aws_s3_bucket_versioning.landing"], "versioning_configuration")
    assert value(versioning, "status") == "Enabled"
    encryption = json.dumps(resources["aws_s3_bucket_server_side_encryption_configuration.landing"])
    assert "aws:kms" in encryption
    block = resources["aws_s3_bucket_public_access_block.landing"]
    for key in (
        "block_public_acls",
        "block_public_policy",
        "ignore_public_acls",
        "restrict_public_buckets",
    ):
        assert value(block, key) is True, key
    lifecycle = json.dumps(resources["aws_s3_bucket_lifecycle_configuration.landing"])
    assert "/processed/" in lifecycle


def test_instance_role_reaches_only_its_bucket_and_parameters(hcl):
    policy = blocks(hcl, "data")["aws_iam_policy_document.host"]
    for statement in policy["statement"]:
        actions = value(statement, "actions")
        resources = value(statement, "resources")
        resources = resources if isinstance(resources, list) else [resources]
        assert "*" not in resources, statement
        for action in actions:
            service = action.split(":")[0]
            assert service in {"s3", "ssm", "kms"}, action
            assert not action.endswith(":*"), action
            joined = " ".join(resources)
            if service == "s3":
                assert "aws_s3_bucket.landing.arn" in joined, statement
            if service == "ssm":
                assert all("local.ssm_path" in r for r in resources), statement
            if service == "kms":
                assert joined == "${aws_kms_key.main.arn}", statement


# ---------------------------------------------------------------------------------------
# State
# ---------------------------------------------------------------------------------------


def test_remote_state_is_s3_with_partial_configuration(hcl):
    terraform_blocks = [e for p, d in hcl.items() if "/" not in p for e in d.get("terraform", [])]
    backends = [b for block in terraform_blocks for b in block.get("backend", [])]
    assert backends == [{"s3": {}}], 'backend "s3" {} configured at init time'
    example = (TERRAFORM / "backend.hcl.example").read_text()
    for key in ("bucket", "key", "region", "dynamodb_table", "encrypt"):
        assert re.search(rf"^{key}\s*=", example, re.MULTILINE), key


def test_bootstrap_creates_the_state_bucket_and_lock_table(hcl):
    resources = blocks(hcl, "resource", "bootstrap")
    table = resources["aws_dynamodb_table.lock"]
    assert value(table, "hash_key") == "LockID"
    assert "aws_s3_bucket.state" in resources
    versioning = value(resources["aws_s3_bucket_versioning.state"], "versioning_configuration")
    assert value(versioning, "status") == "Enabled"
    assert "aws_s3_bucket_public_access_block.state" in resources
    assert "aws_s3_bucket_server_side_encryption_configuration.state" in resources


# ---------------------------------------------------------------------------------------
# IAM, read as AWS would: the policy documents are resolved with example values and
# evaluated (explicit deny wins, then allow, else the implicit deny).
# ---------------------------------------------------------------------------------------

ACCOUNT = "123456789012"
REGION = "eu-west-1"
REPOSITORY = "acme/txn-platform"
STATE_BUCKET = f"arn:aws:s3:::txn-tfstate-{ACCOUNT}-{REGION}"
STATE_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/0000-state"
MAIN_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1111-main"
BOUNDARY = f"arn:aws:iam::{ACCOUNT}:policy/txn-workload-boundary"
DEPLOY_ROLE = f"arn:aws:iam::{ACCOUNT}:role/txn-github-deploy"
RDS_MONITORING_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"

# What the attributes of other resources will be, for the documents that name them.
KNOWN_REFERENCES = {
    "local.partition": "aws",
    "local.account_id": ACCOUNT,
    "aws_s3_bucket.state.arn": STATE_BUCKET,
    "aws_dynamodb_table.lock.arn": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/txn-tfstate-lock",
    "aws_kms_key.state.arn": STATE_KEY,
    "aws_kms_alias.state.name": "alias/txn-tfstate",
    "aws_s3_bucket.landing.arn": f"arn:aws:s3:::txn-prod-landing-{ACCOUNT}",
    "aws_kms_key.main.arn": MAIN_KEY,
    "aws_cloudwatch_log_group.flow_logs.arn": (
        f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/txn/prod/vpc-flow-logs"
    ),
}
EXAMPLE_VARIABLES = {
    "project": "txn",
    "environment": "prod",
    "aws_region": REGION,
    "github_repository": REPOSITORY,
}


@dataclass
class Statement:
    effect: str
    actions: list[str]
    not_actions: list[str]
    resources: list[str]
    conditions: list[tuple[str, str, list[str]]]
    sid: str = ""


class Resolver:
    """Substitutes `${var.x}`, `${local.x}` and the KNOWN_REFERENCES in one module."""

    def __init__(self, hcl: dict, folder: str):
        self.variables = {
            name: value(body, "default") for name, body in blocks(hcl, "variable", folder).items()
        }
        self.variables.update(EXAMPLE_VARIABLES)
        self.locals: dict = {}
        for path, document in hcl.items():
            if str(Path(path).parent) == (folder or "."):
                for entry in document.get("locals", []):
                    self.locals.update(entry)

    def reference(self, name: str):
        if name in KNOWN_REFERENCES:
            return KNOWN_REFERENCES[name]
        kind, _, rest = name.partition(".")
        if kind == "var":
            return self.variables[rest]
        if kind == "local":
            return self.resolve(value(self.locals, rest))
        raise KeyError(f"no example value for {name}")

    def resolve(self, raw):
        if isinstance(raw, list):
            return [item for part in raw for item in _as_list(self.resolve(part))]
        if not isinstance(raw, str):
            return raw
        whole = re.fullmatch(r"\$\{([\w.\[\]]+)\}", raw)
        if whole:
            return self.reference(whole.group(1))
        return re.sub(r"\$\{([\w.\[\]]+)\}", lambda m: str(self.reference(m.group(1))), raw)


def _as_list(item) -> list:
    return item if isinstance(item, list) else [item]


def policy(hcl: dict, name: str, folder: str = "") -> list[Statement]:
    document = blocks(hcl, "data", folder)[f"aws_iam_policy_document.{name}"]
    resolver = Resolver(hcl, folder)
    statements = []
    for raw in document["statement"]:
        conditions = [
            (
                value(c, "test"),
                resolver.resolve(value(c, "variable")),
                [str(v) for v in resolver.resolve(c["values"])],
            )
            for c in raw.get("condition", [])
        ]
        statements.append(
            Statement(
                effect=value(raw, "effect") or "Allow",
                actions=resolver.resolve(raw.get("actions", [])),
                not_actions=resolver.resolve(raw.get("not_actions", [])),
                resources=resolver.resolve(raw.get("resources", [])) or ["*"],
                conditions=conditions,
                sid=value(raw, "sid") or "",
            )
        )
    return statements


def _glob(pattern: str, text: str, ignore_case: bool = False) -> bool:
    regex = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    return re.fullmatch(regex, text, re.IGNORECASE if ignore_case else 0) is not None


def _condition_holds(test: str, key: str, values: list[str], context: dict) -> bool:
    present = key in context
    actual = str(context.get(key, ""))
    if test == "Null":
        return (not present) == (values == ["true"])
    if test == "Bool":
        return present and actual.lower() in [v.lower() for v in values]
    exact = test in ("StringEquals", "StringNotEquals")
    matches = any((v == actual) if exact else _glob(v, actual) for v in values)
    if "Not" in test:
        return not present or not matches
    if test not in ("StringEquals", "StringLike", "ArnEquals", "ArnLike"):
        raise AssertionError(f"condition operator {test} not modelled by this test")
    return present and matches


def decide(statements: list[Statement], action: str, resource: str, context: dict) -> str:
    """'deny' (explicit), 'allow', or 'implicit' (nothing allows it)."""

    def applies(st: Statement) -> bool:
        if st.not_actions:
            acts = not any(_glob(a, action, ignore_case=True) for a in st.not_actions)
        else:
            acts = any(_glob(a, action, ignore_case=True) for a in st.actions)
        return (
            acts
            and any(_glob(r, resource) for r in st.resources)
            and all(_condition_holds(t, k, v, context) for t, k, v in st.conditions)
        )

    matching = [st for st in statements if applies(st)]
    if any(st.effect == "Deny" for st in matching):
        return "deny"
    return "allow" if matching else "implicit"


def iam_document_json(statements: list[Statement]) -> str:
    rendered = []
    for st in statements:
        entry: dict = {"Sid": st.sid, "Effect": st.effect, "Resource": st.resources}
        entry["NotAction" if st.not_actions else "Action"] = st.not_actions or st.actions
        if st.conditions:
            condition: dict = {}
            for test, key, values in st.conditions:
                condition.setdefault(test, {})[key] = values
            entry["Condition"] = condition
        rendered.append(entry)
    return json.dumps({"Version": "2012-10-17", "Statement": rendered}, separators=(",", ":"))


DEPLOY_POLICIES = (
    "github_deploy_network",
    "github_deploy_platform",
    "github_deploy_state",
    "github_deploy_iam",
)


@pytest.fixture(scope="module")
def deploy_role(hcl) -> list[Statement]:
    return [st for name in DEPLOY_POLICIES for st in policy(hcl, name, "bootstrap")]


@pytest.fixture(scope="module")
def boundary(hcl) -> list[Statement]:
    return policy(hcl, "workload_boundary", "bootstrap")


def regional(**extra) -> dict:
    return {"aws:RequestedRegion": REGION, **extra}


def project_tagged(**extra) -> dict:
    return regional(**{"aws:ResourceTag/Project": "txn", **extra})


def ec2(resource: str) -> str:
    return f"arn:aws:ec2:{REGION}:{ACCOUNT}:{resource}"


def role(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


# ---------------------------------------------------------------------------------------
# The deploy role (terraform/bootstrap/github.tf)
# ---------------------------------------------------------------------------------------


def claims(environment: str | None, ref: str) -> dict:
    subject = f"repo:{REPOSITORY}:" + (
        f"environment:{environment}" if environment else f"ref:{ref}"
    )
    return {
        "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
        "token.actions.githubusercontent.com:sub": subject,
        "token.actions.githubusercontent.com:ref": ref,
    }


def test_deploy_role_is_assumed_only_by_production_jobs_on_main(hcl):
    trust = policy(hcl, "github_assume", "bootstrap")
    assert [st.actions for st in trust] == [["sts:AssumeRoleWithWebIdentity"]]
    conditions = {key: (test, values) for test, key, values in trust[0].conditions}
    assert conditions["token.actions.githubusercontent.com:sub"] == (
        "StringEquals",
        [f"repo:{REPOSITORY}:environment:production"],
    )
    assert conditions["token.actions.githubusercontent.com:ref"] == (
        "StringEquals",
        ["refs/heads/main"],
    )
    assume = "sts:AssumeRoleWithWebIdentity"
    assert decide(trust, assume, "*", claims("production", "refs/heads/main")) == "allow"
    for denied in (
        claims("production", "refs/heads/feature"),  # production named from a branch
        claims("production", "refs/pull/7/merge"),
        claims("staging", "refs/heads/main"),
        claims(None, "refs/heads/main"),  # main without the environment (and its rules)
        {**claims("production", "refs/heads/main"), "token.actions.githubusercontent.com:aud": "x"},
    ):
        assert decide(trust, assume, "*", denied) == "implicit", denied
    without_ref = claims("production", "refs/heads/main")
    del without_ref["token.actions.githubusercontent.com:ref"]
    assert decide(trust, assume, "*", without_ref) == "implicit", "fails closed"


def test_deploy_role_has_no_blanket_policy(hcl, deploy_role):
    resources = blocks(hcl, "resource", "bootstrap")
    for name, body in resources.items():
        if name.startswith(("aws_iam_role_policy_attachment", "aws_iam_policy_attachment")):
            assert value(body, "policy_arn") == "${each.value.arn}", f"{name}: own policies only"
            assert value(body, "for_each") == "${aws_iam_policy.github_deploy}", name
    never = Resolver(hcl, "bootstrap").reference("local.admin_policy_arns")
    assert {arn.rsplit("/", 1)[-1] for arn in never} >= {"AdministratorAccess", "PowerUserAccess"}
    services = set()
    for st in deploy_role:
        if st.effect != "Allow":
            continue
        assert not st.not_actions, f"{st.sid}: NotAction allows everything else"
        for action in st.actions:
            service, _, verb = action.partition(":")
            services.add(service)
            assert "*" not in verb or re.fullmatch(r"(Describe|List|Get)\*", verb), (
                f"{st.sid}: {action} is a blanket"
            )
        if "*" in st.resources:
            assert st.conditions, f"{st.sid}: every '*' resource is narrowed by a condition"
    assert services <= {"ec2", "rds", "s3", "ssm", "kms", "logs", "iam", "dynamodb"}, services


def test_deploy_role_can_apply_and_deploy_the_platform(deploy_role):
    host_role = role("txn-prod-host")
    with_boundary = {"iam:PermissionsBoundary": BOUNDARY}
    calls = [
        ("ec2:DescribeImages", "*", regional()),
        ("ec2:CreateVpc", ec2("vpc/*"), regional(**{"aws:RequestTag/Project": "txn"})),
        ("ec2:RunInstances", ec2("instance/*"), regional(**{"ec2:MetadataHttpTokens": "required"})),
        ("ec2:CreateTags", ec2("instance/i-1"), regional(**{"ec2:CreateAction": "RunInstances"})),
        ("ec2:CreateTags", ec2("security-group/sg-default"), regional()),
        ("ec2:TerminateInstances", ec2("instance/i-1"), project_tagged()),
        ("ec2:AuthorizeSecurityGroupIngress", ec2("security-group/sg-1"), project_tagged()),
        ("ec2:RevokeSecurityGroupIngress", ec2("security-group/sg-1"), project_tagged()),
        ("ec2:GetConsoleOutput", ec2("instance/i-1"), project_tagged()),
        ("rds:CreateDBInstance", f"arn:aws:rds:{REGION}:{ACCOUNT}:db:txn-prod", regional()),
        ("rds:CreateDBInstance", f"arn:aws:rds:{REGION}:{ACCOUNT}:og:default:postgres-15", {}),
        ("s3:CreateBucket", f"arn:aws:s3:::txn-prod-landing-{ACCOUNT}", {}),
        ("s3:PutBucketPolicy", f"arn:aws:s3:::txn-prod-access-logs-{ACCOUNT}", {}),
        ("ssm:PutParameter", f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/txn/prod/TXN_API_KEY", {}),
        ("kms:CreateKey", "*", regional(**{"aws:RequestTag/Project": "txn"})),
        ("kms:TagResource", "*", regional(**{"aws:RequestTag/Project": "txn"})),
        ("kms:PutKeyPolicy", MAIN_KEY, {"aws:ResourceTag/Project": "txn"}),
        (
            "kms:CreateGrant",
            MAIN_KEY,
            {"aws:ResourceTag/Project": "txn", "kms:GrantIsForAWSResource": "true"},
        ),
        (
            "logs:CreateLogGroup",
            f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/txn/prod/vpc-flow-logs",
            {},
        ),
        ("iam:CreateRole", host_role, with_boundary),
        ("iam:PutRolePolicy", host_role, with_boundary),
        ("iam:TagRole", host_role, {}),
        (
            "iam:AttachRolePolicy",
            role("txn-prod-rds-monitoring"),
            {
                **with_boundary,
                "iam:PolicyARN": RDS_MONITORING_POLICY,
            },
        ),
        ("iam:PassRole", host_role, {"iam:PassedToService": "ec2.amazonaws.com"}),
        ("iam:CreateInstanceProfile", f"arn:aws:iam::{ACCOUNT}:instance-profile/txn-prod-host", {}),
        ("s3:PutObject", f"{STATE_BUCKET}/txn-platform/production/terraform.tfstate", {}),
        ("dynamodb:PutItem", KNOWN_REFERENCES["aws_dynamodb_table.lock.arn"], {}),
        ("kms:Decrypt", STATE_KEY, {"aws:ResourceTag/Project": "txn"}),
    ]
    for action, resource, context in calls:
        assert decide(deploy_role, action, resource, context) == "allow", (action, resource)


def test_deploy_role_cannot_make_itself_or_anything_an_administrator(deploy_role):
    host_role = role("txn-prod-host")
    with_boundary = {"iam:PermissionsBoundary": BOUNDARY}
    admin = {**with_boundary, "iam:PolicyARN": "arn:aws:iam::aws:policy/AdministratorAccess"}
    refused = [
        # roles only with the boundary, only the project's
        ("iam:CreateRole", host_role, {}),
        ("iam:CreateRole", host_role, {"iam:PermissionsBoundary": f"{BOUNDARY}-other"}),
        ("iam:CreateRole", role("other-admin"), with_boundary),
        ("iam:PutRolePolicy", host_role, {}),
        ("iam:AttachRolePolicy", host_role, admin),
        (
            "iam:AttachRolePolicy",
            host_role,
            {**admin, "iam:PolicyARN": "arn:aws:iam::aws:policy/PowerUserAccess"},
        ),
        (
            "iam:AttachRolePolicy",
            host_role,
            {**with_boundary, "iam:PolicyARN": f"arn:aws:iam::{ACCOUNT}:policy/mine"},
        ),
        ("iam:AttachUserPolicy", f"arn:aws:iam::{ACCOUNT}:user/someone", admin),
        ("iam:CreatePolicy", f"arn:aws:iam::{ACCOUNT}:policy/txn-anything", {}),
        ("iam:CreateUser", f"arn:aws:iam::{ACCOUNT}:user/txn-user", {}),
        ("iam:CreateAccessKey", f"arn:aws:iam::{ACCOUNT}:user/txn-user", {}),
        # the boundary stays, and stays as it is
        ("iam:DeleteRolePermissionsBoundary", host_role, with_boundary),
        (
            "iam:PutRolePermissionsBoundary",
            host_role,
            {"iam:PermissionsBoundary": f"arn:aws:iam::{ACCOUNT}:policy/wide"},
        ),
        ("iam:CreatePolicyVersion", BOUNDARY, {}),
        ("iam:SetDefaultPolicyVersion", BOUNDARY, {}),
        ("iam:DeletePolicy", BOUNDARY, {}),
        # its own role: not even with the boundary's condition met
        ("iam:PutRolePolicy", DEPLOY_ROLE, with_boundary),
        (
            "iam:AttachRolePolicy",
            DEPLOY_ROLE,
            {
                **with_boundary,
                "iam:PolicyARN": RDS_MONITORING_POLICY,
            },
        ),
        ("iam:UpdateAssumeRolePolicy", DEPLOY_ROLE, {}),
        ("iam:PutRolePermissionsBoundary", DEPLOY_ROLE, with_boundary),
        ("iam:DetachRolePolicy", DEPLOY_ROLE, with_boundary),
        ("iam:TagRole", DEPLOY_ROLE, {}),
        ("iam:PassRole", DEPLOY_ROLE, {"iam:PassedToService": "ec2.amazonaws.com"}),
        ("iam:PassRole", host_role, {"iam:PassedToService": "lambda.amazonaws.com"}),
        ("sts:AssumeRole", role("txn-prod-host"), {}),
    ]
    for action, resource, context in refused:
        assert decide(deploy_role, action, resource, context) != "allow", (action, resource)


def test_deploy_role_leaves_everything_else_alone(deploy_role):
    foreign = {"aws:RequestedRegion": REGION, "aws:ResourceTag/Project": "someone-else"}
    refused = [
        ("ec2:TerminateInstances", ec2("instance/i-foreign"), foreign),
        ("ec2:TerminateInstances", ec2("instance/i-untagged"), regional()),
        ("ec2:DeleteVpc", ec2("vpc/vpc-foreign"), foreign),
        ("ec2:CreateTags", ec2("instance/i-foreign"), foreign),  # adopt, then terminate
        ("ec2:RunInstances", ec2("instance/*"), regional(**{"ec2:MetadataHttpTokens": "optional"})),
        (
            "ec2:RunInstances",
            ec2("instance/*"),
            {"aws:RequestedRegion": "us-west-2", "ec2:MetadataHttpTokens": "required"},
        ),
        ("rds:DeleteDBInstance", f"arn:aws:rds:{REGION}:{ACCOUNT}:db:billing", regional()),
        ("s3:GetObject", f"arn:aws:s3:::txn-prod-landing-{ACCOUNT}/landing/incoming/a.csv", {}),
        ("s3:DeleteBucket", f"arn:aws:s3:::billing-{ACCOUNT}", {}),
        ("s3:PutBucketPolicy", STATE_BUCKET, {}),
        ("s3:DeleteBucket", STATE_BUCKET, {}),
        ("ssm:GetParameter", f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/billing/db", {}),
        (
            "kms:Decrypt",
            f"arn:aws:kms:{REGION}:{ACCOUNT}:key/foreign",
            {"aws:ResourceTag/Project": "billing"},
        ),
        ("kms:PutKeyPolicy", STATE_KEY, {"aws:ResourceTag/Project": "txn"}),
        (
            "kms:TagResource",
            f"arn:aws:kms:{REGION}:{ACCOUNT}:key/foreign",
            {
                "aws:RequestTag/Project": "txn",
                "aws:RequestedRegion": REGION,
                "aws:ResourceTag/Project": "billing",
            },
        ),
        ("kms:ScheduleKeyDeletion", STATE_KEY, {"aws:ResourceTag/Project": "txn"}),
        ("kms:DeleteAlias", f"arn:aws:kms:{REGION}:{ACCOUNT}:alias/txn-tfstate", {}),
        ("dynamodb:DeleteTable", KNOWN_REFERENCES["aws_dynamodb_table.lock.arn"], {}),
    ]
    for action, resource, context in refused:
        assert decide(deploy_role, action, resource, context) != "allow", (action, resource)


def test_deploy_policies_fit_the_managed_policy_size(hcl):
    """IAM refuses a managed policy over 6,144 characters (whitespace not counted)."""
    for name in DEPLOY_POLICIES:
        size = len(iam_document_json(policy(hcl, name, "bootstrap")))
        assert size < 6144 * 0.9, f"{name}: {size} characters"
    locals_ = {
        k: v
        for path, d in hcl.items()
        if path == "bootstrap/github.tf"
        for e in d["locals"]
        for k, v in e.items()
    }
    parts = value(locals_, "github_deploy_policies")
    assert {f"github_deploy_{part}" for part in parts} == set(DEPLOY_POLICIES)


# ---------------------------------------------------------------------------------------
# The permissions boundary (terraform/bootstrap/boundary.tf) on every workload role
# ---------------------------------------------------------------------------------------


def test_every_role_of_the_platform_carries_the_boundary(hcl):
    roles = {k: v for k, v in blocks(hcl, "resource").items() if k.startswith("aws_iam_role.")}
    assert len(roles) >= 3
    for name, body in roles.items():
        assert value(body, "permissions_boundary") == "${local.workload_boundary_arn}", name
    root = Resolver(hcl, "")
    assert root.reference("local.workload_boundary_arn") == BOUNDARY
    bootstrap = Resolver(hcl, "bootstrap")
    assert bootstrap.reference("local.workload_boundary_arn") == BOUNDARY
    created = blocks(hcl, "resource", "bootstrap")["aws_iam_policy.workload_boundary"]
    assert value(created, "name") == "${local.workload_boundary_name}"
    assert "count" not in created, "exists whether or not the deploy role does"


def test_boundary_holds_only_what_the_workloads_use(boundary):
    for st in boundary:
        if st.effect == "Allow":
            for action in st.actions:
                assert action.split(":")[0] in {"s3", "ssm", "kms", "logs"}, action
                assert "*" not in action, action
            assert "*" not in st.resources, st.sid
    landing = f"arn:aws:s3:::txn-prod-landing-{ACCOUNT}"
    assert decide(boundary, "s3:PutObject", f"{landing}/landing/incoming/a.csv", {}) == "allow"
    assert decide(boundary, "s3:GetObject", f"{STATE_BUCKET}/txn-platform/x", {}) == "deny"
    assert (
        decide(boundary, "kms:Decrypt", STATE_KEY, {"kms:ViaService": "s3.eu-west-1.amazonaws.com"})
        == "deny"
    )
    assert decide(boundary, "kms:Decrypt", MAIN_KEY, {}) == "implicit", "only through S3 and SSM"
    for action in ("iam:PutRolePolicy", "iam:CreateRole", "sts:AssumeRole", "ec2:RunInstances"):
        assert decide(boundary, action, "*", {}) != "allow", action


def test_the_boundary_leaves_the_workload_roles_what_they_need(hcl, boundary):
    """Every statement of the host's and the flow logs' own policies stays effective."""
    vias = {"kms": {"kms:ViaService": "ssm.eu-west-1.amazonaws.com"}}
    for name in ("host", "flow_logs"):
        for st in policy(hcl, name):
            for action in st.actions:
                for resource in st.resources:
                    sample = resource.replace("*", "x")
                    context = vias.get(action.split(":")[0], {})
                    assert decide(boundary, action, sample, context) == "allow", (
                        name,
                        action,
                        sample,
                    )
    monitoring = [  # what AmazonRDSEnhancedMonitoringRole grants
        ("logs:CreateLogGroup", f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:RDSOSMetrics"),
        (
            "logs:PutLogEvents",
            f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:RDSOSMetrics:log-stream:db-1",
        ),
    ]
    for action, resource in monitoring:
        assert decide(boundary, action, resource, {}) == "allow", action


# ---------------------------------------------------------------------------------------
# Host scripts, run here with stand-ins for the AWS CLI, iptables and Docker
# ---------------------------------------------------------------------------------------

FILES = TERRAFORM / "files"


def stand_in(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text(f"#!{sys.executable}\n{body}")
    path.chmod(0o755)


def host_copy(script: str, tmp_path: Path, replacements: dict[str, str]) -> Path:
    """The script with its fixed paths pointed into tmp_path (each must be found)."""
    text = (FILES / script).read_text()
    for old, new in replacements.items():
        assert old in text, f"{script} no longer has {old!r}"
        text = text.replace(old, new)
    copy = tmp_path / script
    copy.write_text(text)
    return copy


PATH_LINE = "PATH=/snap/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def render_env(
    tmp_path: Path, parameters: dict[str, str]
) -> tuple[subprocess.CompletedProcess, Path]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    ssm = "\n".join(f"/txn/prod/{name}\t{val}" for name, val in parameters.items())
    (tmp_path / "ssm.txt").write_text(ssm + "\n")
    stand_in(
        bin_dir,
        "aws",
        f"import sys\nsys.stdout.write(open({str(tmp_path / 'ssm.txt')!r}).read())\n",
    )
    stand_in(bin_dir, "docker", "import sys\nsys.stdin.read()\n")
    app = tmp_path / "opt-txn"
    app.mkdir()
    conf = tmp_path / "host.conf"
    conf.write_text(
        "REGION=eu-west-1\nSSM_PATH=/txn/prod\nIMAGE_REPOSITORY=acme/txn-platform\nIMAGE_TAG=abc\n"
    )
    script = host_copy(
        "txn-render-env.sh",
        tmp_path,
        {
            PATH_LINE: f"PATH={bin_dir}:/usr/bin:/bin",
            "host_conf=/etc/txn/host.conf": f"host_conf={conf}",
            "app_dir=/opt/txn": f"app_dir={app}",
        },
    )
    result = subprocess.run(
        ["bash", str(script)], capture_output=True, text=True, timeout=60, check=False
    )
    return result, app / ".env"


def read_env(path: Path) -> dict[str, str]:
    pairs = {}
    for line in path.read_text().splitlines():
        if line and not line.startswith("#"):
            key, _, raw = line.partition("=")
            pairs[key] = shlex.split(raw)[0] if raw else ""
    return pairs


SSM_EXAMPLE = {
    "TXN_DATABASE_URL": "postgresql://txn:Secr3tDbPassw0rd@db.example:5432/txn",
    "TXN_DAGSTER_PG_PASSWORD": "Secr3tDbPassw0rd",
    "TXN_API_KEY": "K3yK3yK3yK3yK3yK3yK3yK3yK3yK3yK3yK3y",
    "TXN_LANDING": "s3://bucket/landing",
    "TXN_GENERATE_DAILY": "false",
    "TXN_DOMAIN": "api.example.com",
    "PGSSLMODE": "disable",  # a stray parameter cannot weaken TLS
}


def test_rendered_env_verifies_rds_tls_and_carries_the_production_settings(tmp_path):
    result, env_file = render_env(tmp_path, SSM_EXAMPLE)
    assert result.returncode == 0, result.stderr
    env = read_env(env_file)
    assert env["PGSSLMODE"] == "verify-full"
    assert env["PGSSLROOTCERT"] == "/etc/ssl/certs/rds-global-bundle.pem"
    assert list(env).count("PGSSLMODE") == 1
    assert "PGSSLMODE=disable" not in env_file.read_text()
    assert env["TXN_API_KEY"] == SSM_EXAMPLE["TXN_API_KEY"]
    assert env["TXN_GENERATE_DAILY"] == "false"
    assert env["TXN_DOMAIN"] == "api.example.com"
    assert oct(env_file.stat().st_mode & 0o777) == "0o600"
    output = result.stdout + result.stderr
    for secret in ("Secr3tDbPassw0rd", SSM_EXAMPLE["TXN_API_KEY"]):
        assert secret not in output, "names only in the log, never values"


def test_rendered_env_has_no_simulated_data_unless_asked(tmp_path):
    parameters = {k: v for k, v in SSM_EXAMPLE.items() if k != "TXN_GENERATE_DAILY"}
    result, env_file = render_env(tmp_path, parameters)
    assert result.returncode == 0, result.stderr
    assert read_env(env_file)["TXN_GENERATE_DAILY"] == "false"


@pytest.mark.parametrize("api_key", [None, ""], ids=["missing", "empty"])
def test_render_env_refuses_to_write_without_an_api_key(tmp_path, api_key):
    parameters = {k: v for k, v in SSM_EXAMPLE.items() if k != "TXN_API_KEY"}
    if api_key is not None:
        parameters["TXN_API_KEY"] = api_key
    result, env_file = render_env(tmp_path, parameters)
    assert result.returncode != 0
    assert "TXN_API_KEY" in result.stderr and "refusing" in result.stderr
    assert not env_file.exists()
    assert not list(env_file.parent.glob(".env.*")), "no half-written file left behind"


IPTABLES_STAND_IN = """
import json, os, sys
state_file = os.environ["IPTABLES_STATE"]
state = json.load(open(state_file)) if os.path.exists(state_file) else {}
args = [a for a in sys.argv[1:] if a not in ("-w", "-n")]
op, chain, rest = args[0], args[1], args[2:]
if op == "-L":
    sys.exit(0 if chain in state else 1)
if op == "-N":
    state[chain] = []
elif op == "-C":
    sys.exit(0 if rest in state.get(chain, []) else 1)
elif op == "-I":
    state[chain].insert(int(rest[0]) - 1, rest[1:])
else:
    sys.exit(f"unexpected iptables call: {sys.argv[1:]}")
json.dump(state, open(state_file, "w"))
"""


def run_guard(tmp_path: Path, state: dict | None = None) -> dict:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    stand_in(bin_dir, "iptables", IPTABLES_STAND_IN)
    state_file = tmp_path / "iptables.json"
    if state is not None:
        state_file.write_text(json.dumps(state))
    script = host_copy(
        "txn-imds-guard.sh",
        tmp_path,
        {PATH_LINE.replace("/snap/bin:", ""): f"PATH={bin_dir}:/usr/bin:/bin"},
    )
    result = subprocess.run(
        ["bash", str(script)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "IPTABLES_STATE": str(state_file)},
    )
    assert result.returncode == 0, result.stderr
    return json.loads(state_file.read_text())


def rejects_metadata_from(rule: list[str], interface: str) -> bool:
    """What the kernel does with a packet to 169.254.169.254 coming in on `interface`."""
    assert rule[-2:] == ["-j", "REJECT"] or rule[-2:] == ["-j", "DROP"], rule
    destination = rule[rule.index("-d") + 1]
    assert destination in ("169.254.169.254", "169.254.169.254/32"), rule
    at = rule.index("-i")
    negated = rule[at - 1] == "!"
    same = rule[at + 1] == interface
    return same != negated


def test_metadata_guard_lets_only_the_txn_aws_bridge_through(tmp_path):
    chains = run_guard(tmp_path)  # before Docker: the chain does not exist yet
    assert list(chains) == ["DOCKER-USER"]
    (rule,) = chains["DOCKER-USER"]
    for bridge in ("docker0", "br-3f2a9c1d", "txn-proxy"):
        assert rejects_metadata_from(rule, bridge), bridge
    assert not rejects_metadata_from(rule, "txn-aws")
    # again, as at every start of the stack and every deploy: nothing doubles
    assert run_guard(tmp_path) == chains


def test_metadata_guard_goes_before_rules_already_there(tmp_path):
    docker_return = ["-j", "RETURN"]
    chains = run_guard(tmp_path, {"DOCKER-USER": [docker_return]})
    assert chains["DOCKER-USER"][-1] == docker_return
    assert rejects_metadata_from(chains["DOCKER-USER"][0], "docker0")


def unit(name: str) -> dict[str, list[str]]:
    entries: dict[str, list[str]] = {}
    for line in (FILES / name).read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            key, _, val = line.partition("=")
            entries.setdefault(key.strip(), []).append(val.strip())
    return entries


def test_metadata_guard_is_in_place_before_any_container_starts(hcl):
    guard = unit("txn-imds-guard.service")
    assert "docker.service" in " ".join(guard["Before"])
    assert guard["RequiredBy"] == ["docker.service"], "Docker does not start without it"
    assert guard["ExecStart"] == ["/usr/local/bin/txn-imds-guard"]
    platform = unit("txn-platform.service")
    assert "txn-imds-guard.service" in " ".join(platform["Requires"])
    assert "txn-imds-guard.service" in " ".join(platform["After"])
    assert platform["ExecStartPre"][0] == "/usr/local/bin/txn-imds-guard"
    setup = (FILES / "txn-host-setup.sh").read_text()
    assert "systemctl enable txn-imds-guard.service" in setup
    assert setup.index("txn-imds-guard") < setup.index("systemctl start txn-platform.service")
    deploy = (FILES / "txn-deploy.sh").read_text()
    assert deploy.index("/usr/local/bin/txn-imds-guard") < deploy.index("docker compose up")
    _, files = user_data_sources(hcl)
    names = {path.name for path in files}
    assert {"txn-imds-guard.sh", "txn-imds-guard.service", "Caddyfile"} <= names


DOCKER_STAND_IN = """
import json, os, sys
state_file = os.environ["DOCKER_STATE"]
state = json.load(open(state_file))
broken = set(os.environ.get("BROKEN", "").split())
args = sys.argv[1:]
state["log"].append(" ".join(args))


def of(service):
    return [c for c, body in state["containers"].items() if body["service"] == service]


def create(service):
    state["next"] += 1
    number = 1 + sum(1 for b in state["containers"].values() if b["service"] == service)
    cid = f"c{state['next']}"
    state["containers"][cid] = {
        "service": service,
        "name": f"txn-platform-{service}-{number + state['next']}",
        "health": "unhealthy" if service in broken else "healthy",
    }
    return cid


def finish(code=0, out=""):
    json.dump(state, open(state_file, "w"))
    sys.stdout.write(out)
    sys.exit(code)


if args[0] == "compose":
    sub, rest = args[1], args[2:]
    if sub == "ps":
        finish(out="".join(f"{c}\\n" for c in of(rest[-1])))
    if sub == "config":
        finish(out="".join(f"{s}\\n" for s in state["services"]))
    if sub == "up":
        service = rest[-1]
        if "--scale" in rest:
            create(service)
        else:
            for c in of(service):
                del state["containers"][c]
            create(service)
    if sub == "exec":
        env = dict(rest[i + 1].split("=", 1) for i, a in enumerate(rest) if a == "-e")
        if "caddy" in rest:
            state["upstream"] = env.get("TXN_API_UPSTREAM", "api:8000")
    finish()
if args[0] == "inspect":
    body = state["containers"].get(args[-1])
    if body is None:
        finish(1)
    finish(out=("/" + body["name"]) if "Name" in args[2] else body["health"])
if args[0] == "exec":
    finish(0 if state["containers"][args[1]]["health"] == "healthy" else 1)
if args[0] in ("stop", "rm"):
    for c in args[1:]:
        if args[0] == "rm" and not c.startswith("-"):
            del state["containers"][c]
finish()
"""


def run_deploy(tmp_path: Path, broken: str = "") -> tuple[subprocess.CompletedProcess, dict]:
    """txn-deploy.sh against a stand-in Docker whose stack runs every service once."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    stand_in(bin_dir, "docker", DOCKER_STAND_IN)
    for helper in ("txn-imds-guard", "txn-render-env"):
        stand_in(bin_dir, helper, "")
    stand_in(bin_dir, "sleep", "")
    services = ["migrate", "code-server", "webserver", "daemon", "api", "proxy"]
    running = {
        f"old-{name}": {"service": name, "name": f"txn-platform-{name}-1", "health": "healthy"}
        for name in services
        if name != "migrate"
    }
    state_file = tmp_path / "docker.json"
    state_file.write_text(
        json.dumps({"containers": running, "services": services, "next": 0, "log": []})
    )
    app = tmp_path / "opt-txn"
    app.mkdir()
    script = host_copy(
        "txn-deploy.sh",
        tmp_path,
        {
            PATH_LINE: f"PATH={bin_dir}:/usr/bin:/bin",
            'if [ "$self" != /usr/local/bin/txn-deploy ]; then': "if false; then",
            "app_dir=/opt/txn": f"app_dir={app}",
            "/usr/local/bin/txn-imds-guard": f"{bin_dir}/txn-imds-guard",
            "/usr/local/bin/txn-render-env": f"{bin_dir}/txn-render-env",
        },
    )
    result = subprocess.run(
        ["bash", str(script), "newtag"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "DOCKER_STATE": str(state_file), "BROKEN": broken},
    )
    return result, json.loads(state_file.read_text())


def test_deploy_switches_the_proxy_to_the_new_api_before_the_old_one_stops(tmp_path):
    result, state = run_deploy(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    log = state["log"]
    scale_up = next(i for i, line in enumerate(log) if "--scale api=2" in line)
    (api,) = [body for body in state["containers"].values() if body["service"] == "api"]
    switch = log.index(
        f"compose exec -T -e TXN_API_UPSTREAM={api['name']}:8000 proxy caddy reload"
        " --config /etc/txn-proxy/Caddyfile --adapter caddyfile"
    )
    stop = log.index("stop old-api")
    assert scale_up < switch < stop, "new API ready and in the proxy before the old one stops"
    assert "--no-recreate" in log[scale_up], "the old API keeps serving meanwhile"
    assert state["upstream"] == "api:8000", "back to the service name at the end"
    assert log.index("compose run --rm --no-deps migrate") < scale_up
    recreated = [
        line.split()[-1] for line in log if line.startswith("compose up") and "--scale" not in line
    ]
    assert recreated[:3] == ["code-server", "daemon", "webserver"]
    assert "proxy" in recreated


def test_a_release_whose_api_never_gets_ready_leaves_the_old_one_serving(tmp_path):
    result, state = run_deploy(tmp_path, broken="api")
    assert result.returncode != 0
    apis = [c for c, body in state["containers"].items() if body["service"] == "api"]
    assert apis == ["old-api"], "the old API still runs, and alone"
    assert not any("caddy reload" in line for line in state["log"]), "the proxy never moved"
    assert not any(line.startswith("stop") for line in state["log"])


def test_only_the_api_and_the_code_server_sit_on_the_bridge_the_guard_lets_through():
    """The guard and docker-compose.yml agree on the bridge's name, and only the two
    services that use S3 join it, with their default route through it."""
    guard = (FILES / "txn-imds-guard.sh").read_text()
    bridge = re.search(r"^aws_bridge=(\S+)$", guard, re.MULTILINE).group(1)
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    (network,) = [
        name
        for name, body in (compose.get("networks") or {}).items()
        if ((body or {}).get("driver_opts") or {}).get("com.docker.network.bridge.name") == bridge
    ]
    members = {}
    for service, body in compose["services"].items():
        joined = body.get("networks") or {}
        if isinstance(joined, list):
            joined = {name: {} for name in joined}
        if network in joined:
            members[service] = joined
    assert set(members) == {"api", "code-server"}
    for service, joined in members.items():
        priority = {name: (cfg or {}).get("gw_priority", 0) for name, cfg in joined.items()}
        assert priority[network] == max(priority.values()) > 0, f"{service}: default route"
        others = [p for name, p in priority.items() if name != network]
        assert all(p < priority[network] for p in others), service
