{#- For the incremental event models: the received_at from which deliveries
    are reprocessed this run, as a SQL timestamp expression - the latest
    `watermark_column` already stored in this model minus the
    `events_lookback_days` var (default 3) - or none on a full refresh or an
    empty table (everything is processed). -#}
{% macro events_reprocess_since(watermark_column) %}
    {%- if not (is_incremental() and execute) -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set watermark_query -%}
        select cast(max({{ watermark_column }}) as {{ dbt.type_string() }}) from {{ this }}
    {%- endset -%}
    {%- set watermark = run_query(watermark_query).columns[0].values()[0] -%}
    {%- if not watermark -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set lookback_days = var('events_lookback_days', 3) | int -%}
    {{ return(dbt.dateadd('day', -lookback_days, "cast('" ~ watermark ~ "' as timestamp)")) }}
{% endmacro %}
