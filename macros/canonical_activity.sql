{#- The rows where an audited monthly investor model disagrees with the canonical daily
    activity model (int_events_aggregated_to_user_days): MAU must equal its distinct
    users in the month and, with `avg_dau=true`, average DAU the mean of its daily
    distinct users over the month's days (int_activity_days_spined). One failing row
    names the month, the mart, the measure and both values. The body of the singular
    tests data-tests/intermediate/growth/assert_investor_*_agrees_with_canonical_activity.sql. -#}
{% macro canonical_activity_mismatches(audited, mart, avg_dau=false) -%}
with

user_days as (

    select * from {{ ref('int_events_aggregated_to_user_days') }}

),

audited as (

    select * from {{ audited }}

),

canonical_mau as (

    select
        activity_month as month,
        count(distinct user_id) as monthly_active_users

    from user_days
    group by activity_month

),
{%- if avg_dau %}

days as (

    select * from {{ ref('int_activity_days_spined') }}

),

canonical_daily as (

    select
        activity_date,
        count(distinct user_id) as active_users

    from user_days
    group by activity_date

),

canonical_avg_dau as (

    select
        days.activity_month as month,
        avg(cast(coalesce(canonical_daily.active_users, 0) as {{ type_double() }}))
            as avg_daily_active_users

    from days
    left join canonical_daily
        on days.activity_date = canonical_daily.activity_date
    group by days.activity_month

),
{%- endif %}

checks as (

    select
        coalesce(audited.month, canonical_mau.month) as month,
        '{{ mart }}' as mart,
        'monthly_active_users' as measure,
        cast(audited.monthly_active_users as {{ type_double() }}) as mart_value,
        cast(canonical_mau.monthly_active_users as {{ type_double() }}) as canonical_value

    from audited
    full outer join canonical_mau
        on audited.month = canonical_mau.month
    {%- if avg_dau %}

    union all

    select
        coalesce(audited.month, canonical_avg_dau.month) as month,
        '{{ mart }}' as mart,
        'avg_daily_active_users' as measure,
        audited.avg_daily_active_users as mart_value,
        canonical_avg_dau.avg_daily_active_users as canonical_value

    from audited
    full outer join canonical_avg_dau
        on audited.month = canonical_avg_dau.month
    {%- endif %}

)

select * from checks
where
    -- a month of the mart with no activity at all has no canonical rows: it must show 0
    mart_value is null
    or abs(mart_value - coalesce(canonical_value, 0)) > 1e-9
{%- endmacro %}
