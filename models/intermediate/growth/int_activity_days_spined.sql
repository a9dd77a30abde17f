-- One row per UTC day from the first to the last day of activity data, with
-- active and new non-test users (zero where nothing happened), so a missing
-- day shows as a zero row rather than being silently absent.
with

user_days as (

    select * from {{ ref('int_events_aggregated_to_user_days') }}

),

users as (

    select * from {{ ref('stg_app__users') }}

),

calendar as (

    select * from {{ ref('int_calendar_days_spined') }}

),

bounds as (

    select
        min(activity_date) as first_date,
        max(activity_date) as last_date

    from user_days

),

days as (

    select
        calendar.date_day as activity_date,
        calendar.month_start_date as activity_month

    from calendar
    inner join bounds
        on calendar.date_day between bounds.first_date and bounds.last_date

),

daily_active as (

    select
        activity_date,
        count(*) as active_users

    from user_days
    group by activity_date

),

daily_new as (

    select
        signed_up_date,
        count(*) as new_users

    from users
    where not is_test_account
    group by signed_up_date

),

final as (

    select
        days.activity_date,
        days.activity_month,
        coalesce(daily_active.active_users, 0) as active_users,
        coalesce(daily_new.new_users, 0) as new_users

    from days
    left join daily_active
        on days.activity_date = daily_active.activity_date
    left join daily_new
        on days.activity_date = daily_new.signed_up_date

)

select * from final
