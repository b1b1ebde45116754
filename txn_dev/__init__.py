"""Machinery for a developer's machine, never in the image: the project's own PostgreSQL server
(`local_postgres`) and the `make run` supervisor (`run_local`). Tests and benchmarks use it too."""
