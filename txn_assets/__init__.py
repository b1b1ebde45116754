"""The Dagster code location of the transaction platform (see definitions.py)."""
