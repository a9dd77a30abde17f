"""Notifier: routes failures of a `dbt build` to the teams and people on call.

Modules, by what they do:

- ``artifacts``: small typed readers of manifest.json / run_results.json / sources.json;
- ``ownership``: the on-call configuration (teams, members, rotations, pipelines) from the
  manifest, validated;
- ``schedules``: who is on call at an instant (pure);
- ``routing``: failures -> impacted pipelines -> one message per team (pure);
- ``stored_failures``: a few failing rows from the DuckDB warehouse (read-only);
- ``channels``: stdout, JSON lines, Slack, generic webhook, e-mail;
- ``delivery``: retries, fallback, exit codes;
- ``state``: what was already sent (suppression);
- ``cli``: ``prometheus notify``, ``prometheus oncall``, ``prometheus validate-oncall``.
"""
