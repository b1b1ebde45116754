"""The HTTP service: uploads into the landing zone and reads from the warehouse.

It builds on `txn_core` only and never imports Dagster: files it lands are picked up by the
Dagster sensor, and the ledger it writes is the one the Dagster runs update.
"""
