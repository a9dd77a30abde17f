{#- Makes every source with an external_location (the raw-contract Parquet
    files, docs/raw-contract.md) readable as <source>.<table>:
    `dbt run-operation register_raw_sources` before a build (scripts/spark.sh).
    DuckDB reads the files in place (dbt-duckdb renders source() as a read of
    external_location): nothing to do. Spark: one persistent view per source
    over the file or the glob of day files, kept in the metastore until the
    next registration; a missing or unreadable file fails here, naming it. -#}
{% macro register_raw_sources() -%}
    {{ return(adapter.dispatch('register_raw_sources')()) }}
{%- endmacro %}

{% macro default__register_raw_sources() -%}
    {%- do log('register_raw_sources: ' ~ target.type ~ ' reads the raw files in place', info=true) -%}
{%- endmacro %}

{% macro spark__register_raw_sources() -%}
    {%- if execute -%}
        {%- for src in graph.sources.values()
            if src.config.get('external_location') or src.external -%}
            {%- set location = (src.config.get('external_location') or src.external.location)
                | replace('{name}', src.name) -%}
            {%- set relation = api.Relation.create(schema=src.schema, identifier=src.identifier) -%}
            {%- do log('register_raw_sources: ' ~ relation ~ ' <- ' ~ location, info=true) -%}
            {%- do run_query('create database if not exists ' ~ adapter.quote(src.schema)) -%}
            {%- do run_query(raw_source_view_sql(relation, location)) -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}

{#- Spark: the view over one raw Parquet file (or glob). Spark names the path
    when it is missing (PATH_NOT_FOUND) or not Parquet. -#}
{% macro raw_source_view_sql(relation, location) -%}
    create or replace view {{ relation }} as
    select * from parquet.`{{ location }}`
{%- endmacro %}
