"""Benchmarks: each prints side-by-side ratios from one run (see bench/README.md)."""
