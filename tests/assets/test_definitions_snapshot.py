"""The code location as a reviewer sees it: assets (tables, columns, owners, pools, partitions,
freshness, checks), jobs, schedules and sensors, against a snapshot kept beside this test. An
accidental change shows as a failing test and, once meant, as a diff of the snapshot in review:
    TXN_UPDATE_SNAPSHOT=1 .venv/bin/pytest tests/assets/test_definitions_snapshot.py
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from txn_assets.definitions import defs

SNAPSHOT = Path(__file__).with_name("definitions_snapshot.json")


def _asset(spec: Any, assets_def: Any) -> dict[str, Any]:
    schema = spec.metadata.get("dagster/column_schema")
    policy = spec.freshness_policy
    return {
        "group": spec.group_name,
        "kinds": sorted(spec.kinds),
        "owners": list(spec.owners),
        "table": spec.metadata.get("dagster/table_name"),
        "columns": [column.name for column in schema.columns] if schema else None,
        "partitions": type(spec.partitions_def).__name__ if spec.partitions_def else None,
        "freshness": repr(policy) if policy else None,
        "deps": sorted(dep.asset_key.to_user_string() for dep in spec.deps),
        "pool": assets_def.op.pool,
        "retries": assets_def.op.retry_policy.max_retries if assets_def.op.retry_policy else 0,
        "checks": sorted(
            check.name for check in assets_def.check_specs if check.asset_key == spec.key
        ),
    }


def snapshot() -> dict[str, Any]:
    assets_defs = {key: ad for ad in defs.resolve_asset_graph().assets_defs for key in ad.keys}
    return {
        "assets": {
            spec.key.to_user_string(): _asset(spec, assets_defs[spec.key])
            for spec in sorted(defs.resolve_all_asset_specs(), key=lambda s: s.key)
        },
        "jobs": {
            job.name: {"tags": dict(sorted(job.tags.items())), "executor": job.executor_def.name}
            for job in defs.resolve_all_job_defs()  # __ASSET_JOB: Materialize from the UI
        },
        "schedules": {
            schedule.name: [schedule.cron_schedule, schedule.default_status.value]
            for schedule in defs.schedules
        },
        "sensors": {
            sensor.name: [sensor.default_status.value, sensor.minimum_interval_seconds]
            for sensor in defs.sensors
        },
    }


def test_the_definitions_match_their_snapshot():
    current = json.dumps(snapshot(), indent=2, sort_keys=True) + "\n"
    if os.environ.get("TXN_UPDATE_SNAPSHOT"):
        SNAPSHOT.write_text(current)
    assert SNAPSHOT.read_text() == current, "the definitions changed: see the diff"
