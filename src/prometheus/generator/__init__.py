"""Synthetic upstream generator: writes the raw contract's Parquet files.

Entry points: :func:`prometheus.generator.pipeline.generate` (library) and
``prometheus generate`` (:mod:`prometheus.generator.cli`).
"""

GENERATOR_VERSION = "1.0.0"
