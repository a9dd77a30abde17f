{#-
    dq_columns_match_set: the relation's columns (introspected with
    adapter.get_columns_in_relation) match an expected list.

    Arguments
      column_list     list of expected column names (compared case-insensitively)
      allow_extra     false (default): columns not in the list fail; true:
                      the list is a subset that must be present (contain set)
      types           optional mapping column name -> expected data type as
                      the adapter reports it (its raw dtype, case-insensitive, e.g.
                      {amount_usd: 'DECIMAL(18,2)', event_date: 'DATE'})

    A listed column that is missing always fails. Returns one row per
    problem: `column_name`, `problem` ('missing', 'unexpected',
    'type mismatch'), `expected` and `actual` (data types where relevant).
    Mirrors dbt_expectations.expect_table_columns_to_match_set /
    _to_contain_set, plus types.
-#}
{% test dq_columns_match_set(model, column_list, allow_extra=false, types=none) %}

{%- set problems = [] -%}
{%- if execute -%}
    {%- set actual_types = {} -%}
    {%- for column in adapter.get_columns_in_relation(model) -%}
        {%- do actual_types.update({column.name | lower: column.dtype | lower}) -%}
    {%- endfor -%}
    {%- set expected_names = column_list | map('lower') | list -%}
    {%- for name in expected_names -%}
        {%- if name not in actual_types -%}
            {%- do problems.append([name, 'missing', none, none]) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if not allow_extra -%}
        {%- for name in actual_types if name not in expected_names -%}
            {%- do problems.append([name, 'unexpected', none, actual_types[name]]) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- for name, expected_type in (types or {}).items() -%}
        {%- set actual_type = actual_types.get(name | lower) -%}
        {%- if actual_type is not none and actual_type != expected_type | lower -%}
            {%- do problems.append([name | lower, 'type mismatch', expected_type | lower, actual_type]) -%}
        {%- endif -%}
    {%- endfor -%}
{%- endif -%}

with

problems as (

    select
        cast(null as {{ dbt.type_string() }}) as column_name,
        cast(null as {{ dbt.type_string() }}) as problem,
        cast(null as {{ dbt.type_string() }}) as expected,
        cast(null as {{ dbt.type_string() }}) as actual
    {%- for name, problem, expected, actual in problems %}
    union all
    select
        '{{ name }}',
        '{{ problem }}',
        {{ "'" ~ expected ~ "'" if expected is not none else 'null' }},
        {{ "'" ~ actual ~ "'" if actual is not none else 'null' }}
    {%- endfor %}

)

select *
from problems
where problem is not null

{% endtest %}
