with

days as (

    select * from {{ ref('int_activity_days_spined') }}

),

reported as (

    select * from {{ ref('stg_analytics__active_user_counts') }}

),

final as (

    select
        days.activity_date,
        cast(days.active_users as bigint) as active_users,
        cast(days.new_users as bigint) as new_users,
        cast(reported.active_users as bigint) as reported_active_users,
        cast(days.active_users - reported.active_users as bigint) as active_users_difference

    from days
    left join reported
        on days.activity_date = reported.activity_date

)

select
    activity_date,
    active_users,
    new_users,
    reported_active_users,
    active_users_difference

from final
