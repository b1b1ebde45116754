"""Plain modules shared by the Dagster code location and the API.

Nothing here imports Dagster or FastAPI: settings, warehouse access, the landing zone,
the CSV contract and the loader. `txn_assets` and `txn_api` build on these.
"""
