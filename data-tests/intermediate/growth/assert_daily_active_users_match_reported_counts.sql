-- Invariant: the canonical DAU equals the official count in analytics.active_user_counts on
-- every closed day (older than the late-data window of 2 days before as_of; any difference or a
-- day missing on either side is an error), and is within 0.5 % of it on the open days (a
-- warning).
-- Each failing row names the day, both counts, the difference and its severity level (1 warn, 2
-- error).
{{ config(
    fail_calc='coalesce(max(severity_level), 0)',
    warn_if='>=1',
    error_if='>=2',
) }}

with

canonical as (

    select * from {{ ref('int_activity_days_spined') }}

),

reported as (

    select * from {{ ref('stg_analytics__active_user_counts') }}

),

compared as (

    select
        coalesce(canonical.activity_date, reported.activity_date) as activity_date,
        canonical.active_users,
        reported.active_users as reported_active_users,
        coalesce(canonical.active_users, 0) - coalesce(reported.active_users, 0) as difference,
        coalesce(canonical.activity_date, reported.activity_date)
        < {{ dbt.dateadd('day', -var('late_data_days'), 'cast(' ~ as_of_timestamp() ~ ' as date)') }}
            as is_closed_day

    from canonical
    full outer join reported
        on canonical.activity_date = reported.activity_date

),

graded as (

    select
        *,
        case
            -- a day outside our data that the official count also shows as 0 is fine
            when active_users is null and reported_active_users = 0 then 0
            when difference = 0 and active_users is not null and reported_active_users is not null then 0
            when is_closed_day then 2
            when active_users is null or reported_active_users is null then 1
            when abs(difference) > {{ var('open_day_rel_tolerance') }} * reported_active_users then 1
            else 0
        end as severity_level

    from compared

)

select * from graded
where severity_level > 0
