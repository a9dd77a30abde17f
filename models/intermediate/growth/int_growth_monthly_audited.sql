-- The audit step of the investors' monthly growth: computed and tested here,
-- published by fct_growth_monthly only when every blocking test upstream passed.
with

completeness as (

    select * from {{ ref('int_events_completeness_monthly') }}

),

months as (

    select * from {{ ref('int_activity_months_aggregated') }}

),

with_status as (

    select
        activity_month as month,
        monthly_active_users,
        new_users,
        {{ period_status('activity_month', 'month', 'days_with_data') }}

    from months

),

with_previous as (

    select
        *,
        lag(monthly_active_users) over (order by month) as previous_monthly_active_users,
        lag(is_closed) over (order by month) as previous_is_closed

    from with_status

),

final as (

    select
        with_previous.month,
        cast(with_previous.monthly_active_users as bigint) as monthly_active_users,
        cast(with_previous.new_users as bigint) as new_users,
        cast(with_previous.previous_monthly_active_users as bigint) as previous_monthly_active_users,
        -- growth only between two closed months: an open or partial month is no collapse
        case
            when with_previous.is_closed and with_previous.previous_is_closed
                then {{ safe_divide(
                    'with_previous.monthly_active_users - with_previous.previous_monthly_active_users',
                    'with_previous.previous_monthly_active_users'
                ) }}
        end as mau_growth_rate,
        with_previous.days_in_period,
        with_previous.days_with_data,
        with_previous.is_closed,
        coalesce(completeness.input_completeness_rate, 1.0) as input_completeness_rate

    from with_previous
    left join completeness
        on with_previous.month = completeness.received_month

)

select * from final
