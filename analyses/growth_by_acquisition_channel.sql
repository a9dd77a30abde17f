-- Growth by acquisition channel: new users and monthly active users per
-- month and acquisition channel (non-test users).
-- Governed metrics, the same figures: .venv/bin/mf query --metrics
--   monthly_active_users,new_users --group-by metric_time__month,user__acquisition_channel
-- (docs/semantic-layer.md). Summed over the channels, each month equals
-- fct_growth_monthly (a test restates it: tests/python/analyses).
with

users as (

    select * from {{ ref('dim_users') }}

),

user_days as (

    select * from {{ ref('int_events_aggregated_to_user_days') }}

),

new_by_channel as (

    select
        {{ month_start('signed_up_date') }} as month,
        coalesce(acquisition_channel, 'unknown') as acquisition_channel,
        count(*) as new_users

    from users
    where not is_test_account
    group by 1, 2

),

active_by_channel as (

    select
        user_days.activity_month as month,
        coalesce(users.acquisition_channel, 'unknown') as acquisition_channel,
        count(distinct user_days.user_id) as monthly_active_users

    from user_days
    inner join users
        on user_days.user_id = users.user_id
    group by 1, 2

)

select
    coalesce(active_by_channel.month, new_by_channel.month) as month,
    coalesce(active_by_channel.acquisition_channel, new_by_channel.acquisition_channel)
        as acquisition_channel,
    coalesce(new_by_channel.new_users, 0) as new_users,
    coalesce(active_by_channel.monthly_active_users, 0) as monthly_active_users

from active_by_channel
full outer join new_by_channel
    on
        active_by_channel.month = new_by_channel.month
        and active_by_channel.acquisition_channel = new_by_channel.acquisition_channel
order by 1, 2
