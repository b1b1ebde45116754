"""docker-compose.yml: valid by the Compose specification, and shaped as the deployment needs.

tests/deploy/compose-spec.json is the official Compose specification schema
(compose-spec/compose-spec, schema/compose-spec.json, Apache-2.0), as vendored by the
check-jsonschema package on PyPI (one description reworded; no rule changed).
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).parents[2]
SCHEMA_PATH = Path(__file__).with_name("compose-spec.json")
APP_SERVICES = {"migrate", "code-server", "webserver", "daemon", "api"}


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
    assert set(compose["services"]) == APP_SERVICES | {"postgres"}


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


def test_dagster_ui_is_bound_to_localhost_only(compose):
    ports = compose["services"]["webserver"]["ports"]
    assert ports, "the UI is reachable through an SSH tunnel to the host's loopback"
    for port in ports:
        assert str(port).startswith("127.0.0.1:"), port
    for name, service in compose["services"].items():
        for port in service.get("ports", []):
            if str(port).rsplit(":", 1)[-1] in {"3000", "4000", "5432"}:
                assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port}"


def test_api_is_published(compose):
    ports = compose["services"]["api"]["ports"]
    assert any(str(p).endswith(":8000") for p in ports), ports


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
    assert re.search(r"^TXN_API_KEY=$", example, re.MULTILINE)


def test_long_running_services_restart_and_are_health_checked(compose):
    for name in ("code-server", "webserver", "daemon", "api", "postgres"):
        service = compose["services"][name]
        assert service.get("restart") == "unless-stopped", name
    for name in ("code-server", "webserver", "daemon", "postgres"):
        assert compose["services"][name]["healthcheck"]["test"], name
    # the api service uses the image's HEALTHCHECK (GET /health)
    assert "healthcheck" not in compose["services"]["api"]
