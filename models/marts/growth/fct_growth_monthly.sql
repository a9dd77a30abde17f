with

months as (

    select * from {{ ref('int_activity_months_aggregated') }}

),

with_previous as (

    select
        activity_month as month,
        monthly_active_users,
        new_users,
        lag(monthly_active_users) over (order by activity_month) as previous_monthly_active_users

    from months

),

final as (

    select
        month,
        cast(monthly_active_users as bigint) as monthly_active_users,
        cast(new_users as bigint) as new_users,
        cast(previous_monthly_active_users as bigint) as previous_monthly_active_users,
        {{ safe_divide(
            'monthly_active_users - previous_monthly_active_users',
            'previous_monthly_active_users'
        ) }} as mau_growth_rate

    from with_previous

)

select
    month,
    monthly_active_users,
    new_users,
    previous_monthly_active_users,
    mau_growth_rate

from final
