"""Properties of terraform/ that a reviewer looks for, read from the parsed HCL.

The HCL parser is the one checkov uses (python-hcl2, in .venv-tools); it runs in that
environment and hands the parsed files over as JSON.
"""

from __future__ import annotations

import base64
import gzip
import json
import re
import subprocess
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
    secrets_locals = {k: v for e in hcl["secrets.tf"]["locals"] for k, v in e.items()}
    values = value(secrets_locals, "host_parameters")
    names = value(secrets_locals, "host_parameter_names")
    assert set(values) == set(names), "every value has its parameter, and only those"
    for name in ("TXN_DATABASE_URL", "TXN_DAGSTER_PG_PASSWORD", "TXN_API_KEY", "TXN_LANDING"):
        assert name in names, name
    assert "random_password.db.result" in values["TXN_DAGSTER_PG_PASSWORD"]
    assert "random_password.api_key.result" in values["TXN_API_KEY"]


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
        {
            "write_files": [
                {
                    "path": f"/x/{p.name}",
                    "encoding": "b64",
                    "content": base64.b64encode(p.read_bytes()).decode(),
                }
                for p in files
            ]
        }
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


def test_ssh_only_from_admin_cidr_and_no_public_dagster_ui(hcl):
    resources = blocks(hcl, "resource")
    ingress = {
        k: v for k, v in resources.items() if k.startswith("aws_vpc_security_group_ingress_rule")
    }
    ports = {}
    for name, body in ingress.items():
        ports[(value(body, "from_port"), value(body, "to_port"))] = body
        assert not (value(body, "from_port") <= 3000 <= value(body, "to_port")), (
            f"{name} opens the Dagster UI port"
        )
        assert value(body, "ip_protocol") != "-1", f"{name} opens every port"
    ssh = ports[(22, 22)]
    assert value(ssh, "cidr_ipv4") == "${var.admin_cidr}"
    api = ports[(80, 80)]
    assert value(api, "cidr_ipv4") == "0.0.0.0/0"
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
