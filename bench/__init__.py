"""Benchmarks: each runs as ``python -m bench.NAME --json``, last line one JSON object."""
