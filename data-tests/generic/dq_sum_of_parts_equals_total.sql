{#-
    dq_sum_of_parts_equals_total: the parts add up to the total, on every
    row or per group, within a float tolerance.

    Arguments
      part_expressions  list of row-level SQL expressions (the parts)
      total_expression  row-level SQL expression (the total)
      group_by          optional list of column names: parts are summed per
                        group and compared with the total aggregated by
                        `total_aggregate`; without it each row is checked
      total_aggregate   with group_by: 'sum' (default) when each row carries
                        its share of the total, 'max'/'min' when every row
                        repeats the group's total (a cost pool on each
                        allocation row)
      row_condition     optional SQL filter applied first
      abs_tolerance     |parts - total| must exceed this to fail (default 0.005)
      rel_tolerance     and |parts - total| / |total| must exceed this
                        (fraction; unset = the absolute test alone); a zero
                        total with a difference fails
      null_is_failure   true (default): a NULL part or total fails; false:
                        NULL counts as 0

    Returns one row per failing row (all model columns) or group (the
    keys): `actual` (sum of parts), `expected` (total), `abs_diff`,
    `rel_diff`. Improves on dbt_expectations.expect_multicolumn_sum_to_equal,
    which is exact and row-less.
-#}
{% test dq_sum_of_parts_equals_total(model, part_expressions, total_expression, group_by=none, total_aggregate='sum', row_condition=none, abs_tolerance=0.005, rel_tolerance=none, null_is_failure=true) %}

{%- if total_aggregate not in ['sum', 'max', 'min'] -%}
    {{ exceptions.raise_compiler_error("dq_sum_of_parts_equals_total: total_aggregate must be sum, max or min") }}
{%- endif -%}
{%- set parts = [] -%}
{%- for part in part_expressions -%}
    {%- if null_is_failure -%}
        {%- do parts.append('(' ~ part ~ ')') -%}
    {%- else -%}
        {%- do parts.append('coalesce(' ~ part ~ ', 0)') -%}
    {%- endif -%}
{%- endfor -%}
{%- set total = '(' ~ total_expression ~ ')' if null_is_failure else 'coalesce(' ~ total_expression ~ ', 0)' -%}

with

compared as (

    select
        {%- if group_by %}
        {{ group_by | join(', ') }},
        {#- sum() skips NULLs: count them so a NULL part is not lost -#}
        sum({{ parts | join(' + ') }}) as actual,
        {{ total_aggregate }}({{ total }}) as expected,
        sum(case when ({{ parts | join(' + ') }}) is null or {{ total }} is null then 1 else 0 end)
            as n_null_rows
        {%- else %}
        *,
        {{ parts | join(' + ') }} as actual,
        {{ total }} as expected,
        case when ({{ parts | join(' + ') }}) is null or {{ total }} is null then 1 else 0 end
            as n_null_rows
        {%- endif %}

    from {{ model }}
    where {{ row_condition if row_condition else 'true' }}
    {%- if group_by %}
    group by {{ group_by | join(', ') }}
    {%- endif %}

),

diffed as (

    select
        *,
        abs(actual - expected) as abs_diff,
        {{ safe_divide('abs(actual - expected)', 'abs(expected)') }} as rel_diff

    from compared

)

select *
from diffed
where
    n_null_rows > 0
    or actual is null
    or expected is null
    or (
        abs_diff > {{ abs_tolerance }}
        {%- if rel_tolerance is not none %}
        and (expected = 0 or rel_diff > {{ rel_tolerance }})
        {%- endif %}
    )

{% endtest %}
