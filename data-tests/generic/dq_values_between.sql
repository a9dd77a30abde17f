{#-
    dq_values_between: every value of `column_name` lies within bounds.

    Arguments
      column_name      the column (or a row-level SQL expression) to check
      min_value        optional lower bound, a SQL expression: a number, a
                       quoted literal ("cast('2020-01-01' as date)") or
                       "{{ as_of_timestamp() }} + interval 1 hour"
      max_value        optional upper bound, same rules
      strictly         false (default): bounds are inclusive; true: exclusive
      row_condition    optional SQL filter applied first
      null_is_failure  false (default): NULL values are not checked here (use
                       not_null or dq_missing_rate); true: a NULL fails
      error_rate       optional fraction 0-1 for a tiered test: failing rows get
                       severity_level 2 when the share of failing rows in the
                       (filtered) model exceeds it, else 1. Unset: every failing
                       row has severity_level 2.

    Returns one row per failing row: all model columns plus `actual` (the
    value), `min_value`, `max_value` (the evaluated bounds), `failing_rate`
    and `severity_level`. The tiers are configured by the test itself (fail_calc
    = the highest severity_level; warn_if >=1, error_if >=2), so a usage needs
    no config; without error_rate every failing row is severity 2.
    Mirrors dbt_expectations.expect_column_values_to_be_between.
-#}
{% test dq_values_between(model, column_name, min_value=none, max_value=none, strictly=false, row_condition=none, null_is_failure=false, error_rate=none) %}
{#- tiers: severity_level 1 warns, 2 fails; set here, so no usage can forget them -#}
{{ config(fail_calc="coalesce(max(severity_level), 0)", warn_if=">=1", error_if=">=2") }}

{%- if min_value is none and max_value is none -%}
    {{ exceptions.raise_compiler_error("dq_values_between: set min_value, max_value or both") }}
{%- endif -%}
{%- set lower_op = '>' if strictly else '>=' -%}
{%- set upper_op = '<' if strictly else '<=' -%}

with

-- read twice (the totals, the failing rows): inlined, never materialised
checked as {{ cte_not_materialized() }} (

    select
        *,
        {{ column_name }} as actual,
        {{ min_value if min_value is not none else 'null' }} as min_value,
        {{ max_value if max_value is not none else 'null' }} as max_value,
        case
            when {{ column_name }} is null then {{ 'false' if null_is_failure else 'true' }}
            else
                true
                {%- if min_value is not none %}
                and {{ column_name }} {{ lower_op }} {{ min_value }}
                {%- endif %}
                {%- if max_value is not none %}
                and {{ column_name }} {{ upper_op }} {{ max_value }}
                {%- endif %}
        end as is_valid

    from {{ model }}
    where {{ row_condition if row_condition else 'true' }}

),

-- an aggregate, not a window over every row: a window kept all columns of
-- all rows (390 s on the 100M-row event table at scale 10)
totals as (

    select
        sum(case when is_valid then 0 else 1 end)
        / cast(count(*) as {{ type_double() }}) as failing_rate

    from checked

),

rated as (

    select
        checked.*,
        totals.failing_rate

    from checked
    cross join totals
    where not checked.is_valid

)

select
    *,
    {%- if error_rate is not none %}
    case when failing_rate > {{ error_rate }} then 2 else 1 end as severity_level
    {%- else %}
    2 as severity_level
    {%- endif %}

from rated

{% endtest %}
