{#-
    dq_recency: the newest timestamp is recent enough, overall or per group.

    Arguments
      timestamp_column  timestamp (or date) column; defaults to the column the
                        test is placed on (column-level `data_tests:`)
      max_age           error tier: newest row older than now - max_age
                        `period`s fails
      period            unit of max_age for dbt.dateadd ('hour' default, 'day', ...)
      group_by          optional list of column names; each group is checked
      row_condition     optional SQL filter applied first
      ignore_future     true (default): rows after "now" are ignored, so a
                        2099-12-31 default cannot make a stale table look fresh
      warn_max_age      optional warn tier (smaller than max_age), same unit

    "Now" is as_of_timestamp() (var `as_of`, else the run start, UTC), so a
    replay with --vars '{as_of: ...}' judges the data as of that time.
    An empty (filtered) model fails; so does a group whose only rows lie in
    the future. Returns one row per failing group: the group keys, `actual`
    (newest timestamp), `expected` (the oldest acceptable newest timestamp
    of the crossed tier), `age_periods`, `n_rows` and `severity_level`
    (1 warn, 2 error). The tiers are configured by the test itself (fail_calc =
    the highest severity_level; warn_if >=1, error_if >=2), so a usage needs
    no config. Mirrors dbt_expectations.expect_row_values_to_have_recent_data
    / dbt_utils.recency, which pass an empty table or future-dated rows.
-#}
{% test dq_recency(model, timestamp_column=none, max_age=none, period='hour', group_by=none, row_condition=none, ignore_future=true, warn_max_age=none, column_name=none) %}
{#- tiers: severity_level 1 warns, 2 fails; set here, so no usage can forget them -#}
{{ config(fail_calc="coalesce(max(severity_level), 0)", warn_if=">=1", error_if=">=2") }}

{%- set timestamp_column = timestamp_column or column_name -%}
{%- if timestamp_column is none or max_age is none -%}
    {{ exceptions.raise_compiler_error("dq_recency: timestamp_column (or a column-level placement) and max_age are required") }}
{%- endif -%}

{%- set keys = group_by or [] -%}
{%- set now = as_of_timestamp() -%}

with

filtered as (

    select
        {% for column in keys %}{{ column }}, {% endfor %}
        cast({{ timestamp_column }} as {{ dbt.type_timestamp() }}) as event_at

    from {{ model }}
    where {{ row_condition if row_condition else 'true' }}

),

{#- the anchor keeps one (all-NULL) group when the model is empty -#}
latest as (

    select
        {% for column in keys %}filtered.{{ column }}, {% endfor %}
        max(
            {%- if ignore_future %}
            case when filtered.event_at <= {{ now }} then filtered.event_at end
            {%- else %}
            filtered.event_at
            {%- endif %}
        ) as actual,
        count(filtered.event_at) as n_rows

    from (select 1 as anchor) as anchor
    left join filtered on true
    {%- if keys %}
    group by {% for column in keys %}filtered.{{ column }}{% if not loop.last %}, {% endif %}{% endfor %}
    {%- endif %}

),

graded as (

    select
        *,
        {{ dbt.datediff('actual', now, period) }} as age_periods,
        case
            when actual is null or actual < {{ dbt.dateadd(period, -1 * max_age, now) }} then 2
            {%- if warn_max_age is not none %}
            when actual < {{ dbt.dateadd(period, -1 * warn_max_age, now) }} then 1
            {%- endif %}
            else 0
        end as severity_level

    from latest

)

select
    *,
    case
        when severity_level = 2 then {{ dbt.dateadd(period, -1 * max_age, now) }}
        {%- if warn_max_age is not none %}
        else {{ dbt.dateadd(period, -1 * warn_max_age, now) }}
        {%- endif %}
    end as expected

from graded
where severity_level > 0

{% endtest %}
