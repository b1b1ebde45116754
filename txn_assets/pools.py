"""Concurrency pools: one rule for every run that touches the warehouse, whatever launched it
(a sensor, a schedule, a Materialize or a backfill from the UI). Their limits are in dagster.yaml
(`concurrency: pools`)."""

# Loads serialise in PostgreSQL anyway; two at once overlap one's DuckDB stage with the other's
# COPY without crowding a small machine.
INGESTION_POOL = "ingestion"
# Refreshes take turns in PostgreSQL: a second one in flight only waits for the lock.
ANALYTICS_POOL = "analytics"
