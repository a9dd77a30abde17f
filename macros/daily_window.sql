{#- Tests on event-scale tables check, in a daily run, only the rows loaded
    since the last run: `prometheus daily` sets the var `daily_window_start`,
    a mapping "<source>.<table>" -> the previous run's latest _loaded_at of
    that source minus the events lookback. Without it (full builds, CI) every
    row passes. For singular tests; generic tests' `where` cannot call a
    project macro, so stg_events__events.yml spells the same predicate once
    (YAML anchor &daily_window). -#}
{% macro daily_window(source_table='events.events', loaded_at_column='_loaded_at') -%}
    {%- set start = (var('daily_window_start', none) or {}).get(source_table, '1900-01-01 00:00:00') -%}
    ({{ loaded_at_column }} >= cast('{{ start }}' as {{ dbt.type_timestamp() }}) or {{ loaded_at_column }} is null)
{%- endmacro %}
