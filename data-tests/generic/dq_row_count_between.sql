{#-
    dq_row_count_between: the row count lies within bounds, overall or per
    group.

    Arguments
      min_value        optional inclusive lower bound
      max_value        optional inclusive upper bound
      group_by         optional list of column names; counted per group
      expected_groups  optional relation (ref/source) or parenthesised query
                       holding the `group_by` columns; groups listed there
                       but absent from the model count as 0 rows (so
                       min_value >= 1 catches a group that went silent)
      row_condition    optional SQL filter applied first

    Returns one row per failing group: the group keys, `actual` (rows),
    `min_value`, `max_value`. Without group_by an empty model counts 0 and
    fails a min_value >= 1. Mirrors
    dbt_expectations.expect_table_row_count_to_be_between, plus groups.
-#}
{% test dq_row_count_between(model, min_value=none, max_value=none, group_by=none, expected_groups=none, row_condition=none) %}

{%- if min_value is none and max_value is none -%}
    {{ exceptions.raise_compiler_error("dq_row_count_between: set min_value, max_value or both") }}
{%- endif -%}
{%- if expected_groups and not group_by -%}
    {{ exceptions.raise_compiler_error("dq_row_count_between: expected_groups needs group_by") }}
{%- endif -%}
{%- set keys = group_by or [] -%}

with

counts as (

    select
        {% for column in keys %}{{ column }}, {% endfor %}
        count(*) as actual

    from {{ model }}
    where {{ row_condition if row_condition else 'true' }}
    {%- if keys %}
    group by {{ keys | join(', ') }}
    {%- endif %}

),

{%- if expected_groups %}

groups as (

    select {{ keys | join(', ') }} from counts
    union
    select {{ keys | join(', ') }} from {{ expected_groups }} as expected_groups

),

all_counts as (

    select
        {% for column in keys %}groups.{{ column }}, {% endfor %}
        coalesce(counts.actual, 0) as actual

    from groups
    left join counts
        on
            {% for column in keys -%}
            {% if not loop.first %}and {% endif %}counts.{{ column }} is not distinct from groups.{{ column }}
            {% endfor %}

),
{%- else %}

all_counts as (select * from counts),
{%- endif %}

checked as (

    select
        *,
        {{ min_value if min_value is not none else 'null' }} as min_value,
        {{ max_value if max_value is not none else 'null' }} as max_value

    from all_counts

)

select *
from checked
where
    false
    {%- if min_value is not none %}
    or actual < min_value
    {%- endif %}
    {%- if max_value is not none %}
    or actual > max_value
    {%- endif %}

{% endtest %}
