import pytest
from dagster import instance_for_test

from txn_assets.resources import LandingZoneResource, WarehouseResource
from txn_core.landing.folder import FolderLandingZone


@pytest.fixture
def instance():
    """A real (SQLite-backed, temporary) Dagster instance."""
    with instance_for_test() as test_instance:
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
