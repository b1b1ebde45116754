"""The code location loads, as Dagster's own tooling and the UI would load it."""

import os
import subprocess
import sys
from pathlib import Path

from dagster import EnvVar

from txn_assets.assets import ingestion
from txn_assets.assets.ingestion import raw_uploads
from txn_assets.catalog import with_code_links
from txn_assets.definitions import defs
from txn_assets.resources import resources_for
from txn_core.settings import Settings


def test_dagster_definitions_validate_passes(tmp_path):
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path)}  # an empty home: no instance config
    result = subprocess.run(
        [
            Path(sys.executable).parent / "dagster",
            "definitions",
            "validate",
            "-m",
            "txn_assets.definitions",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Validation successful" in result.stdout + result.stderr


def test_the_uploads_asset_says_who_it_is():
    spec = defs.resolve_assets_def("raw_uploads").specs_by_key
    (raw_uploads,) = spec.values()
    assert raw_uploads.group_name == "ingestion"
    assert {"duckdb", "postgres"} <= set(raw_uploads.kinds)
    assert "exactly once" in raw_uploads.description
    assert defs.resolve_sensor_def("landing_zone_sensor").default_status.value == "RUNNING"


def test_the_ui_shows_the_warehouse_url_by_name_never_its_password(monkeypatch):
    url = "postgresql://txn:hunter2@db.internal:5432/txn"
    monkeypatch.setenv("TXN_DATABASE_URL", url)
    warehouse = resources_for(Settings(database_url=url))["warehouse"]
    assert isinstance(warehouse.database_url, EnvVar)
    assert warehouse.database_url.env_var_name == "TXN_DATABASE_URL"
    assert "hunter2" not in repr(warehouse) and "hunter2" not in repr(Settings(database_url=url))


def code_references(assets) -> list:
    (asset,) = assets
    (spec,) = asset.specs
    return spec.metadata["dagster/code_references"].code_references


def test_each_asset_links_to_its_code_locally_and_at_the_images_commit():
    (local,) = code_references(with_code_links([raw_uploads], None, None))
    assert Path(local.file_path).samefile(Path(ingestion.__file__))
    (linked,) = code_references(
        with_code_links([raw_uploads], "https://github.com/acme/txn", "0123abc")
    )
    assert linked.url.startswith(
        "https://github.com/acme/txn/tree/0123abc/txn_assets/assets/ingestion.py"
    )
