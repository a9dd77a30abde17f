{#- Snapshots on Spark for every table format. dbt-spark's own snapshot
    materialisation needs Delta, Iceberg or Hudi (it ends in MERGE INTO);
    this one is the same up to that point and then, on delta / iceberg /
    hudi, still merges (dbt-spark's snapshot_merge_sql), and on Parquet
    (no MERGE, no UPDATE) writes the merged snapshot beside the old table
    and swaps: dbt_valid_to closed for the updated and deleted rows, the
    new versions appended. A failed run leaves the old table readable.
    Being the project's, it replaces dbt-spark's (docs/spark.md). -#}
{% materialization snapshot, adapter='spark' %}

  {%- set target_table = model.get('alias', model.get('name')) -%}
  {%- set strategy_name = config.get('strategy') -%}
  {%- set file_format = config.get('file_format') or 'parquet' -%}
  {%- set grant_config = config.get('grants') -%}

  {% set target_relation_exists, target_relation = get_or_create_relation(
          database=none,
          schema=model.schema,
          identifier=target_table,
          type='table') -%}

  {% if not adapter.check_schema_exists(model.database, model.schema) %}
    {% do create_schema(model.schema) %}
  {% endif %}

  {%- if not target_relation.is_table -%}
    {% do exceptions.relation_wrong_type(target_relation, 'table') %}
  {%- endif -%}

  {{ run_hooks(pre_hooks, inside_transaction=False) }}
  {{ run_hooks(pre_hooks, inside_transaction=True) }}

  {% set strategy_macro = strategy_dispatch(strategy_name) %}
  {% set strategy = strategy_macro(model, "snapshotted_data", "source_data", model['config'], target_relation_exists) %}

  {% if not target_relation_exists %}

      {% set build_sql = build_snapshot_table(strategy, model['compiled_code']) %}
      {% set final_sql = create_table_as(False, target_relation, build_sql) %}

  {% else %}

      {% set columns = config.get("snapshot_table_column_names") or get_snapshot_table_column_names() %}
      {{ adapter.valid_snapshot_target(target_relation, columns) }}
      {% set staging_table = spark_build_snapshot_staging_table(strategy, sql, target_relation) %}
      {% do adapter.expand_target_column_types(from_relation=staging_table, to_relation=target_relation) %}

      {% set missing_columns = adapter.get_missing_columns(staging_table, target_relation)
                                   | rejectattr('name', 'in', ['dbt_change_type', 'DBT_CHANGE_TYPE', 'dbt_unique_key', 'DBT_UNIQUE_KEY'])
                                   | list %}
      {% do create_columns(target_relation, missing_columns) %}

      {% if file_format in ['delta', 'iceberg', 'hudi'] %}
          {% set source_columns = adapter.get_columns_in_relation(staging_table)
                                       | rejectattr('name', 'in', ['dbt_change_type', 'DBT_CHANGE_TYPE', 'dbt_unique_key', 'DBT_UNIQUE_KEY'])
                                       | list %}
          {% set quoted_source_columns = [] %}
          {% for column in source_columns %}
            {% do quoted_source_columns.append(adapter.quote(column.name)) %}
          {% endfor %}
          {% set final_sql = snapshot_merge_sql(target=target_relation, source=staging_table, insert_cols=quoted_source_columns) %}
      {% else %}
          {% set final_sql = spark_parquet_snapshot_swap(target_relation, staging_table, columns, file_format) %}
      {% endif %}

  {% endif %}

  {% call statement('main') %}
      {{ final_sql }}
  {% endcall %}

  {% set should_revoke = should_revoke(target_relation_exists, full_refresh_mode) %}
  {% do apply_grants(target_relation, grant_config, should_revoke) %}
  {% do persist_docs(target_relation, model) %}
  {{ run_hooks(post_hooks, inside_transaction=True) }}
  {{ adapter.commit() }}
  {% if staging_table is defined %}
      {% do post_snapshot(staging_table) %}
  {% endif %}
  {{ run_hooks(post_hooks, inside_transaction=False) }}
  {{ return({'relations': [target_relation]}) }}

{% endmaterialization %}

{#- Parquet: the merged snapshot written beside the old one (the same
    outcome as dbt-spark's MERGE: a current row whose scd_id the staging
    table updates or deletes gets that row's dbt_valid_to; the staging
    table's inserts are appended), then the old table dropped and the new
    one renamed; returns the rename, the materialisation's main statement. -#}
{% macro spark_parquet_snapshot_swap(target, staging, columns, file_format) -%}
    {%- set target_columns = adapter.get_columns_in_relation(target) | map(attribute='name') | list -%}
    {%- set beside = target.incorporate(path={'identifier': target.identifier ~ '__dbt_new'}) -%}
    {%- set valid_to_current = config.get('dbt_valid_to_current') -%}
    {%- do run_query('drop table if exists ' ~ beside) -%}
    {%- call statement('write_snapshot_beside') -%}
        create table {{ beside }}
        using {{ file_format }}
        as
        with closing as (
            select {{ columns.dbt_scd_id }} as closing_scd_id, {{ columns.dbt_valid_to }} as closing_valid_to
            from {{ staging }}
            where dbt_change_type in ('update', 'delete')
        )
        select
            {%- for name in target_columns %}
            {% if name | lower == columns.dbt_valid_to | lower -%}
            case
                when closing.closing_scd_id is not null and (
                    existing.{{ name }} is null
                    {%- if valid_to_current %} or existing.{{ name }} = {{ valid_to_current }}{% endif %}
                ) then closing.closing_valid_to
                else existing.{{ name }}
            end as {{ name }}
            {%- else -%}
            existing.{{ name }}
            {%- endif %}{{ ',' if not loop.last }}
            {%- endfor %}
        from {{ target }} as existing
        left join closing
            on existing.{{ columns.dbt_scd_id }} = closing.closing_scd_id
        union all
        select {{ target_columns | join(', ') }}
        from {{ staging }}
        where dbt_change_type = 'insert'
    {%- endcall -%}
    {%- do adapter.drop_relation(target) -%}
    alter table {{ beside }} rename to {{ target }}
{%- endmacro %}
