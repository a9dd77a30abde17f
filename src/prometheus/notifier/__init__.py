"""Notifier: incidents from the failures of a `dbt build`, told to the teams and
people on call.

Modules, by what they do:

- ``problems``: what failed in a run and which exposures it impacts (pure);
- ``ownership``: the on-call configuration (teams, members, rotations, pipelines,
  severity policy, runbooks) from the manifest, validated;
- ``schedules``: who is on call at an instant (pure);
- ``routing``: problems -> impacted pipelines -> one message per team (pure);
- ``render``: plain text and Slack Block Kit (pure);
- ``incidents``: the incident lifecycle and its append-only SQLite store and outbox;
- ``stored_failures``: a few failing rows from the DuckDB warehouse (read-only);
- ``channels``: stdout, JSON lines, Slack, generic webhook, PagerDuty, e-mail;
- ``delivery``: intent/outcome, retries, deadline, fallback, exit codes;
- ``cli``: ``prometheus notify``, ``prometheus oncall``, ``prometheus validate-oncall``.
"""
