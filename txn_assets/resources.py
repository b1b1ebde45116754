"""Resources: the warehouse and the landing zone, chosen from the environment in one place."""

import os

import psycopg
from dagster import ConfigurableResource, EnvVar

from txn_core.landing import landing_zone_from_url
from txn_core.landing.zone import LandingZone
from txn_core.settings import Settings

DATABASE_URL_VARIABLE = "TXN_DATABASE_URL"


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
    """Local and production differ only here: in the URLs the settings carry. The UI shows a
    resource's configuration, so the warehouse URL (it may hold a password) goes in by the name
    of its variable, never by value; the local server's URL holds no secret."""
    database_url = (
        EnvVar(DATABASE_URL_VARIABLE)
        if os.environ.get(DATABASE_URL_VARIABLE)
        else settings.warehouse_url
    )
    return {
        "warehouse": WarehouseResource(database_url=database_url),
        "landing": LandingZoneResource(
            url=settings.landing, settle_seconds=settings.settle_seconds
        ),
    }
