"""Benchmark: wall time and peak memory of generate, build, the DuckDB floor,
incremental runs, tests, notifier and report (``prometheus bench``)."""
