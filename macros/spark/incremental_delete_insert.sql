{#- delete+insert on Spark, which dbt-spark refuses (its strategies are
    append, merge, insert_overwrite, microbatch). These two macros replace
    dbt-spark's own of the same name (the project's macros win) and hand
    every other strategy back to dbt-spark.

    delta / iceberg / hudi: delete the target's rows whose unique_key is in
    the new batch, then insert the batch (two statements, as on DuckDB).
    parquet (no DELETE): write the new table beside the old one (old rows
    whose key is not in the batch, plus the batch), then drop the old one
    and rename the new one: a failed run leaves the old table readable.
    docs/spark.md -#}
{% macro dbt_spark_validate_get_incremental_strategy(raw_strategy, file_format) -%}
    {%- if raw_strategy == 'delete+insert' -%}
        {{ return(raw_strategy) }}
    {%- endif -%}
    {{ return(dbt_spark.dbt_spark_validate_get_incremental_strategy(raw_strategy, file_format)) }}
{%- endmacro %}

{% macro dbt_spark_get_incremental_sql(strategy, source, target, existing, unique_key, incremental_predicates) -%}
    {%- if strategy != 'delete+insert' -%}
        {{ return(dbt_spark.dbt_spark_get_incremental_sql(
            strategy, source, target, existing, unique_key, incremental_predicates)) }}
    {%- endif -%}
    {%- if unique_key is none -%}
        {%- do exceptions.raise_compiler_error('delete+insert on ' ~ target ~ ' needs a unique_key') -%}
    {%- endif -%}
    {%- set keys = [unique_key] if unique_key is string else unique_key -%}
    {%- set columns = adapter.get_columns_in_relation(target) | map(attribute='name') | list -%}
    {%- set column_list = columns | map('string') | join(', ') -%}
    {%- set batch_has_key -%}
        exists (
            select 1 from {{ source }} as batch
            where {% for key in keys %}batch.{{ key }} = existing.{{ key }}{% if not loop.last %} and {% endif %}{% endfor %}
        )
    {%- endset -%}
    {%- set file_format = config.get('file_format', default='parquet') -%}
    {%- if file_format in ['delta', 'iceberg', 'hudi'] -%}
        {%- do run_query('delete from ' ~ target ~ ' as existing where ' ~ batch_has_key) -%}
        insert into {{ target }} ({{ column_list }})
        select {{ column_list }} from {{ source }}
    {%- else -%}
        {%- set beside = target.incorporate(path={'identifier': target.identifier ~ '__dbt_new'}) -%}
        {%- do run_query('drop table if exists ' ~ beside) -%}
        {%- call statement('write_beside') -%}
            create table {{ beside }}
            using {{ file_format }}
            as
            select {{ column_list }} from {{ target }} as existing
            where not {{ batch_has_key }}
            union all
            select {{ column_list }} from {{ source }}
        {%- endcall -%}
        {%- do adapter.drop_relation(existing) -%}
        alter table {{ beside }} rename to {{ target }}
    {%- endif -%}
{%- endmacro %}
