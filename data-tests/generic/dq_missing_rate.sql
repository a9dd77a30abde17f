{#-
    dq_missing_rate: the share of missing values of `column_name` stays under
    a cap, per group (typically per day) or over the whole model.

    Arguments
      column_name           the column to check
      max_rate              error tier: fraction 0-1 of missing rows allowed
      group_by              optional list of column names (e.g. [event_date])
      row_condition         optional SQL filter applied first
      blank_is_missing      true: '' and whitespace-only strings count as missing
      extra_missing_values  optional list of string values that also count as
                            missing (compared as text: ['N/A', 'unknown'])
      min_rows              groups with fewer rows fail as "insufficient data"
                            (default 1, so an empty model fails)
      warn_rate             optional warn tier (fraction 0-1, below max_rate)

    rate = missing / rows. Returns one row per group over a tier: the group
    keys, `n_rows`, `n_missing`, `actual` (the rate), `expected` (the cap
    that was crossed), `reason` and `severity_level` (1 warn, 2 error).
    The tiers are configured by the test itself (fail_calc = the highest
    severity_level; warn_if >=1, error_if >=2), so a usage needs no config.
    Soda's missing_percent / Great Expectations' `mostly` equivalent.
-#}
{% test dq_missing_rate(model, column_name, max_rate, group_by=none, row_condition=none, blank_is_missing=false, extra_missing_values=none, min_rows=1, warn_rate=none) %}
{#- tiers: severity_level 1 warns, 2 fails; set here, so no usage can forget them -#}
{{ config(fail_calc="coalesce(max(severity_level), 0)", warn_if=">=1", error_if=">=2") }}

with

filtered as (

    select
        {% for column in group_by or [] %}{{ column }}, {% endfor %}
        case
            when {{ column_name }} is null then 1
            {%- if blank_is_missing %}
            when trim(cast({{ column_name }} as {{ dbt.type_string() }})) = '' then 1
            {%- endif %}
            {%- if extra_missing_values %}
            when cast({{ column_name }} as {{ dbt.type_string() }}) in (
                {%- for value in extra_missing_values %}'{{ value }}'{% if not loop.last %}, {% endif %}{% endfor -%}
            ) then 1
            {%- endif %}
            else 0
        end as is_missing

    from {{ model }}
    where {{ row_condition if row_condition else 'true' }}

),

{#- the anchor keeps one (all-NULL) group when the model is empty, so an
    empty model is reported as insufficient data instead of passing -#}
rates as (

    select
        {% for column in group_by or [] %}filtered.{{ column }}, {% endfor %}
        count(filtered.is_missing) as n_rows,
        coalesce(sum(filtered.is_missing), 0) as n_missing,
        {{ safe_divide('sum(filtered.is_missing)', 'count(filtered.is_missing)') }} as actual

    from (select 1 as anchor) as anchor
    left join filtered on true
    {%- if group_by %}
    group by {% for column in group_by %}filtered.{{ column }}{% if not loop.last %}, {% endif %}{% endfor %}
    {%- endif %}

),

graded as (

    select
        *,
        case
            when n_rows < {{ min_rows }} then 'insufficient data'
            when actual > {{ max_rate }} then 'over max_rate'
            {%- if warn_rate is not none %}
            when actual > {{ warn_rate }} then 'over warn_rate'
            {%- endif %}
        end as reason

    from rates

)

select
    *,
    case
        when reason = 'over warn_rate' then {{ warn_rate if warn_rate is not none else 'null' }}
        when reason = 'over max_rate' then {{ max_rate }}
    end as expected,
    case when reason = 'over warn_rate' then 1 else 2 end as severity_level

from graded
where reason is not null

{% endtest %}
