{{ config(meta={
    "gate": "partial",
    "gate_reason": "a mismatch means the growth figures are wrong, never the engagement figures",
}) }}
-- Invariant: every month of the audited investor growth figures agrees with the canonical
-- daily activity model: MAU equals its distinct users in the month. It reads only the growth
-- figures and their own input, so a failure holds back fct_growth_monthly and nothing else.
-- Each failing row names the month, the mart, the measure and both values.
with

user_days as (

    select * from {{ ref('int_events_aggregated_to_user_days') }}

),

growth as (

    select * from {{ ref('int_growth_monthly_audited') }}

),

canonical_mau as (

    select
        activity_month as month,
        count(distinct user_id) as monthly_active_users

    from user_days
    group by activity_month

),

checks as (

    select
        coalesce(growth.month, canonical_mau.month) as month,
        'fct_growth_monthly' as mart,
        'monthly_active_users' as measure,
        cast(growth.monthly_active_users as {{ type_double() }}) as mart_value,
        cast(canonical_mau.monthly_active_users as {{ type_double() }}) as canonical_value

    from growth
    full outer join canonical_mau
        on growth.month = canonical_mau.month

)

select * from checks
where
    -- a month of the mart with no activity at all has no canonical rows: it must show 0
    mart_value is null
    or abs(mart_value - coalesce(canonical_value, 0)) > 1e-9
