"""Resources: the warehouse and the landing zone, chosen from the environment in one place."""

import psycopg
from dagster import ConfigurableResource

from txn_core.landing import LandingZone, landing_zone_from_url
from txn_core.settings import Settings


class WarehouseResource(ConfigurableResource):
    """The PostgreSQL warehouse (a local server, or RDS in production)."""

    database_url: str

    def connect(self, autocommit: bool = True) -> psycopg.Connection:
        return psycopg.connect(self.database_url, autocommit=autocommit)


class LandingZoneResource(ConfigurableResource):
    """Where files wait to be ingested: a folder, or s3://bucket/prefix."""

    url: str
    settle_seconds: float = 2.0

    def zone(self) -> LandingZone:
        return landing_zone_from_url(self.url)


def resources_for(settings: Settings) -> dict[str, ConfigurableResource]:
    """Local and production differ only here: in the URLs the settings carry."""
    return {
        "warehouse": WarehouseResource(database_url=settings.warehouse_url),
        "landing": LandingZoneResource(
            url=settings.landing, settle_seconds=settings.settle_seconds
        ),
    }
