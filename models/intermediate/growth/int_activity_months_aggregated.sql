-- One row per calendar month of activity data: monthly active users
-- (distinct non-test users active at least once in the month; never a sum
-- of daily counts), new users and the average of DAU over the month's days.
with

user_days as (

    select * from {{ ref('int_events_aggregated_to_user_days') }}

),

days as (

    select * from {{ ref('int_activity_days_spined') }}

),

users as (

    select * from {{ ref('stg_app__users') }}

),

-- sign-ups by month from the users themselves, not summed over the days of
-- activity data: the sign-ups before the first active day count too
monthly_new as (

    select
        {{ month_start('signed_up_date') }} as activity_month,
        count(*) as new_users

    from users
    where not is_test_account
    group by {{ month_start('signed_up_date') }}

),

monthly_active as (

    select
        activity_month,
        count(distinct user_id) as monthly_active_users

    from user_days
    group by activity_month

),

monthly_days as (

    select
        activity_month,
        avg(cast(active_users as {{ type_double() }})) as avg_daily_active_users,
        count(*) as days_with_data

    from days
    group by activity_month

),

final as (

    select
        monthly_days.activity_month,
        monthly_days.avg_daily_active_users,
        monthly_days.days_with_data,
        coalesce(monthly_new.new_users, 0) as new_users,
        coalesce(monthly_active.monthly_active_users, 0) as monthly_active_users

    from monthly_days
    left join monthly_active
        on monthly_days.activity_month = monthly_active.activity_month
    left join monthly_new
        on monthly_days.activity_month = monthly_new.activity_month

)

select * from final
