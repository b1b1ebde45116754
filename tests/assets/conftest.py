import pytest
from dagster import DagsterInstance

from txn_assets.resources import LandingZoneResource, WarehouseResource
from txn_core.landing import FolderLandingZone


@pytest.fixture
def instance():
    with DagsterInstance.ephemeral() as ephemeral:
        yield ephemeral


@pytest.fixture
def zone(landing_root) -> FolderLandingZone:
    return FolderLandingZone(landing_root)


@pytest.fixture
def resources(warehouse_url, landing_root):
    return {
        "warehouse": WarehouseResource(database_url=warehouse_url),
        "landing": LandingZoneResource(url=str(landing_root), settle_seconds=0.0),
    }
