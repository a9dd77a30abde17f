"""Observability: dbt run history in the warehouse and the Elementary report, offline.

- ``artifacts``: small typed readers for dbt's ``manifest.json``,
  ``run_results.json`` and ``sources.json``.
- ``history``: the append-only ``observability`` schema in the DuckDB file.
- ``elementary_adapter``: the only module that knows elementary-data's
  internals; answers ``ReportAPI``'s macros from the manifest and the history.
- ``server``: serves the report on 127.0.0.1.
- ``observe_cli`` / ``report_cli``: the ``prometheus observe`` and
  ``prometheus report`` commands.
"""
