{#-
    dq_reconcile_aggregate: an aggregate of the model equals the same
    aggregate of a compare model, overall or per group, within tolerance.

    Arguments
      expression           aggregate SQL on the model (`sum(revenue_usd)`)
      compare_model        ref()/source() to reconcile against
      compare_expression   aggregate SQL on compare_model (default: expression)
      group_by             optional list of column names on the model
      compare_group_by     the matching columns on compare_model, same order
                           (default: group_by); output uses group_by's names
      row_condition        optional SQL filter on the model
      compare_row_condition  optional SQL filter on compare_model
      abs_tolerance        error tier: |a - b| must exceed this to fail (default 0)
      rel_tolerance        error tier: and |a - b| / |reference| must exceed
                           this (fraction; unset = the absolute test alone)
      relative_to          'compare' (default; e.g. the reported filing) or
                           'model': the side the relative difference divides by
      missing_group        a group present on one side only: 'fail' (default),
                           'warn', 'ignore', or 'zero' (its value counts as 0
                           and is compared like any other)
      null_is_failure      true (default): an aggregate that is NULL on either
                           side fails; false: NULL counts as 0
      warn_abs_tolerance   optional warn tier, same rule with tighter limits;
      warn_rel_tolerance   set either or both

    Groups are matched null-safely (a NULL key equals a NULL key) over the
    union of both sides' keys, i.e. full-outer-join semantics in portable
    SQL. A difference fails when |a - b| > abs_tolerance AND (rel_tolerance
    unset OR the reference is 0 OR |a - b| / |reference| > rel_tolerance): a
    zero reference with a difference fails.

    Returns one row per failing group: the group keys, `actual` (model),
    `expected` (compare), `abs_diff`, `rel_diff`, `status` ('missing in
    model', 'missing in compare', 'null value', 'out of tolerance') and
    `severity_level` (1 warn, 2 error). The tiers are configured by the test
    itself (fail_calc = the highest severity_level; warn_if >=1, error_if
    >=2), so a usage needs no config; without tier arguments every returned
    row is an error. Improves on
    dbt_expectations.expect_column_sum_to_equal / equal_expression, which
    inner-join groups and divide by the model side.
-#}
{% test dq_reconcile_aggregate(model, expression, compare_model, compare_expression=none, group_by=none, compare_group_by=none, row_condition=none, compare_row_condition=none, abs_tolerance=0, rel_tolerance=none, relative_to='compare', missing_group='fail', null_is_failure=true, warn_abs_tolerance=none, warn_rel_tolerance=none) %}
{#- tiers: severity_level 1 warns, 2 fails; set here, so no usage can forget them -#}
{{ config(fail_calc="coalesce(max(severity_level), 0)", warn_if=">=1", error_if=">=2") }}

{%- set keys = group_by or [] -%}
{%- set compare_keys = compare_group_by or keys -%}
{%- if compare_keys | length != keys | length -%}
    {{ exceptions.raise_compiler_error("dq_reconcile_aggregate: group_by and compare_group_by differ in length") }}
{%- endif -%}
{%- if relative_to not in ['compare', 'model'] -%}
    {{ exceptions.raise_compiler_error("dq_reconcile_aggregate: relative_to must be 'compare' or 'model'") }}
{%- endif -%}
{%- if missing_group not in ['fail', 'warn', 'ignore', 'zero'] -%}
    {{ exceptions.raise_compiler_error("dq_reconcile_aggregate: missing_group must be fail, warn, ignore or zero") }}
{%- endif -%}
{%- set reference = 'expected' if relative_to == 'compare' else 'actual' -%}
{%- set tiers = [[abs_tolerance, rel_tolerance, 'out of tolerance']] -%}
{%- if warn_abs_tolerance is not none or warn_rel_tolerance is not none -%}
    {%- do tiers.append([warn_abs_tolerance, warn_rel_tolerance, 'out of warn tolerance']) -%}
{%- endif -%}
{%- set key_columns = [] -%}
{%- for column in keys -%}{%- do key_columns.append('dq_key_' ~ loop.index) -%}{%- endfor -%}

with

model_side as (

    select
        {% for column in keys %}{{ column }} as dq_key_{{ loop.index }}, {% endfor %}
        true as in_model,
        {{ expression }} as actual

    from {{ model }}
    where {{ row_condition if row_condition else 'true' }}
    {%- if keys %}
    group by {{ keys | join(', ') }}
    {%- endif %}

),

compare_side as (

    select
        {% for column in compare_keys %}{{ column }} as dq_key_{{ loop.index }}, {% endfor %}
        true as in_compare,
        {{ compare_expression or expression }} as expected

    from {{ compare_model }}
    where {{ compare_row_condition if compare_row_condition else 'true' }}
    {%- if compare_keys %}
    group by {{ compare_keys | join(', ') }}
    {%- endif %}

),

{%- if keys %}

all_keys as (

    select {{ key_columns | join(', ') }} from model_side
    union
    select {{ key_columns | join(', ') }} from compare_side

),

joined as (

    select
        {% for column in keys %}all_keys.dq_key_{{ loop.index }} as {{ column }}, {% endfor %}
        model_side.actual,
        compare_side.expected,
        model_side.in_model is null as missing_in_model,
        compare_side.in_compare is null as missing_in_compare

    from all_keys
    left join model_side
        on
            {% for key in key_columns -%}
            {% if not loop.first %}and {% endif %}model_side.{{ key }} is not distinct from all_keys.{{ key }}
            {% endfor %}
    left join compare_side
        on
            {% for key in key_columns -%}
            {% if not loop.first %}and {% endif %}compare_side.{{ key }} is not distinct from all_keys.{{ key }}
            {% endfor %}

),
{%- else %}

joined as (

    select
        model_side.actual,
        compare_side.expected,
        false as missing_in_model,
        false as missing_in_compare

    from model_side
    cross join compare_side

),
{%- endif %}

valued as (

    select
        {% for column in keys %}{{ column }}, {% endfor %}
        missing_in_model,
        missing_in_compare,
        {%- if missing_group == 'zero' %}
        case when missing_in_model then 0 else actual end as actual,
        case when missing_in_compare then 0 else expected end as expected
        {%- elif not null_is_failure %}
        coalesce(actual, 0) as actual,
        coalesce(expected, 0) as expected
        {%- else %}
        actual,
        expected
        {%- endif %}

    from joined

),

diffed as (

    select
        *,
        abs(actual - expected) as abs_diff,
        {{ safe_divide('abs(actual - expected)', 'abs(' ~ reference ~ ')') }} as rel_diff

    from valued

),

graded as (

    select
        *,
        case
            {%- if missing_group != 'zero' %}
            when missing_in_model then 'missing in model'
            when missing_in_compare then 'missing in compare'
            {%- endif %}
            when actual is null or expected is null then 'null value'
            {%- for abs_tol, rel_tol, label in tiers %}
            when
                abs_diff > {{ abs_tol if abs_tol is not none else 0 }}
                {%- if rel_tol is not none %}
                and (coalesce({{ reference }}, 0) = 0 or rel_diff > {{ rel_tol }})
                {%- endif %}
                then '{{ label }}'
            {%- endfor %}
        end as status

    from diffed

)

select
    {% for column in keys %}{{ column }}, {% endfor %}
    actual,
    expected,
    abs_diff,
    rel_diff,
    status,
    case
        when status in ('missing in model', 'missing in compare')
            then {{ {'fail': 2, 'warn': 1, 'ignore': 0, 'zero': 0}[missing_group] }}
        when status = 'out of warn tolerance' then 1
        else 2
    end as severity_level

from graded
where
    status is not null
    {%- if missing_group == 'ignore' %}
    and status not in ('missing in model', 'missing in compare')
    {%- endif %}

{% endtest %}
