import pytest
from dagster._core.storage.defs_state.base import set_defs_state_storage
from dagster._core.test_utils import instance_for_test

from txn_assets.resources import LandingZoneResource, WarehouseResource
from txn_core.landing import FolderLandingZone


@pytest.fixture
def instance():
    """A real (SQLite-backed, temporary) Dagster instance.

    Dagster keeps the current instance's state storage in a context variable; pinning it to this
    test's instance keeps a closed instance from an earlier test from leaking in."""
    with (
        instance_for_test() as test_instance,
        set_defs_state_storage(test_instance.defs_state_storage),
    ):
        yield test_instance


@pytest.fixture
def zone(landing_root) -> FolderLandingZone:
    return FolderLandingZone(landing_root)


@pytest.fixture
def resources(warehouse_url, landing_root):
    return {
        "warehouse": WarehouseResource(database_url=warehouse_url),
        "landing": LandingZoneResource(url=str(landing_root), settle_seconds=0.0),
    }
